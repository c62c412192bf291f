"""file_recon end to end with ``dag.test()``: two files from S3 and SFTP, or the staging store.

The pair is small and literal, every difference planted on purpose, so each key's status is
known: the test reads what the requester would (the e-mail and its attachments, the reports on
S3) and what operations would (``recon.runs`` and ``recon.breaks``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from embedded.dag_runs import dag_fixture, pg_rows

DAY = dt.date(2026, 11, 21)
RUN_AT = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC)

BANK = b"""order_id,amount,status,booked_on
A1,100.00,paid,2026-11-20
A2,250.00,paid,2026-11-20
A3,10.004,paid,2026-11-20
A4,75.50,PAID,2026-11-20
A5,60.00,paid,2026-11-20
 A8 ,42.00,paid,2026-11-20
A9,abc,paid,2026-11-20
A10,5.00,paid,20/11/2026
"""
LEDGER = b"""order_id,amount,status,booked_on
A1,100.00,paid,2026-11-20
A2,205.00,paid,2026-11-20
A3,10.00,paid,2026-11-20
A4,75.50,paid,2026-11-20
A6,30.00,paid,2026-11-20
A7,1.00,paid,2026-11-20
A7,1.00,paid,2026-11-20
A8,42.00,paid,2026-11-20
A9,9.00,paid,2026-11-20
A10,5.00,paid,2026-11-21
"""
# with the keys trimmed, text compared without case, amounts within 0.01, dates parsed: the
# status of every (key, status) the run reports (an invalid row is set aside, so A9's ledger
# row has no partner: it is ledger-only)
EXPECTED = [
    ("A1", "matched"),
    ("A2", "mismatched"),  # 250 vs 205
    ("A3", "matched"),  # 0.004 apart
    ("A4", "matched"),  # PAID vs paid
    ("A5", "left_only"),
    ("A6", "right_only"),
    ("A7", "duplicate"),
    ("A8", "matched"),  # " A8 " trimmed
    ("A9", "invalid"),  # amount `abc`
    ("A9", "right_only"),
    ("A10", "mismatched"),  # booked a day apart
]


file_dag = dag_fixture("file_recon")


@pytest.fixture
def world(
    airflow_env: dict[str, str],
    pg_clean: Any,
    s3_clean: Any,
    sftp_clean: Any,
    smtp_clean: Any,
    slack_clean: Any,
) -> dict[str, Any]:
    s3_clean.client().put_object(Bucket="recon-staging", Key="adhoc/bank.csv", Body=BANK)
    remote = sftp_clean.put("adhoc/ledger.csv", LEDGER)
    return {
        "env": airflow_env,
        "s3": s3_clean,
        "smtp": smtp_clean,
        "slack": slack_clean,
        "left": "s3://recon-staging/adhoc/bank.csv",
        "right": f"sftp://recon_sftp{remote}",
    }


def conf(world: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "left": world["left"],
        "right": world["right"],
        "unique_fields": ["order_id"],
        "tolerances": {"amount": 0.01},
        "case_insensitive": True,
        "date_fields": ["booked_on"],
        "date_formats": ["%Y-%m-%d", "%d/%m/%Y"],
        "left_label": "bank",
        "right_label": "ledger",
        "job_id": "bank-vs-ledger",
        "email": "analyst@example.test",
        **extra,
    }


def xcom(run: Any, task_id: str, key: str = "return_value") -> Any:
    """What ``task_id`` handed on under ``key``, read back as the next task would get it."""
    from airflow.models.xcom import XComModel
    from airflow.sdk.serde import deserialize
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(run_id=run.run_id, dag_ids=run.dag_id, task_ids=task_id, key=key)
        row = session.scalars(query).first()
        assert row is not None, f"no XCom {key} from {task_id}"
        return deserialize(XComModel.deserialize_value(row))


def states(run: Any) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def test_s3_against_sftp_end_to_end(file_dag: Any, world: dict[str, Any]) -> None:
    run = file_dag.test(logical_date=RUN_AT, run_conf=conf(world))
    assert run.state == "success", states(run)

    # --- the business date is one datetime.date from the plan to the stores (issue 11)
    assert xcom(run, "plan_job", "business_date") == DAY
    assert type(xcom(run, "plan_job", "business_date")) is dt.date
    outcome = xcom(run, "reconcile_files")
    assert type(outcome["business_date"]) is dt.date and outcome["business_date"] == DAY

    # --- Postgres: one partition named by the job, a break row per non-matched key
    runs = pg_rows(
        "select source, business_date, matched, mismatched, left_only, right_only, duplicate, "
        "invalid, inputs from recon.runs where recon = 'file_recon'"
    )
    assert len(runs) == 1
    source, day, *counts, files = runs[0]
    assert (source, day) == ("bank-vs-ledger", DAY)
    wanted = [status for _, status in EXPECTED]
    statuses = ("matched", "mismatched", "left_only", "right_only", "duplicate", "invalid")
    assert counts == [wanted.count(s) for s in statuses]
    assert {f["file"] for f in files.values()} == {"bank.csv", "ledger.csv"}
    breaks = pg_rows("select key->>'order_id', status from recon.breaks where recon = 'file_recon'")
    stored = {"left_only": "bank_only", "right_only": "ledger_only"}  # labelled in Postgres
    assert sorted(breaks) == sorted((k, stored.get(s, s)) for k, s in EXPECTED if s != "matched")
    a2 = pg_rows(
        "select break_amount, mismatched_fields from recon.breaks "
        "where recon = 'file_recon' and key->>'order_id' = 'A2'"
    )[0]
    assert float(a2[0]) == pytest.approx(45.0) and a2[1] == ["amount"]

    # --- reports: local, archived to S3 under the job, JSON counts as in Postgres
    local = Path(world["env"]["RECON_REPORTS_DIR"]) / "file_recon" / DAY.isoformat()
    report = json.loads((local / "bank-vs-ledger" / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["counts"] == {s: wanted.count(s) for s in statuses}
    key = f"reports/{DAY.isoformat()}/file_recon/bank-vs-ledger/report.xlsx"
    xlsx = world["s3"].client().get_object(Bucket="recon-reports", Key=key)["Body"].read()
    sheets = openpyxl.load_workbook(io.BytesIO(xlsx), read_only=True).sheetnames
    assert len(sheets) >= 2  # a summary and the breaks

    # --- the requester's e-mail: the summary with every report attached; no Slack for ad hoc
    mail = world["smtp"].wait_for(1)[0]
    assert mail.rcpt_tos == ("analyst@example.test",)
    assert "file_recon" in mail.subject
    assert sorted(mail.attachment_names()) == sorted(
        ["report.html", "breaks.csv", "report.xlsx", "report.json"]
    )
    assert world["slack"].requests() == []

    # --- the same job again: replaced, not duplicated
    again = file_dag.test(logical_date=RUN_AT + dt.timedelta(minutes=5), run_conf=conf(world))
    assert again.state == "success", states(again)
    assert pg_rows("select count(*) from recon.runs where recon = 'file_recon'")[0][0] == 1
    assert pg_rows("select count(*) from recon.breaks where recon = 'file_recon'")[0][0] == len(
        breaks
    )


def test_staging_files_chosen_formats_and_no_email(
    file_dag: Any, world: dict[str, Any], tmp_path: Path
) -> None:
    staging = Path(world["env"]["RECON_STAGING_DIR"])
    (staging / "drop").mkdir(parents=True)
    (staging / "drop" / "bank.csv").write_bytes(BANK)
    (staging / "drop" / "ledger.csv").write_bytes(LEDGER)
    run = file_dag.test(
        logical_date=RUN_AT,
        run_conf=conf(
            world,
            left="staging:drop/bank.csv",
            right="drop/ledger.csv",
            report_formats=["csv"],
            email=None,
            job_id=None,
            case_insensitive=False,
        ),
    )
    assert run.state == "success", states(run)
    (job,) = pg_rows("select source from recon.runs where recon = 'file_recon'")[0]
    assert job.startswith("manual") and ":" not in job  # made from the run id, path-safe
    folder = Path(world["env"]["RECON_REPORTS_DIR"]) / "file_recon" / DAY.isoformat() / job
    assert sorted(p.name for p in folder.iterdir()) == ["breaks.csv"]
    # case now matters: A4 (PAID vs paid) breaks too
    a4 = pg_rows("select status from recon.breaks where key->>'order_id' = 'A4'")
    assert a4 == [("mismatched",)]
    assert world["smtp"].messages() == []


def test_a_key_field_missing_fails_clearly_and_keeps_earlier_results(
    file_dag: Any, world: dict[str, Any]
) -> None:
    assert file_dag.test(logical_date=RUN_AT, run_conf=conf(world)).state == "success"
    before = pg_rows("select * from recon.breaks order by break_id")
    world["smtp"].reset()

    bad = file_dag.test(
        logical_date=RUN_AT + dt.timedelta(minutes=1),
        run_conf=conf(world, unique_fields=["orderid"]),
    )
    assert bad.state == "failed"
    assert states(bad)["fetch_left"] == states(bad)["fetch_right"] == "failed"
    alerts = {m.subject: m for m in world["smtp"].wait_for(2)}
    (left,) = [m for subject, m in alerts.items() if "fetch_left" in subject]
    body = left.message.get_body(("html",)).get_content()
    # the file as the user named it (not a temporary path), the column and a hint
    assert "s3://recon-staging/adhoc/bank.csv" in body and "`orderid`" in body
    assert "did you mean `order_id`?" in body and ".input.csv" not in body
    assert pg_rows("select * from recon.breaks order by break_id") == before
