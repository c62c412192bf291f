"""Postgres with bounded waits: ``postgres_session(hook)``, the one way recon opens a connection.

The provider's PostgresHook passes the connection's extras to libpq. Where they do not set
them, recon adds (values and reasons in ``recon_airflow.timeouts``):

- ``connect_timeout`` (the TCP connection and the server's start-up answer) and TCP
  keepalives with ``tcp_user_timeout`` (a dead host or a cut network);
- in ``options``, ``-c statement_timeout``, ``-c lock_timeout`` and
  ``-c idle_in_transaction_session_timeout``: the server ends a statement, a lock wait or an
  abandoned transaction that runs too long;
- a client-side bound for a server that cannot enforce those (frozen, or its answers lost): a
  command still in progress ``statement_timeout`` plus a grace after it started has its socket
  shut, so the driver fails instead of waiting forever (a frozen server still accepts TCP
  connections and acknowledges packets: no TCP timeout ever fires on its connections).

Any of these, and any other operational error (refused, dropped), becomes
``PostgresUnavailableError`` naming the connection, the server and the bound that was hit:
transient, so Airflow retries. SQL the server refuses (a syntax error, a missing table) is
left as it is for the caller to judge.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, cast

from recon_airflow.errors import BadInputError, ServiceUnavailableError
from recon_airflow.timeouts import (
    POSTGRES_CLIENT_GRACE,
    POSTGRES_CONNECT_TIMEOUT,
    POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT,
    POSTGRES_LOCK_TIMEOUT,
    POSTGRES_STATEMENT_TIMEOUT,
    POSTGRES_TCP,
)

if TYPE_CHECKING:
    import psycopg
    from airflow.providers.postgres.hooks.postgres import PostgresHook

# psycopg and the provider are imported where used: DAG files import the operators using this.

SESSION_DEFAULTS: Final[dict[str, str]] = {
    "statement_timeout": POSTGRES_STATEMENT_TIMEOUT,
    "lock_timeout": POSTGRES_LOCK_TIMEOUT,
    "idle_in_transaction_session_timeout": POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT,
}
LIBPQ_DEFAULTS: Final[dict[str, int]] = {
    "connect_timeout": POSTGRES_CONNECT_TIMEOUT,
    **POSTGRES_TCP,
}
_POLL: Final = 0.25  # how often the client-side bound looks at its connection
_UNITS: Final = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


class PostgresUnavailableError(ServiceUnavailableError):
    """Postgres did not answer within a bound, or dropped the connection: Airflow retries."""


def bounded_extras(extras: Mapping[str, Any], options: str | None = None) -> dict[str, Any]:
    """Connection extras with recon's timeouts added where ``extras`` do not set them.

    The session settings go into ``options`` (after any ``-c`` the extras already give, which
    win); the libpq parameters beside them.

    :param options: the hook's own ``options``, used when the extras have none (as the
        provider does).
    """
    bounded: dict[str, Any] = {**LIBPQ_DEFAULTS, **{str(k): v for k, v in extras.items()}}
    given = str(bounded.get("options") or options or "").strip()
    present = session_settings(given)
    added = [
        f"-c {name}={value}" for name, value in SESSION_DEFAULTS.items() if name not in present
    ]
    bounded["options"] = " ".join(part for part in (given, *added) if part)
    return bounded


def session_settings(options: str) -> dict[str, str]:
    """The ``-c name=value`` (or ``--name=value``) settings of a libpq ``options`` string."""
    words = shlex.split(options)
    found: dict[str, str] = {}
    for i, word in enumerate(words):
        setting = None
        if word == "-c" and i + 1 < len(words):
            setting = words[i + 1]
        elif (word.startswith("-c") and len(word) > 2) or word.startswith("--"):
            setting = word[2:]
        if setting and "=" in setting:
            name, _, value = setting.partition("=")
            found[name.strip().replace("-", "_")] = value.strip()
    return found


def seconds_of(value: str) -> float:
    """A Postgres duration setting (``120s``, ``2min``, ``1500`` = ms) in seconds; 0 = none."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", value.lower())
    if match is None or match.group(2) not in (*_UNITS, ""):
        raise ValueError(f"{value!r} is not a Postgres duration (e.g. 120s, 2min, 1500ms)")
    return float(match.group(1)) * _UNITS[match.group(2) or "ms"]


def bounded_hook(hook: PostgresHook) -> PostgresHook:
    """A PostgresHook on ``hook``'s connection with :func:`bounded_extras` applied."""
    import json

    import attrs
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    conn = hook.connection
    extra = json.dumps(bounded_extras(conn.extra_dejson, hook.options))
    return PostgresHook(
        postgres_conn_id=hook.get_conn_id(),
        connection=attrs.evolve(cast(Any, conn), extra=extra),  # an attrs class
        options=hook.options,
    )


