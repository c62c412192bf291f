"""
### aum_recon — CAMS and KARVY holdings against the MongoDB transaction ledger

Every morning (07:30 Asia/Kolkata) the registrars' holdings files for the previous business day
are awaited on SFTP, fetched, checked (DBF integrity, columns, report date) and staged as
Parquet; the ledger's positions (signed units per folio and product up to that date) are summed
in MongoDB. Each registrar is reconciled on its own (mapped), then merged: ledger positions of
AMCs no registrar services become `mongo_only` under `UNASSIGNED`. Results replace the date's
partition in Postgres (`recon.runs`, `recon.breaks`, views `recon.v_open_breaks`, ...) and in
MongoDB (`reconciliation_results`); reports (HTML, CSV, XLSX, JSON) are archived to S3 with
presigned links; a summary goes out by email, and to Slack when breaks pass the thresholds.
Any task failure alerts by email and Slack.

**Trigger with parameters** to run another date, a subset of registrars, or another tolerance;
**backfill** a range to (re)build each date's partition.
"""

from __future__ import annotations

from airflow.sdk import dag

from recon_airflow.dag_defaults import (
    business_date_param,
    choice_param,
    dag_settings,
    override_param,
)
from recon_airflow.notifiers.alerts import SummaryAlertOperator
from recon_airflow.operators.load_mongo import MongoResultsOperator
from recon_airflow.operators.load_postgres import PostgresResultsOperator
from recon_airflow.operators.mongo_ledger_positions import MongoLedgerPositionsOperator
from recon_airflow.operators.reconcile import ReconcileOperator
from recon_airflow.operators.sftp_dbf_to_staging import SftpDbfToStagingOperator
from recon_airflow.operators.verified_sftp_sensor import VerifiedSFTPSensor
from recon_airflow.pipelines.aum import DAYS_BEFORE, TIMEZONE, merge_registrars, plan_run
from recon_airflow.pipelines.common import plan_list, publish_all
from recon_airflow.pipelines.volume import check_volumes

REGISTRARS = ["CAMS", "KARVY"]  # must match config/pipelines/aum_recon.yaml (a test checks)
OPS_EMAIL = ["operations@example.test"]
LEDGER = {"database": "recon", "collection": "transactions"}
RESULTS = {"database": "recon", "collection": "reconciliation_results"}
CONN = {
    "sftp": "recon_sftp",
    "mongo": "recon_mongo",
    "postgres": "recon_postgres",
    "s3": "recon_s3",
    "smtp": "recon_smtp",
    "slack": "recon_slack",
}


@dag(
    dag_id="aum_recon",
    schedule="30 7 * * *",
    params={
        "business_date": business_date_param(
            "The date the holdings are for; empty = the day before the run (IST)."
        ),
        "registrars": choice_param(
            REGISTRARS, title="Registrars", description="Which registrars' files to reconcile."
        ),
        "units_tolerance": override_param(
            title="Units tolerance override",
            description="Absolute units tolerance; empty = the spec's (0.001).",
        ),
    },
    **dag_settings(
        doc_md=__doc__,
        timezone=TIMEZONE,
        days_before=DAYS_BEFORE,
        owner="recon-ops",
        emails=OPS_EMAIL,
        tags=["recon", "aum", "registrar"],
        smtp_conn_id=CONN["smtp"],
        slack_conn_id=CONN["slack"],
        max_active_runs=2,
    ),
)
def aum_recon() -> None:
    plan = plan_run(
        registrars="{{ params.registrars }}",
    )
    wait = VerifiedSFTPSensor.partial(
        task_id="wait_for_file",
        sftp_conn_id=CONN["sftp"],
        mode="reschedule",
        poke_interval=300,
        timeout=6 * 3600,
        retries=0,  # a late file is a timeout, not a retry
    ).expand_kwargs(plan_list.override(task_id="registrar_files")(plan, "waits"))
    fetch = SftpDbfToStagingOperator.partial(
        task_id="fetch_registrar_file", sftp_conn_id=CONN["sftp"]
    ).expand_kwargs(plan_list.override(task_id="registrar_fetches")(plan, "fetch"))
    ledger = MongoLedgerPositionsOperator(
        task_id="ledger_positions",
        mongo_conn_id=CONN["mongo"],
        database=LEDGER["database"],
        collection=LEDGER["collection"],
        as_of=plan["business_date"],
        snapshot_path=plan["ledger_snapshot"],
    )
    reconciled = ReconcileOperator.partial(
        task_id="reconcile_registrar",
        right=ledger.output,
        specs=plan["specs"],
        right_filters=plan["filters"],
        business_date=plan["business_date"],
        tolerance="{{ params.units_tolerance }}",
    ).expand(left=fetch.output)
    wait >> fetch
    merged = merge_registrars(reconciled.output, ledger.output, plan["business_date"])
    checked = check_volumes(
        merged["sources"], pipeline="aum_recon", postgres_conn_id=CONN["postgres"]
    )
    published = publish_all(
        checked, merged["combined"], s3_conn_id=CONN["s3"], pipeline="aum_recon"
    )
    to_postgres = PostgresResultsOperator.partial(
        task_id="load_postgres", postgres_conn_id=CONN["postgres"]
    ).expand(outcome=published)
    to_mongo = MongoResultsOperator.partial(
        task_id="load_mongo",
        mongo_conn_id=CONN["mongo"],
        database=RESULTS["database"],
        collection=RESULTS["collection"],
    ).expand(outcome=published)
    notify = SummaryAlertOperator(
        task_id="send_summary",
        outcomes=published,
        recon="aum_recon",
        business_date=plan["business_date"],
        email_to=OPS_EMAIL,
        smtp_conn_id=CONN["smtp"],
        slack_conn_id=CONN["slack"],
    )
    [to_postgres, to_mongo] >> notify


aum_recon()
