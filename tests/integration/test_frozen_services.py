"""A frozen service fails the task that uses it within its timeout; the retry succeeds.

Each real embedded server is frozen (SIGSTOP on its processes: ``embedded.freeze``) while a
task of a real DAG uses it, under ``dag.test()``: the task's first try must fail within its
client timeout (small ones, from the connections' extras, as an operator would set them) with
a retryable error naming the service and the timeout, never hang; the server resumes in the
task's retry callback; the retry succeeds; and the rows in Postgres equal those of a clean run
of the same job. The servers that answer from a thread (SFTP, S3, SMTP) run in a process of
their own here (``embedded.child``), so freezing them leaves the test running.

Timeouts in these connections: Postgres connect 2 s and statement 3 s (a frozen server is
given up 6 s after a command started), S3 connect/read 2 s and one attempt, SFTP conn, banner
and read 2 s, SMTP 2 s. The bound asserted is that timeout plus 10 s: proof of no hang, not a
speed test.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from embedded.base import connection_env
from embedded.child import ChildServer
from embedded.dag_runs import pg_rows
from embedded.fixtures_airflow import dag_without_retries
from embedded.freeze import Freezable, freeze, frozen, resume

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 11, 21)
RUN_AT = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC)
JOB = "frozen-job"
MARGIN = 10.0  # seconds over a timeout that still prove "no hang"

BANK = b"order_id,amount\nA1,100.00\nA2,250.00\nA3,10.00\nA5,60.00\n"
LEDGER = b"order_id,amount\nA1,100.00\nA2,205.00\nA3,10.00\nA6,30.00\n"

# the small timeouts of these tests, as connection extras
PG_EXTRA = {"connect_timeout": 2, "options": "-c statement_timeout=3s"}
PG_BOUND = 3 + 3  # statement_timeout, and the client's grace (the timeout itself when < 30 s)
S3_EXTRA = {
    "config_kwargs": {"connect_timeout": 2, "read_timeout": 2, "retries": {"max_attempts": 1}}
}
SFTP_EXTRA = {"conn_timeout": 2, "banner_timeout": 2, "read_timeout": 2}
SMTP_EXTRA = {"timeout": 2}


@dataclass
class FirstTry:
    """What the frozen try of one task did: when it started, how long until it failed, why."""

    started: float | None = None
    failed_after: float | None = None
    error: str = ""
    exception: BaseException | None = None
    pids: list[int] = field(default_factory=list)


def freeze_during(
    dag: Any,
    task_id: str,
    server: Freezable,
    *,
    when: Callable[[], bool] | None = None,
    on_resume: Callable[[], None] | None = None,
) -> FirstTry:
    """Freeze ``server`` during the first try of ``task_id`` (as it starts, or once ``when()``
    says so), resume it in the retry callback; the task gets one retry, right away."""
    first = FirstTry()

    def frozen_now() -> None:
        first.pids = freeze(server)

    def watch() -> None:
        assert when is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not when():
            time.sleep(0.02)
        frozen_now()

    def on_execute(context: Any) -> None:
        if context["ti"].try_number != 1:
            return
        first.started = time.monotonic()
        if when is None:
            frozen_now()
        else:
            threading.Thread(target=watch, daemon=True).start()

    def on_retry(context: Any) -> None:
        assert first.started is not None
        first.failed_after = time.monotonic() - first.started
        exc = context.get("exception")
        first.exception = exc
        first.error = f"{type(exc).__name__}: {exc}"
        resume(server, first.pids)
        if on_resume is not None:
            on_resume()

    task = dag.get_task(task_id)
    settings = {
        "retries": 1,
        "retry_delay": dt.timedelta(0),
        "retry_exponential_backoff": False,
        # a guard only: the client timeouts must fire long before it
        "execution_timeout": dt.timedelta(seconds=60),
        "on_execute_callback": [on_execute],
        "on_retry_callback": [on_retry],
    }
    if hasattr(task, "partial_kwargs"):
        task.partial_kwargs.update(settings)
    else:
        for name, value in settings.items():
            setattr(task, name, value)
    return first


def assert_failed_in_time(first: FirstTry, words: tuple[str, ...], bound: float) -> None:
    from recon_airflow.errors import ServiceUnavailableError

    assert first.failed_after is not None, "the first try did not fail: was the server frozen?"
    assert first.failed_after < bound + MARGIN, f"{first.failed_after:.1f} s: {first.error}"
    assert isinstance(first.exception, ServiceUnavailableError), first.error
    assert "\n" not in str(first.exception), first.error
    for word in words:
        assert word in first.error, first.error


def try_numbers(run: Any) -> dict[str, tuple[str, int]]:
    return {ti.task_id: (ti.state, ti.try_number) for ti in run.get_task_instances()}


# -- file_recon: S3 and SFTP fetches, the Postgres load, the e-mail ---------------------------


@pytest.fixture(scope="module")
def child_s3() -> Iterator[ChildServer]:
    with ChildServer("s3") as server:
        yield server


@pytest.fixture(scope="module")
def child_sftp() -> Iterator[ChildServer]:
    with ChildServer("sftp") as server:
        yield server


@pytest.fixture(scope="module")
def child_smtp() -> Iterator[ChildServer]:
    with ChildServer("smtp") as server:
        yield server


def with_extra(env: dict[str, str], conn_id: str, extra: dict[str, Any]) -> None:
    name = f"AIRFLOW_CONN_{conn_id.upper()}"
    body = json.loads(env[name])
    body["extra"] = {**body.get("extra", {}), **extra}
    env[name] = json.dumps(body)


@pytest.fixture
def files_world(
    airflow_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    pg_clean: Any,
    child_s3: ChildServer,
    child_sftp: ChildServer,
    child_smtp: ChildServer,
) -> dict[str, Any]:
    """file_recon's servers: S3, SFTP and SMTP in processes of their own, small timeouts."""
    env = {**connection_env(pg_clean, child_s3, child_sftp, child_smtp)}
    with_extra(env, "recon_postgres", PG_EXTRA)
    with_extra(env, "recon_s3", S3_EXTRA)
    with_extra(env, "recon_sftp", SFTP_EXTRA)
    with_extra(env, "recon_smtp", SMTP_EXTRA)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import boto3

    s3 = json.loads(env["AIRFLOW_CONN_RECON_S3"])
    client = boto3.client(
        "s3",
        endpoint_url=s3["extra"]["endpoint_url"],
        region_name=s3["extra"]["region_name"],
        aws_access_key_id=s3["login"],
        aws_secret_access_key=s3["password"],
    )
    client.put_object(Bucket="recon-staging", Key="frozen/bank.csv", Body=BANK)
    root = child_sftp.info["root"]
    (folder := __import__("pathlib").Path(root) / "frozen").mkdir(exist_ok=True)
    (folder / "ledger.csv").write_bytes(LEDGER)
    return {"pg": pg_clean, "s3": child_s3, "sftp": child_sftp, "smtp": child_smtp}


