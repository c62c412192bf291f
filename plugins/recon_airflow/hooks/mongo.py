"""One way to reach MongoDB from an Airflow connection: ``mongo_client(conn_id)``.

The provider's MongoHook builds the client from the connection (its extras are pymongo's
options); this adds bounded timeouts unless the extras set them (server selection, connect and
socket: ``recon_airflow.timeouts.MONGO_CLIENT``), and turns a server that does not answer in
time, or drops the connection, into ``MongoUnavailableError`` naming the connection and the
timeout: transient, so Airflow retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

from recon_airflow.errors import ServiceUnavailableError
from recon_airflow.timeouts import MONGO_CLIENT

if TYPE_CHECKING:
    from pymongo import MongoClient

# The provider and pymongo are imported where used: DAG files import the operators that use this.

# pymongo waits 30 s to select a server and forever for an answer by default; the
# connection's extras win, so a slow link can ask for more.
CLIENT_DEFAULTS: Final[dict[str, int]] = dict(MONGO_CLIENT)


class MongoUnavailableError(ServiceUnavailableError):
    """No MongoDB server answered for a connection: transient, so Airflow's retries apply."""


@contextmanager
def mongo_client(conn_id: str) -> Iterator[MongoClient[dict[str, Any]]]:
    """A client for the Airflow connection ``conn_id``, closed on exit.

    Connection errors inside the block become MongoUnavailableError naming the connection.
    """
    from airflow.providers.mongo.hooks.mongo import MongoHook
    from pymongo.errors import ConnectionFailure

    with MongoHook(mongo_conn_id=conn_id) as hook:
        present = {name.lower() for name in hook.extras}
        for name, value in CLIENT_DEFAULTS.items():
            if name.lower() not in present:
                hook.extras[name] = value
        client: MongoClient[dict[str, Any]] = hook.get_conn()
        try:
            yield client
        except ConnectionFailure as err:
            conn = hook.connection
            where = f"{conn.host}:{conn.port}" if conn.port else f"{conn.host}"
            raise MongoUnavailableError(
                f"MongoDB connection `{conn_id}` ({where}) {_what_failed(err, client)}; "
                "the task will be retried"
            ) from err


def _what_failed(err: Exception, client: MongoClient[dict[str, Any]]) -> str:
    from pymongo.errors import NetworkTimeout, ServerSelectionTimeoutError

    reason = str(err).split(", Timeout:")[0][:300]
    if isinstance(err, ServerSelectionTimeoutError):
        seconds = client.options.server_selection_timeout
        return (
            f"is unreachable: no server answered within serverSelectionTimeoutMS "
            f"{seconds * 1000:g} ({reason})"
        )
    if isinstance(err, NetworkTimeout):
        socket_timeout = client.options.pool_options.socket_timeout
        shown = f"{socket_timeout * 1000:g}" if socket_timeout is not None else "(none)"
        return f"did not answer within socketTimeoutMS {shown} ({type(err).__name__}: {reason})"
    return f"dropped the connection ({type(err).__name__}: {reason})"


__all__ = ["CLIENT_DEFAULTS", "MongoUnavailableError", "mongo_client"]
