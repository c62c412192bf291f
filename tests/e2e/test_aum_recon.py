"""aum_recon end to end with ``dag.test()`` against the real embedded servers.

One generated business day (both registrars, every kind of break, a truth table) is seeded on
SFTP and MongoDB; the DAG runs in-process; the test then reads what a user would read — the
Postgres tables and views, the MongoDB documents, the email and Slack message, the reports
(local and through the presigned S3 link) — and compares them with the truth. The same date
is run again (nothing may be duplicated), then a date whose files never arrive (alerts go out,
the earlier results stay as they were).
"""

from __future__ import annotations

import datetime as dt
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from embedded.aum_world import seed_aum
from embedded.dag_runs import dag_fixture, pg_rows, run_for, task_states
from worlds.aum import AumSample, generate_aum

DAY = dt.date(2026, 11, 20)
MISSING_DAY = dt.date(2026, 11, 23)
KEYS = ["amc_code", "folio", "product"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> AumSample:
    return generate_aum(tmp_path_factory.mktemp("aum"), positions=60, business_date=DAY, seed=5)


@pytest.fixture(scope="module")
def truth(sample: AumSample) -> pl.DataFrame:
    return pl.read_csv(sample.truth, schema_overrides={"folio": pl.String, "product": pl.String})


@pytest.fixture
def world(
    airflow_db: None,
    airflow_env: dict[str, str],
    pg_clean: Any,
    mongo_clean: Any,
    sftp_clean: Any,
    s3_clean: Any,
    smtp_clean: Any,
    slack_clean: Any,
    sample: AumSample,
) -> Iterator[dict[str, Any]]:
    seed_aum(sftp_clean, mongo_clean.client(), sample)
    yield {
        "postgres": pg_clean,
        "mongo": mongo_clean,
        "s3": s3_clean,
        "smtp": smtp_clean,
        "slack": slack_clean,
        "env": airflow_env,
    }


aum_dag = dag_fixture("aum_recon")


def test_aum_recon_end_to_end(
    aum_dag: Any, world: dict[str, Any], truth: pl.DataFrame, sample: AumSample
) -> None:
    logical = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)
    run = run_for(aum_dag, DAY, logical)
    assert run.state == "success", task_states(run)

    # --- Postgres: one run per source, the breaks are exactly the truth's non-matched keys
    runs = pg_rows(
        "select source, total_keys, breaks from recon.runs where recon = 'aum_recon' "
        "and business_date = %s order by source",
        DAY,
    )
    assert [r[0] for r in runs] == ["CAMS", "KARVY", "UNASSIGNED"]
    for source, keys, breaks in runs:
        expected = truth.filter(pl.col("registrar") == source)
        assert keys == expected.height, source
        assert breaks == expected.filter(pl.col("status") != "matched").height, source
    breaks = pg_rows(
        "select source, key->>'amc_code', key->>'folio', key->>'product', status, "
        "first_seen_date, age_days from recon.breaks where business_date = %s",
        DAY,
    )
    expected_breaks = {
        (r["registrar"], r["amc_code"], r["folio"], r["product"], r["status"])
        for r in truth.filter(pl.col("status") != "matched").iter_rows(named=True)
    }
    assert {b[:5] for b in breaks} == expected_breaks
    assert {(b[5], b[6]) for b in breaks} == {(DAY, 0)}
    open_breaks = pg_rows("select count(*) from recon.v_open_breaks where recon = 'aum_recon'")
    assert open_breaks[0][0] == len(expected_breaks)

    # --- MongoDB: one document per key, statuses and exact units as the truth says
    docs = list(world["mongo"].client()["recon"]["reconciliation_results"].find({}, {"_id": 0}))
    assert len(docs) == truth.height
    by_key = {(d["amc_code"], d["folio"], d["product"]): d for d in docs}
    for row in truth.iter_rows(named=True):
        doc = by_key[(row["amc_code"], row["folio"], row["product"])]
        assert doc["status"] == row["status"]
        assert doc["source"] == row["registrar"]
        if row["status"] != "mongo_only":
            assert doc["dbf_units"].to_decimal() == Decimal(str(row["dbf_units"]))
        if row["status"] != "dbf_only":
            assert doc["mongo_units"].to_decimal() == Decimal(str(row["ledger_units"]))

    # --- alerts: a summary email, and Slack because the break rate passes the threshold
    emails = world["smtp"].wait_for(1)
    summary_mail = emails[0]
    assert "aum_recon" in summary_mail.subject and DAY.isoformat() in summary_mail.subject
    body = summary_mail.message.get_body(("html",)).get_content()
    for source in ("CAMS", "KARVY"):
        assert source in body
    slack = world["slack"].wait_for(1)
    assert "aum_recon" in slack[0].text

    # --- reports: local files per source and combined; the presigned S3 link serves the same
    reports = Path(world["env"]["RECON_REPORTS_DIR"]) / "aum_recon" / DAY.isoformat()
    for source in ("CAMS", "KARVY", "UNASSIGNED", "ALL"):
        for name in ("report.html", "breaks.csv", "report.xlsx", "report.json"):
            assert (reports / source / name).is_file(), (source, name)
    key = f"reports/{DAY.isoformat()}/aum_recon/CAMS/report.html"
    stored = world["s3"].client().get_object(Bucket="recon-reports", Key=key)["Body"].read()
    assert stored == (reports / "CAMS" / "report.html").read_bytes()
    links = pg_rows(
        "select report_links->>'html' from recon.runs where source = 'CAMS' and business_date = %s",
        DAY,
    )
    with urllib.request.urlopen(links[0][0], timeout=10) as response:
        assert response.read() == stored

    # --- the same date again: replaced, never duplicated
    before = pg_rows("select count(*) from recon.breaks")[0][0]
    audit_before = pg_rows("select count(*) from recon.audit_log")[0][0]
    rerun = run_for(aum_dag, DAY, logical + dt.timedelta(hours=1))
    assert rerun.state == "success"
    assert pg_rows("select count(*) from recon.breaks")[0][0] == before
    assert pg_rows("select count(*) from recon.runs")[0][0] == 3
    assert pg_rows("select count(*) from recon.audit_log")[0][0] > audit_before
    assert (
        world["mongo"].client()["recon"]["reconciliation_results"].count_documents({})
        == truth.height
    )