CONF = {
    "left": "s3://recon-staging/frozen/bank.csv",
    "right": "sftp://recon_sftp/frozen/ledger.csv",
    "unique_fields": ["order_id"],
    "tolerances": {"amount": 0.01},
    "job_id": JOB,
    "business_date": DAY.isoformat(),
    "email": "analyst@example.test",
}


def stored_rows() -> dict[str, list[Any]]:
    """The job's partition as finance reads it, without ids, times and presigned links."""
    runs = pg_rows(
        "select source, business_date, status, matched, mismatched, left_only, right_only, "
        "duplicate, invalid, records, breaks, break_rate, risk_level, discrepancy_amount, "
        "inputs from recon.runs where recon = 'file_recon' and source = %s",
        JOB,
    )
    breaks = pg_rows(
        "select key, status, mismatched_fields, left_values, right_values, difference, "
        "break_amount, side, input_row, reason, first_seen_date, age_days from recon.breaks "
        "where recon = 'file_recon' and source = %s order by key_text, status",
        JOB,
    )
    return {"runs": runs, "breaks": breaks}


def run_job(dag: Any, minutes: int) -> Any:
    return dag.test(logical_date=RUN_AT + dt.timedelta(minutes=minutes), run_conf=CONF)


@pytest.fixture
def clean_rows(airflow_db: None, files_world: dict[str, Any]) -> dict[str, list[Any]]:
    """The partition a clean run leaves (then emptied again, for the frozen run to fill)."""
    run = run_job(dag_without_retries("file_recon"), 0)
    assert run.state == "success", try_numbers(run)
    rows = stored_rows()
    assert rows["runs"] and rows["breaks"]
    files_world["pg"].reset()
    return rows


def partition_lock_waiting(pg: Any) -> Callable[[], bool]:
    """True once a session waits for the job's partition lock (held by the test)."""

    def check() -> bool:
        with closing(psycopg.connect(pg.dsn, autocommit=True)) as conn:
            row = conn.execute(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                "and query like '%pg_advisory_xact_lock%'"
            ).fetchone()
        return bool(row and row[0])

    return check


