"""Every bound recon puts on waiting for a service, in one table: the defaults and why.

A client's default applies only where its Airflow connection's extras do not set the same
option, so a slow link asks for more in the connection, never in code (the README's Timeouts
table lists each extra). A bound that is hit raises a retryable error (a
``ServiceUnavailableError`` naming the service and the bound): the task's retries and backoff
apply, then the failure alert. The execution timeouts are the backstop behind them: a task
class's own bound on one try, for whatever no client timeout covers.

Why these values: each is about 20-100x the longest wait measured for that step at 1M rows
per source (README, Performance), so a healthy service never hits one, and a frozen one
fails the try within minutes instead of holding a worker slot until someone notices.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

# -- Postgres (libpq parameters and session settings; extras: the same names) --------------
# the TCP connection and the server's answer to the start-up, together
POSTGRES_CONNECT_TIMEOUT: Final = 10
# server-side, per statement: the largest COPY of a load (110k breaks) takes 2 s, the ledger
# extract of 3M rows 6 s
POSTGRES_STATEMENT_TIMEOUT: Final = "120s"
# waiting for a lock: two loads of one partition serialise on it, for the seconds a load takes
POSTGRES_LOCK_TIMEOUT: Final = "60s"
# the server ends a transaction whose client went silent (a killed worker), freeing its locks
POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT: Final = "300s"
# a dead host or a cut network: unanswered packets fail the connection after 60 s
POSTGRES_TCP: Final = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}
# a server that does not even enforce its own statement_timeout (frozen, or its answers lost):
# the client gives up this long after it (capped at the timeout itself when that is shorter)
POSTGRES_CLIENT_GRACE: Final = 30.0

# -- MongoDB (pymongo client options; extras: the same names) ------------------------------
MONGO_CLIENT: Final = {
    "serverSelectionTimeoutMS": 5_000,  # no server answers: fail the try in seconds
    "connectTimeoutMS": 5_000,  # the TCP connection
    # one round trip: the ledger aggregation's first batch (5 s on the test server for 20k
    # transactions), a bulk write of 1,000 documents
    "socketTimeoutMS": 60_000,
}

# -- SFTP (SSH hook extras) -----------------------------------------------------------------
SFTP_CONN_TIMEOUT: Final = 10  # the TCP connection; banner and auth have the hook's 30 s
SFTP_READ_TIMEOUT: Final = 60.0  # one SFTP request (a 32 KiB read of the DBF, a stat)

# -- S3 (botocore ``config_kwargs`` extra) ---------------------------------------------------
S3_CONFIG: Final = {
    "connect_timeout": 10,
    "read_timeout": 60,  # one request's answer: an 8 MiB part of an upload, a download's chunk
    "retries": {"mode": "standard", "max_attempts": 3},  # botocore's own retries inside a try
}

# -- HTTP APIs (``http`` connection extras ``connect_timeout`` and ``timeout``) ------------
HTTP_CONNECT_TIMEOUT: Final = 10.0
HTTP_READ_TIMEOUT: Final = 30.0  # one page of a processor's list (100-500 records)

# -- alerts: the providers' own defaults, kept (extras ``timeout``) --------------------------
# SMTP: 30 s per socket operation (SmtpHook); Slack webhook: 30 s per request (slack_sdk).

# -- the backstop: one try of a task, by what it does ---------------------------------------
EXTRACT_EXECUTION_TIMEOUT: Final = dt.timedelta(minutes=30)  # 1M records: 20-35 s
RECONCILE_EXECUTION_TIMEOUT: Final = dt.timedelta(minutes=60)  # 100M rows a side: 104 s
LOAD_EXECUTION_TIMEOUT: Final = dt.timedelta(minutes=30)  # 110k breaks: 2 s (Mongo: minutes)
NOTIFY_EXECUTION_TIMEOUT: Final = dt.timedelta(minutes=10)  # two sends of at most ~1 min each
SENSOR_POKE_TIMEOUT: Final = dt.timedelta(minutes=5)  # one poke: connect, stat, disconnect
TASK_EXECUTION_TIMEOUT: Final = dt.timedelta(minutes=60)  # any other task (plan, merge, publish)


class DagWideTimeout(dt.timedelta):
    """The DAG-wide ``execution_timeout`` of ``default_args``: a task class with a bound of its
    own (``with_execution_timeout``) takes its own instead; one given to a task is kept."""


def with_execution_timeout(kwargs: dict[str, Any], bound: dt.timedelta) -> dict[str, Any]:
    """``kwargs`` of an operator with ``bound`` as its ``execution_timeout`` unless the task
    was given one (the DAG-wide default does not count: the class knows its work better)."""
    given = kwargs.get("execution_timeout")
    if given is None or isinstance(given, DagWideTimeout):
        kwargs["execution_timeout"] = bound
    return kwargs


__all__ = [
    "EXTRACT_EXECUTION_TIMEOUT",
    "HTTP_CONNECT_TIMEOUT",
    "HTTP_READ_TIMEOUT",
    "LOAD_EXECUTION_TIMEOUT",
    "MONGO_CLIENT",
    "NOTIFY_EXECUTION_TIMEOUT",
    "POSTGRES_CLIENT_GRACE",
    "POSTGRES_CONNECT_TIMEOUT",
    "POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT",
    "POSTGRES_LOCK_TIMEOUT",
    "POSTGRES_STATEMENT_TIMEOUT",
    "POSTGRES_TCP",
    "RECONCILE_EXECUTION_TIMEOUT",
    "S3_CONFIG",
    "SENSOR_POKE_TIMEOUT",
    "SFTP_CONN_TIMEOUT",
    "SFTP_READ_TIMEOUT",
    "TASK_EXECUTION_TIMEOUT",
    "DagWideTimeout",
    "with_execution_timeout",
]