def test_missing_file_alerts_and_keeps_earlier_results(
    aum_dag: Any, world: dict[str, Any], truth: pl.DataFrame
) -> None:
    logical = dt.datetime(2026, 11, 21, 4, 0, tzinfo=dt.UTC)
    assert run_for(aum_dag, DAY, logical).state == "success"
    breaks_before = pg_rows("select * from recon.breaks order by break_id")
    runs_before = pg_rows("select run_id, source, business_date from recon.runs order by run_id")
    mongo = world["mongo"].client()["recon"]["reconciliation_results"]
    docs_before = sorted(map(str, mongo.find({}, {"_id": 0})))
    world["smtp"].reset()
    world["slack"].reset()

    wait = aum_dag.get_task("wait_for_file")
    wait.partial_kwargs["timeout"] = 2
    wait.partial_kwargs["poke_interval"] = 1
    try:
        failed = run_for(aum_dag, MISSING_DAY, logical + dt.timedelta(days=3))
    finally:
        wait.partial_kwargs["timeout"] = 6 * 3600
        wait.partial_kwargs["poke_interval"] = 300
    assert failed.state == "failed"

    mails = world["smtp"].wait_for(1)
    failure = [m for m in mails if "wait_for_file" in m.subject]
    assert failure, [m.subject for m in mails]
    assert MISSING_DAY.isoformat() in failure[0].subject
    texts = [r.text for r in world["slack"].wait_for(1)]
    assert any("wait_for_file" in t and MISSING_DAY.isoformat() in t for t in texts)

    assert pg_rows("select * from recon.breaks order by break_id") == breaks_before
    assert (
        pg_rows("select run_id, source, business_date from recon.runs order by run_id")
        == runs_before
    )
    assert sorted(map(str, mongo.find({}, {"_id": 0}))) == docs_before


def test_another_days_file_fails_at_once_without_retry(
    dagbag: Any, world: dict[str, Any], sftp_clean: Any, tmp_path: Path
) -> None:
    """KARVY sends the day before's file: bad data, so no retry (the DAG's own retries apply
    here; a retried fetch would sleep minutes), and the alert says what is wrong."""
    from embedded.aum_world import put_holdings

    stale = generate_aum(
        tmp_path, positions=20, business_date=DAY, report_date=DAY - dt.timedelta(days=1)
    )
    put_holdings(sftp_clean, stale, ["KARVY"])
    run = run_for(dagbag.get_dag("aum_recon"), DAY, dt.datetime(2026, 11, 21, 6, 0, tzinfo=dt.UTC))
    assert run.state == "failed"
    fetches = {
        ti.map_index: ti for ti in run.get_task_instances() if ti.task_id == "fetch_registrar_file"
    }
    assert fetches[1].state == "failed" and fetches[1].try_number == 1
    assert fetches[0].state == "success"  # CAMS's file was fine
    mails = [m for m in world["smtp"].wait_for(1) if "fetch_registrar_file" in m.subject]
    assert mails, "no failure email"
    body = mails[0].message.get_body(("html",)).get_content()
    assert "wrong report date" in body and "karvy_holdings_20261120.dbf" in body
    # nothing was loaded (the load tasks never ran: not even the schema exists yet)
    assert pg_rows("select to_regclass('recon.runs')")[0][0] is None