@pytest.mark.parametrize(
    ("task_id", "service", "words", "bound"),
    [
        ("fetch_left", "s3", ("S3 connection `recon_s3`", "read_timeout 2 s"), 2),
        ("fetch_right", "sftp", ("SFTP connection 'recon_sftp'", "banner_timeout 2 s"), 2),
        (
            "load_postgres",
            "pg",
            ("Postgres connection `recon_postgres`", "statement_timeout 3s"),
            PG_BOUND,
        ),
        ("email_report", "smtp", ("SMTP connection `recon_smtp`", "timeout 2 s"), 2),
    ],
    ids=["s3-fetch", "sftp-fetch", "postgres-load", "smtp-email"],
)
def test_a_frozen_service_fails_the_try_in_time_and_the_retry_loads_the_same_rows(
    files_world: dict[str, Any],
    clean_rows: dict[str, list[Any]],
    task_id: str,
    service: str,
    words: tuple[str, ...],
    bound: float,
) -> None:
    dag = dag_without_retries("file_recon")
    server = files_world[service]
    when = None
    holder: psycopg.Connection[Any] | None = None
    if service == "pg":
        # the load waits for its partition's lock, held here: it is frozen mid-statement
        holder = psycopg.connect(server.dsn)
        holder.execute(
            "select pg_advisory_xact_lock(hashtext('recon.partition'), hashtext(%s))",
            (f"file_recon|{JOB}|{DAY.isoformat()}",),
        )
        when = partition_lock_waiting(server)
    first = freeze_during(
        dag,
        task_id,
        server,
        when=when,
        on_resume=holder.rollback if holder is not None else None,
    )
    try:
        run = run_job(dag, 10)
    finally:
        resume(server, first.pids)
        if holder is not None:
            holder.close()
    assert_failed_in_time(first, words, bound)
    tries = try_numbers(run)
    assert run.state == "success", (tries, first.error)
    assert tries[task_id] == ("success", 2)
    assert stored_rows() == clean_rows


# -- aum_recon: the MongoDB ledger ------------------------------------------------------------

AUM_DAY = dt.date(2026, 11, 20)
AUM_LOGICAL = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)
MONGO_EXTRA = {"serverSelectionTimeoutMS": 2000, "connectTimeoutMS": 2000, "socketTimeoutMS": 2000}


