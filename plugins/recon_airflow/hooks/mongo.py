"""One way to reach MongoDB from an Airflow connection: ``mongo_client(conn_id)``.

The provider's MongoHook builds the client from the connection (its extras are pymongo's
options); this adds short timeouts unless the extras set them, and turns a server that does not
answer into ``MongoUnavailableError`` naming the connection: transient, so Airflow retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

from recon_airflow.errors import ServiceUnavailableError

if TYPE_CHECKING:
    from pymongo import MongoClient

# The provider and pymongo are imported where used: DAG files import the operators that use this.

# Short enough that a dead server fails the try in seconds (pymongo waits 30 s by default);
# the connection's extras win, so a slow link can ask for more.
CLIENT_DEFAULTS: Final[dict[str, int]] = {
    "serverSelectionTimeoutMS": 5_000,
    "connectTimeoutMS": 5_000,
}


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
            timeout = client.options.server_selection_timeout
            reason = str(err).split(", Timeout:")[0][:300]
            raise MongoUnavailableError(
                f"MongoDB connection `{conn_id}` ({where}) is unreachable: no answer within "
                f"{timeout:g} s ({type(err).__name__}: {reason}); the task will be retried"
            ) from err


__all__ = ["CLIENT_DEFAULTS", "MongoUnavailableError", "mongo_client"]
