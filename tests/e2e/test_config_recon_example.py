"""The shipped example recon definition end to end: ``config/recons/orders_s3_vs_ledger.yaml``.

Its DAG (made by ``dags/config_recons.py``) runs with ``dag.test()`` against the embedded
servers: the shop's CSV export on S3 (moto) against ``ledger.orders`` in Postgres, seeded by
``embedded.orders_seed`` with planted differences and their truth. The test reads what
finance would: ``recon.runs`` and ``recon.breaks``, the reports (local and archived on S3), the
e-mail and the Slack message; then runs the same date again (replaced, never duplicated).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from embedded.dag_runs import pg_rows, run_for, task_states
from embedded.orders_seed import EXAMPLE, OrdersDay, orders_day, seed_example
from recon.definitions import ReconDefinition, load_recon_definition

DAY = dt.date(2026, 11, 20)
LOGICAL = dt.datetime(2026, 11, 21, 7, 0, tzinfo=dt.UTC)  # the schedule's run for DAY
REPORTS = ("report.html", "breaks.csv", "report.xlsx", "report.json")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recon() -> ReconDefinition:
    return load_recon_definition(EXAMPLE)


@pytest.fixture(scope="module")
def day() -> OrdersDay:
    return orders_day(DAY)


@pytest.fixture(scope="module")
def example_dag(airflow_db: None, recon: ReconDefinition) -> Any:
    """The generated DAG, parsed from its generator file, task retries off (``dag.test()``
    would sleep through real retry delays)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLE.parents[2] / "dags" / "config_recons.py"))
    assert bag.import_errors == {}
    dag = bag.dags[recon.dag_id]
    for task in dag.tasks:
        task.retries = 0
    return dag


@pytest.fixture
def world(
    airflow_db: None,
    airflow_env: dict[str, str],
    pg_clean: Any,
    s3_clean: Any,
    smtp_clean: Any,
    slack_clean: Any,
    recon: ReconDefinition,
    day: OrdersDay,
) -> Iterator[dict[str, Any]]:
    # what `make airflow` seeds, where the example's YAML says the export is
    seeded = seed_example(SimpleNamespace(postgres=pg_clean, s3=s3_clean), DAY)  # type: ignore
    assert seeded == day
    yield {"s3": s3_clean, "smtp": smtp_clean, "slack": slack_clean, "env": airflow_env}


def expected_breaks(recon: ReconDefinition, day: OrdersDay) -> set[tuple[str, str]]:
    """The truth's non-matched orders, with the one-sided statuses named as Postgres names
    them (``<label>_only``)."""
    named = {"left_only": f"{recon.left.label}_only", "right_only": f"{recon.right.label}_only"}
    return {(key, named.get(s, s)) for key, s in day.truth.items() if s != "matched"}


def test_example_definition_end_to_end(
    example_dag: Any, world: dict[str, Any], recon: ReconDefinition, day: OrdersDay
) -> None:
    run = example_dag.test(logical_date=LOGICAL)  # no business_date: the schedule's day
    assert run.state == "success", task_states(run)

    # --- Postgres: one run for the partition; its breaks are the truth's, nothing else
    runs = pg_rows(
        "select source, spec, left_label, right_label, matched, mismatched, left_only, "
        "right_only, duplicate, records from recon.runs where recon = %s and business_date = %s",
        recon.dag_id,
        DAY,
    )
    counts = {s: list(day.truth.values()).count(s) for s in set(day.truth.values())}
    assert runs == [
        (
            "orders",
            recon.dag_id,
            "export",
            "ledger",
            counts["matched"],
            counts["mismatched"],
            counts["left_only"],
            counts["right_only"],
            counts["duplicate"],
            len(day.truth),
        )
    ]
    breaks = pg_rows(
        "select key->>'order_id', status, mismatched_fields from recon.breaks "
        "where recon = %s and business_date = %s",
        recon.dag_id,
        DAY,
    )
    assert {(key, status) for key, status, _ in breaks} == expected_breaks(recon, day)
    assert len(breaks) == len(expected_breaks(recon, day))
    assert {tuple(f) for _, s, f in breaks if s == "mismatched"} == {("amount",)}
    inputs = pg_rows(
        "select inputs from recon.runs where recon = %s and business_date = %s", recon.dag_id, DAY
    )[0][0]
    assert inputs["left"]["file"] == f"{DAY.isoformat()}.csv"
    assert inputs["right"]["file"] == "postgres:orders_ledger.sql"

    # --- reports: local, and archived on S3 under reports/<date>/<dag_id>/<source>/
    local = Path(world["env"]["RECON_REPORTS_DIR"]) / recon.dag_id / DAY.isoformat() / "orders"
    for name in REPORTS:
        assert (local / name).is_file(), name
    report = json.loads((local / "report.json").read_text(encoding="utf-8"))
    assert "O-20261120-0004" in json.dumps(report)  # the 100.00 amount break is listed
    key = f"reports/{DAY.isoformat()}/{recon.dag_id}/orders/report.html"
    archived = world["s3"].client().get_object(Bucket="recon-reports", Key=key)["Body"].read()
    assert archived == (local / "report.html").read_bytes()

    # --- alerts: the summary to the definition's address; Slack, as the day breaks thresholds
    mail = world["smtp"].wait_for(1)[0]
    assert recon.dag_id in mail.subject and DAY.isoformat() in mail.subject
    assert set(recon.alerts.email) <= {a.strip() for a in mail.message["To"].split(",")}
    assert world["slack"].wait_for(1)[0].text.count(recon.dag_id) >= 1

    # --- the same date again, by its param: replaced, never duplicated
    rerun = run_for(example_dag, DAY, LOGICAL + dt.timedelta(hours=1))
    assert rerun.state == "success", task_states(rerun)
    assert pg_rows("select count(*) from recon.runs")[0][0] == 1
    assert pg_rows("select count(*) from recon.breaks")[0][0] == len(breaks)