@pytest.fixture
def aum_world(
    airflow_db: None,
    airflow_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    pg_clean: Any,
    mongo_clean: Any,
    sftp_clean: Any,
    s3_clean: Any,
    smtp_clean: Any,
    slack_clean: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    from embedded.aum_world import seed_aum
    from worlds.aum import generate_aum

    sample = generate_aum(
        tmp_path_factory.mktemp("aum"), positions=30, business_date=AUM_DAY, seed=5
    )
    seed_aum(sftp_clean, mongo_clean.client(), sample)
    env = dict(airflow_env)
    with_extra(env, "recon_mongo", MONGO_EXTRA)
    monkeypatch.setenv("AIRFLOW_CONN_RECON_MONGO", env["AIRFLOW_CONN_RECON_MONGO"])
    return mongo_clean


def aum_rows() -> dict[str, list[Any]]:
    runs = pg_rows(
        "select source, matched, mismatched, left_only, right_only, records, breaks, inputs "
        "from recon.runs where recon = 'aum_recon' order by source"
    )
    breaks = pg_rows(
        "select source, key, status, left_values, right_values, difference, break_amount "
        "from recon.breaks where recon = 'aum_recon' order by source, key_text"
    )
    return {"runs": runs, "breaks": breaks}


def test_a_frozen_mongodb_fails_the_ledger_read_in_time_and_the_retry_reads_it_all(
    aum_world: Any,
) -> None:
    clean = dag_without_retries("aum_recon").test(
        logical_date=AUM_LOGICAL, run_conf={"business_date": AUM_DAY.isoformat()}
    )
    assert clean.state == "success", try_numbers(clean)
    rows = aum_rows()
    documents = aum_world.client()["recon"]["reconciliation_results"].count_documents({})
    assert rows["runs"] and documents

    dag = dag_without_retries("aum_recon")
    first = freeze_during(dag, "ledger_positions", aum_world)
    try:
        run = dag.test(
            logical_date=AUM_LOGICAL + dt.timedelta(hours=1),
            run_conf={"business_date": AUM_DAY.isoformat()},
        )
    finally:
        resume(aum_world, first.pids)
    assert_failed_in_time(
        first, ("MongoDB connection `recon_mongo`", "serverSelectionTimeoutMS 2000"), 2
    )
    tries = try_numbers(run)
    assert run.state == "success", (tries, first.error)
    assert tries["ledger_positions"] == ("success", 2)
    assert aum_rows() == rows
    assert aum_world.client()["recon"]["reconciliation_results"].count_documents({}) == documents


# -- a server frozen mid-session: the read timeouts of each client ----------------------------


@pytest.fixture(scope="module")
def child_api() -> Iterator[ChildServer]:
    with ChildServer("json_api") as server:
        yield server


def test_a_frozen_http_api_fails_the_request_within_its_timeout(
    child_api: ChildServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from embedded.child import PING
    from recon_airflow.hooks.http import HttpUnavailableError, JsonApiHook

    env = connection_env(child_api)
    with_extra(env, "recon_http", {"timeout": 2, "connect_timeout": 2})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    hook = JsonApiHook("recon_http", max_attempts=2, backoff=0.01)
    assert hook.get_json(PING) == {"ok": True}  # a keep-alive connection, then the freeze
    started = time.monotonic()
    with frozen(child_api), pytest.raises(HttpUnavailableError) as caught:
        hook.get_json(PING)
    assert time.monotonic() - started < 2 * 2 + MARGIN
    assert "HTTP connection 'recon_http': no answer: ReadTimeout (timeout 2 s)" in str(caught.value)
    assert hook.get_json(PING) == {"ok": True}  # resumed: the same hook goes on


def test_a_frozen_sftp_server_fails_a_request_within_read_timeout(
    files_world: dict[str, Any],
) -> None:
    from recon_airflow.hooks.sftp import BoundedSFTPHook

    hook = BoundedSFTPHook(ssh_conn_id="recon_sftp")
    with hook.get_managed_conn() as sftp:
        assert sftp.stat("/frozen/ledger.csv").st_size == len(LEDGER)
        started = time.monotonic()
        with frozen(files_world["sftp"]), pytest.raises(TimeoutError):
            sftp.stat("/frozen/ledger.csv")
        assert time.monotonic() - started < 2 + MARGIN


def test_a_frozen_mongodb_fails_an_operation_within_socket_timeout(
    mongo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recon_airflow.hooks.mongo import MongoUnavailableError, mongo_client

    env = connection_env(mongo)
    with_extra(env, "recon_mongo", MONGO_EXTRA)
    monkeypatch.setenv("AIRFLOW_CONN_RECON_MONGO", env["AIRFLOW_CONN_RECON_MONGO"])

    with pytest.raises(MongoUnavailableError) as caught, mongo_client("recon_mongo") as client:
        assert client["recon"].command("ping")["ok"] == 1
        started = time.monotonic()
        with frozen(mongo):
            client["recon"]["ledger_transactions"].find_one()
    # pymongo retries a read once: the retry may time out selecting the frozen server instead
    assert time.monotonic() - started < 2 * 2 + MARGIN
    text = str(caught.value)
    assert text.startswith("MongoDB connection `recon_mongo`"), text
    assert "socketTimeoutMS 2000" in text or "serverSelectionTimeoutMS 2000" in text, text


# -- the defaults, and that a connection's extras win ------------------------------------------


@pytest.mark.parametrize(
    ("extras", "options", "settings"),
    [
        (
            {},
            None,
            {"statement_timeout": "120s", "lock_timeout": "60s"},
        ),
        (
            {"options": "-c statement_timeout=5min -c search_path=ledger"},
            None,
            {"statement_timeout": "5min", "search_path": "ledger", "lock_timeout": "60s"},
        ),
        (
            {"connect_timeout": 3},
            "-c lock_timeout=1s",
            {"statement_timeout": "120s", "lock_timeout": "1s"},
        ),
    ],
    ids=["defaults", "extras-win", "hook-options-kept"],
)
def test_postgres_defaults_fill_in_what_the_connection_leaves_out(
    extras: dict[str, Any], options: str | None, settings: dict[str, str]
) -> None:
    from recon_airflow.hooks.postgres import bounded_extras, seconds_of, session_settings

    bounded = bounded_extras(extras, options)
    found = session_settings(bounded["options"])
    assert {name: found[name] for name in settings} == settings
    assert found["idle_in_transaction_session_timeout"] == "300s"
    assert bounded["connect_timeout"] == extras.get("connect_timeout", 10)
    assert bounded["tcp_user_timeout"] == 60_000
    assert [seconds_of(v) for v in ("120s", "2min", "1500", "0")] == [120, 120, 1.5, 0]
