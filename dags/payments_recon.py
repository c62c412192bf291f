"""
### payments_recon — Stripe, PayPal and Square against the internal ledger

Every morning (06:00 UTC) each processor's transactions of the previous UTC day (and of the
settlement window after it) are paged from its API and staged as Parquet (mapped, one task per
processor); the ledger's bookings around that day are read once from Postgres
(`ledger.payments`). Each processor is reconciled on its own (mapped) and its breaks are typed:
missing at the processor, missing in the ledger, amount, currency, failed payment, fee
mismatch, status, duplicate, invalid, and timing (settled after midnight, inside the window).
The summary carries the financial impact: volume, discrepancy amount and rate (per currency and
in USD), risk level and compliance status against the spec's thresholds.

Results replace the date's partition in Postgres (`recon.runs`, `recon.breaks`, views
`recon.v_source_daily_metrics`, `recon.v_high_value_breaks`, `recon.v_open_breaks`);
reports (HTML, CSV, XLSX, JSON) per processor and combined are archived to S3 under
`reports/YYYY-MM-DD/` with presigned links (24 h); a summary goes out by email, and to Slack
when a processor is not compliant. Any task failure alerts by email and Slack.

**Trigger with parameters** to run another date, some processors, another amount tolerance or
settlement window; **backfill** a range to (re)build each date's partition.
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
from recon_airflow.operators.load_postgres import PostgresResultsOperator
from recon_airflow.operators.payments_reconcile import PaymentsReconcileOperator
from recon_airflow.operators.processor_to_staging import ProcessorToStagingOperator
from recon_airflow.operators.sql_to_staging import SqlToStagingOperator
from recon_airflow.pipelines.common import plan_list, publish_all
from recon_airflow.pipelines.payments import DAYS_BEFORE, TIMEZONE, merge_processors, plan_run
from recon_airflow.pipelines.volume import check_volumes

PROCESSORS = ["stripe", "paypal", "square"]  # must match config/pipelines/payments_recon.yaml
FINANCE_EMAIL = ["finance-ops@example.test"]
CONN = {
    "postgres": "recon_postgres",  # the ledger and the results store
    "s3": "recon_s3",
    "smtp": "recon_smtp",
    "slack": "recon_slack",
}  # each processor's API: recon_<processor>


@dag(
    dag_id="payments_recon",
    schedule="0 6 * * *",
    params={
        "business_date": business_date_param(
            "The UTC day to reconcile; empty = the day before the run."
        ),
        "processors": choice_param(
            PROCESSORS,
            title="Processors",
            description="Which processors to reconcile against the ledger.",
        ),
        "tolerance": override_param(
            title="Amount tolerance override",
            description="Absolute amount tolerance in the payment's currency; empty = the "
            "spec's (0: one minor unit apart is a break).",
        ),
        "settlement_hours": override_param(
            maximum=24,
            title="Settlement window override (hours)",
            description="How long after midnight a payment of the day may settle and count "
            "as timing; empty = the pipeline config's (1 h).",
        ),
    },
    **dag_settings(
        doc_md=__doc__,
        timezone=TIMEZONE,
        days_before=DAYS_BEFORE,
        owner="recon-finance",
        emails=FINANCE_EMAIL,
        tags=["recon", "payments", "processor"],
        smtp_conn_id=CONN["smtp"],
        slack_conn_id=CONN["slack"],
        max_active_runs=2,
    ),
)
def payments_recon() -> None:
    plan = plan_run(
        processors="{{ params.processors }}",
        settlement_hours="{{ params.settlement_hours }}",
    )
    extracts = ProcessorToStagingOperator.partial(task_id="extract_processor").expand_kwargs(
        plan_list.override(task_id="processor_extracts")(plan, "extracts")
    )
    ledger = SqlToStagingOperator(
        task_id="extract_ledger",
        source="ledger",
        sql=plan["ledger_sql"],
        parameters=plan["ledger_window"],
        snapshot_path=plan["ledger_snapshot"],
        postgres_conn_id=CONN["postgres"],
    )
    reconciled = PaymentsReconcileOperator.partial(
        task_id="reconcile_processor",
        ledger=ledger.output,
        spec=plan["spec"],
        business_date=plan["business_date"],
        settlement_hours=plan["settlement_hours"],
        tolerance="{{ params.tolerance }}",
    ).expand(processor=extracts.output)
    combined = merge_processors(reconciled.output, plan["spec"], plan["business_date"])
    checked = check_volumes(
        reconciled.output, pipeline="payments_recon", postgres_conn_id=CONN["postgres"]
    )
    published = publish_all(checked, combined, s3_conn_id=CONN["s3"], pipeline="payments_recon")
    loaded = PostgresResultsOperator.partial(
        task_id="load_postgres", postgres_conn_id=CONN["postgres"]
    ).expand(outcome=published)
    notify = SummaryAlertOperator(
        task_id="send_summary",
        outcomes=published,
        recon="payments_recon",
        business_date=plan["business_date"],
        email_to=FINANCE_EMAIL,
        smtp_conn_id=CONN["smtp"],
        slack_conn_id=CONN["slack"],
    )
    loaded >> notify


payments_recon()