@contextmanager
def postgres_session(hook: PostgresHook) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg 3 connection of ``hook``'s, with every bound above, closed on exit.

    Operational errors inside the block (and on connecting) become ``PostgresUnavailableError``.
    """
    import psycopg

    bounded = bounded_hook(hook)
    conn_id = hook.get_conn_id()
    extras = bounded.connection.extra_dejson
    settings = session_settings(str(extras.get("options") or ""))
    where = f"{bounded.connection.host}:{bounded.connection.port or 5432}"
    connect_timeout = extras.get("connect_timeout")
    try:
        statement = seconds_of(settings.get("statement_timeout", "0"))
    except ValueError as err:
        raise BadInputError(f"Postgres connection `{conn_id}`: statement_timeout {err}") from None
    try:
        conn = bounded.get_conn()
    except psycopg.OperationalError as err:
        raise PostgresUnavailableError(
            f"Postgres connection `{conn_id}` ({where}): no connection within connect_timeout "
            f"{connect_timeout} s ({_first_line(err)}); the task will be retried"
            if "timeout expired" in str(err)
            else f"Postgres connection `{conn_id}` ({where}) is unreachable "
            f"({_first_line(err)}); the task will be retried"
        ) from err
    if not isinstance(conn, psycopg.Connection):
        conn.close()
        raise TypeError("recon needs psycopg 3 for Postgres; the provider gave psycopg2")
    watchdog = _Watchdog(conn, statement + min(POSTGRES_CLIENT_GRACE, statement))
    if statement > 0:
        watchdog.start()
    try:
        yield conn
    except psycopg.OperationalError as err:
        raise PostgresUnavailableError(
            f"Postgres connection `{conn_id}` ({where}): {_what_failed(err, watchdog, settings)}; "
            "the task will be retried"
        ) from err
    finally:
        watchdog.done()
        conn.close()


def _what_failed(err: Exception, watchdog: _Watchdog, settings: Mapping[str, str]) -> str:
    import psycopg

    if watchdog.fired:
        return (
            f"no answer to a command for {watchdog.limit:g} s (statement_timeout "
            f"{settings.get('statement_timeout')} and a grace; the server is frozen or "
            "unreachable)"
        )
    if isinstance(err, psycopg.errors.LockNotAvailable):
        return f"waited over lock_timeout {settings.get('lock_timeout')} for a lock"
    if isinstance(err, psycopg.errors.QueryCanceled) and "statement timeout" in str(err):
        return f"a statement ran over statement_timeout {settings.get('statement_timeout')}"
    if isinstance(err, psycopg.errors.IdleInTransactionSessionTimeout):
        return (
            "the server ended the transaction after idle_in_transaction_session_timeout "
            f"{settings.get('idle_in_transaction_session_timeout')}"
        )
    return f"the connection failed ({type(err).__name__}: {_first_line(err)})"


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0][:300] if lines else type(err).__name__


class _Watchdog(threading.Thread):
    """Shuts the socket of ``conn`` once one command has been in progress for ``limit`` s.

    Polls the connection's transaction status (``ACTIVE`` while a command runs); the driver,
    blocked on the socket in another thread, then sees it closed and raises.
    """

    def __init__(self, conn: psycopg.Connection[Any], limit: float) -> None:
        super().__init__(name="recon-postgres-bound", daemon=True)
        self.conn = conn
        self.limit = limit
        self.fired = False
        self._stop = threading.Event()

    def done(self) -> None:
        self._stop.set()

    def run(self) -> None:
        from psycopg.pq import TransactionStatus

        since: float | None = None
        while not self._stop.wait(_POLL):
            if self.conn.closed:
                return
            if self.conn.info.transaction_status != TransactionStatus.ACTIVE:
                since = None
                continue
            since = since if since is not None else time.monotonic()
            if time.monotonic() - since >= self.limit:
                self.fired = True
                _shut(self.conn.fileno())
                return


def _shut(fd: int) -> None:
    """Shut the socket behind ``fd`` down for both directions (the descriptor stays open)."""
    with socket.socket(fileno=os.dup(fd)) as sock:
        sock.shutdown(socket.SHUT_RDWR)


__all__ = [
    "LIBPQ_DEFAULTS",
    "SESSION_DEFAULTS",
    "PostgresUnavailableError",
    "bounded_extras",
    "bounded_hook",
    "postgres_session",
    "seconds_of",
    "session_settings",
]
