"""payments_recon end to end with ``dag.test()`` against the real embedded servers.

One generated business day (three processors, every kind of break and of other-day case, a
truth table) is seeded into Postgres (``ledger.payments``) and behind the local processor APIs;
the DAG runs in-process; the test then reads what finance would read — the Postgres tables and
views, the email and Slack message, the reports (local and through the presigned S3 link) —
and compares them with the truth. The same date is run again (nothing may be duplicated), then
with Stripe's API failing (alerts go out, the earlier results stay as they were).
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pytest

from embedded.dag_runs import pg_rows, run_for, task_states
from embedded.fixtures_airflow import dag_without_retries
from embedded.payments_seed import load_processor_apis, seed_ledger_postgres
from worlds.fixtures import payments_day_fixture
from worlds.payments import (
    EXCLUDED,
    PROCESSORS,
    PaymentsDay,
    read_truth,
)

DAY = dt.date(2026, 11, 20)
LOGICAL = dt.datetime(2026, 11, 21, 6, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(hours=1)
REPORTS = ("report.html", "breaks.csv", "report.xlsx", "report.json")

pytestmark = pytest.mark.slow


day = payments_day_fixture(DAY, per_processor=150, seed=11, settlement_window=WINDOW)


@pytest.fixture(scope="module")
def truth(day: PaymentsDay) -> pl.DataFrame:
    """What D's reconciliation must report: every case that is not another day's."""
    return read_truth(day.truth).filter(pl.col("status") != EXCLUDED)


@pytest.fixture
def world(
    airflow_db: None,
    airflow_env: dict[str, str],
    pg_clean: Any,
    processor_api: Any,
    s3_clean: Any,
    smtp_clean: Any,
    slack_clean: Any,
    day: PaymentsDay,
) -> Iterator[dict[str, Any]]:
    with closing(psycopg.connect(pg_clean.dsn)) as conn:
        seed_ledger_postgres(conn, day.ledger)
    load_processor_apis(processor_api, day)
    yield {
        "api": processor_api,
        "s3": s3_clean,
        "smtp": smtp_clean,
        "slack": slack_clean,
        "env": airflow_env,
    }


@pytest.fixture(scope="module")
def payments_dag(airflow_db: None) -> Any:
    """Without task retries, and with quick hook retries (its own copy of the DAG)."""
    dag = dag_without_retries("payments_recon")
    dag.get_task("extract_processor").partial_kwargs.update(max_attempts=2, backoff=0.01)
    return dag


def test_payments_recon_end_to_end(
    payments_dag: Any, world: dict[str, Any], truth: pl.DataFrame
) -> None:
    run = run_for(payments_dag, DAY, LOGICAL)
    assert run.state == "success", task_states(run)

    # --- Postgres: a run per processor; its breaks are the truth's, typed as the truth says
    runs = pg_rows(
        "select source, records, compliance_status, risk_level, volume, discrepancy_amount "
        "from recon.runs where recon = 'payments_recon' and business_date = %s order by source",
        DAY,
    )
    assert [r[0] for r in runs] == sorted(PROCESSORS)
    breaks = pg_rows(
        "select source, key->>'reference', break_type, currency, break_amount, impact_amount "
        "from recon.breaks where recon = 'payments_recon' and business_date = %s",
        DAY,
    )
    expected = {
        (r["processor"], r["payment_id"], r["status"])
        for r in truth.filter(pl.col("status") != "matched").iter_rows(named=True)
    }
    assert {b[:3] for b in breaks} == expected
    assert len(breaks) == len(expected)  # one row per case, nothing twice
    for source, records, compliance, risk, volume, discrepancy in runs:
        of_source = truth.filter(pl.col("processor") == source)
        assert records == of_source.height, source
        # the generator plants ~9 % breaks: over the spec's 1 % limit
        assert (compliance, risk) == ("NON_COMPLIANT", "HIGH"), source
        assert volume > 0 and 0 < discrepancy < volume, source
    amount_breaks = truth.filter(pl.col("status") == "amount")
    stored = {(b[0], b[1]): b[4] for b in breaks if b[2] == "amount"}
    for row in amount_breaks.iter_rows(named=True):
        at_stake = abs(row["ledger_amount"] - row["processor_amount"])
        assert stored[(row["processor"], row["payment_id"])] == at_stake

    metrics = pg_rows(
        "select source, breaks_by_type from recon.v_source_daily_metrics "
        "where recon = 'payments_recon' and business_date = %s order by source",
        DAY,
    )
    for source, by_type in metrics:
        counts = (
            truth.filter((pl.col("processor") == source) & (pl.col("status") != "matched"))
            .group_by("status")
            .len()
        )
        assert {k: v for k, v in by_type.items() if v} == dict(counts.iter_rows()), source
    high = pg_rows(
        "select impact_amount from recon.v_high_value_breaks where recon = 'payments_recon'"
    )
    over = [b for b in breaks if b[5] is not None and b[5] >= 500]
    assert len(high) == len(over) and all(h[0] >= 500 for h in high)
    checks = pg_rows(
        "select distinct check_name from recon.data_quality_checks where recon = 'payments_recon'"
    )
    assert {"rows_read", "null_keys", "currency_codes", "negative_amounts"} <= {
        c[0] for c in checks
    }

    # --- reports: per processor and combined, locally and under reports/YYYY-MM-DD/ on S3
    local = Path(world["env"]["RECON_REPORTS_DIR"]) / "payments_recon" / DAY.isoformat()
    for source in (*PROCESSORS, "ALL"):
        for name in REPORTS:
            assert (local / source / name).is_file(), (source, name)
    combined = json.loads((local / "ALL" / "report.json").read_text(encoding="utf-8"))
    assert json.dumps(combined).count("failed_payment") >= 1
    key = f"reports/{DAY.isoformat()}/payments_recon/stripe/report.html"
    stored_html = world["s3"].client().get_object(Bucket="recon-reports", Key=key)["Body"].read()
    assert stored_html == (local / "stripe" / "report.html").read_bytes()
    link = pg_rows(
        "select report_links->>'html' from recon.runs where recon = 'payments_recon' "
        "and source = 'stripe' and business_date = %s",
        DAY,
    )[0][0]
    with urllib.request.urlopen(link, timeout=10) as response:
        assert response.read() == stored_html

    # --- alerts: the summary email with the financial impact, Slack since nobody is compliant
    mail = world["smtp"].wait_for(1)[0]
    assert "payments_recon" in mail.subject and DAY.isoformat() in mail.subject
    body = mail.message.get_body(("html",)).get_content()
    assert "NON_COMPLIANT" in body and all(p in body for p in PROCESSORS)
    slack = world["slack"].wait_for(1)[0].text
    assert "payments_recon" in slack and "NON_COMPLIANT" in slack
    # the presigned links, not local paths, in both messages
    archived = f"/recon-reports/reports/{DAY.isoformat()}/payments_recon/stripe/report.html?"
    assert archived in body and archived in slack and "Signature=" in slack

    # --- the same date again: replaced, never duplicated
    audit_before = pg_rows("select count(*) from recon.audit_log")[0][0]
    rerun = run_for(payments_dag, DAY, LOGICAL + dt.timedelta(hours=1))
    assert rerun.state == "success", task_states(rerun)
    assert pg_rows("select count(*) from recon.breaks")[0][0] == len(breaks)
    assert pg_rows("select count(*) from recon.runs")[0][0] == len(PROCESSORS)
    assert pg_rows("select count(*) from recon.audit_log")[0][0] == audit_before + len(PROCESSORS)


def test_processor_outage_alerts_and_keeps_earlier_results(
    payments_dag: Any, world: dict[str, Any]
) -> None:
    assert run_for(payments_dag, DAY, LOGICAL).state == "success"
    runs_before = pg_rows("select * from recon.runs order by run_id")
    breaks_before = pg_rows("select * from recon.breaks order by break_id")
    world["smtp"].reset()
    world["slack"].reset()

    world["api"].fail("stripe", 500, times=1000)  # Stripe is down for the whole run
    failed = run_for(payments_dag, DAY, LOGICAL + dt.timedelta(hours=2))
    assert failed.state == "failed"
    by_task = {(t, i): s for t, i, s in task_states(failed)}
    assert by_task[("extract_processor", 0)] == "failed"
    assert by_task[("extract_processor", 1)] == "success"  # PayPal and Square were fine

    mails = [m for m in world["smtp"].wait_for(1) if "extract_processor" in m.subject]
    assert mails and DAY.isoformat() in mails[0].subject
    texts = [r.text for r in world["slack"].wait_for(1)]
    assert any("extract_processor" in t and DAY.isoformat() in t for t in texts)
    assert pg_rows("select * from recon.runs order by run_id") == runs_before
    assert pg_rows("select * from recon.breaks order by break_id") == breaks_before
