"""
### file_recon — reconcile any two files, now, without writing a DAG

**Trigger with parameters**: where the two files are (`s3://bucket/key`,
`sftp://<conn_id>/path`, or `staging:<path>` for a file in the staging store), which columns
identify a row, and optionally which columns to compare, with what tolerance, and how text is
normalised. CSV, Parquet, XLSX and DBF files are read; the upload API
(`/recon/api/v1/reconciliations`) triggers this DAG for two uploaded CSVs.

Both files are fetched through the provider hooks and staged as Parquet (a file that cannot be
read, or lacks a named column, fails with the file, row and column); the core reconciles them;
the result is stored in Postgres like every other pipeline's (`recon.runs` with
`recon = 'file_recon'` and `source` = the job id); the reports (HTML, CSV, XLSX, JSON, as
chosen) are archived to S3 with presigned links, and e-mailed, attached, when an address is
given. Any task failure alerts operations by e-mail and Slack.
"""

from __future__ import annotations

from airflow.sdk import Param, dag

from recon_airflow.dag_defaults import (
    business_date_param,
    choice_param,
    dag_settings,
    flag_param,
    text_list_param,
)
from recon_airflow.file_jobs import DAG_ID, JOB_ID_PATTERN, REPORT_FORMATS
from recon_airflow.operators.file_to_staging import FileToStagingOperator
from recon_airflow.operators.load_postgres import PostgresResultsOperator
from recon_airflow.pipelines.common import publish_all
from recon_airflow.pipelines.file_recon import (
    DAYS_BEFORE,
    TIMEZONE,
    email_report,
    plan_job,
    reconcile_files,
)

OPS_EMAIL = ["operations@example.test"]  # failure alerts; the report goes to the `email` param
CONN = {
    "postgres": "recon_postgres",
    "s3": "recon_s3",
    "smtp": "recon_smtp",
    "slack": "recon_slack",
}
LOCATION = "s3://<bucket>/<key>, sftp://<conn_id>/<path> or staging:<path>"


@dag(
    dag_id=DAG_ID,
    schedule=None,  # on demand: the trigger form, the upload API or `airflow dags trigger`
    params={
        "left": Param(
            type="string",
            minLength=1,
            title="Left file",
            description=f"Where the first file is: {LOCATION}.",
            section="Files",
        ),
        "right": Param(
            type="string",
            minLength=1,
            title="Right file",
            description=f"Where the second file is: {LOCATION}.",
            section="Files",
        ),
        "unique_fields": text_list_param(
            title="Key fields",
            description="The column(s) that identify a row in both files, one per line.",
            required=True,
            section="Files",
        ),
        "left_label": Param(
            "left",
            type="string",
            pattern=r"^[A-Za-z0-9_\- ]{1,40}$",
            title="Left label",
            description="What reports call the first file (e.g. bank).",
            section="Files",
        ),
        "right_label": Param(
            "right",
            type="string",
            pattern=r"^[A-Za-z0-9_\- ]{1,40}$",
            title="Right label",
            description="What reports call the second file (e.g. ledger).",
            section="Files",
        ),
        "compare_fields": text_list_param(
            title="Compare fields",
            description="Columns to compare, one per line; empty = every column both share.",
            section="Comparison",
        ),
        "tolerances": Param(
            {},
            type="object",
            additionalProperties={"type": "number", "minimum": 0},
            title="Tolerances",
            description='Absolute tolerance per numeric field, e.g. {"amount": 0.01}.',
            section="Comparison",
        ),
        "trim": flag_param(
            True,
            title="Trim text",
            description="Ignore spaces around values.",
            section="Comparison",
        ),
        "case_insensitive": flag_param(
            False,
            title="Ignore case",
            description="Compare text, keys included, without regard to case.",
            section="Comparison",
        ),
        "date_fields": text_list_param(
            title="Date fields",
            description="Columns holding dates, compared as dates (give their formats).",
            section="Comparison",
        ),
        "date_formats": text_list_param(
            title="Date formats",
            description="strptime formats tried in order, e.g. %Y-%m-%d and %d/%m/%Y.",
            section="Comparison",
        ),
        "report_formats": choice_param(
            REPORT_FORMATS,
            title="Report formats",
            description="Which reports to write (and attach to the e-mail).",
            section="Output",
        ),
        "email": Param(
            None,
            type=["null", "string"],
            format="email",
            title="E-mail the reports to",
            description="An address that receives the summary with the reports attached.",
            section="Output",
        ),
        "job_id": Param(
            None,
            type=["null", "string"],
            pattern=JOB_ID_PATTERN,
            title="Job name",
            description="Names this reconciliation in recon.runs and the reports' folder; "
            "empty = made from the run id.",
            section="Output",
        ),
        "business_date": business_date_param(
            "The date the results are filed under; empty = today (UTC).", section="Output"
        ),
        "delimiter": Param(
            None,
            type=["null", "string"],
            maxLength=1,
            title="CSV delimiter",
            description="Empty = detected from the header line.",
            section="Reading",
        ),
        "encoding": Param(
            None,
            type=["null", "string"],
            title="Text encoding",
            description="e.g. cp1252 or latin-1; empty = UTF-8 (CSV), the file's own (DBF).",
            section="Reading",
        ),
    },
    **dag_settings(
        doc_md=__doc__,
        timezone=TIMEZONE,
        days_before=DAYS_BEFORE,
        owner="recon-ops",
        emails=OPS_EMAIL,
        tags=["recon", "adhoc", "files"],
        smtp_conn_id=CONN["smtp"],
        slack_conn_id=CONN["slack"],
        max_active_runs=4,
    ),
)
def file_recon() -> None:
    plan = plan_job()
    fetched = [
        FileToStagingOperator(
            task_id=f"fetch_{side}",
            location=plan[side],
            source=plan["job_id"],
            side=side,
            snapshot_path=plan[f"{side}_snapshot"],
            required_columns=plan["columns"],
            delimiter=plan["delimiter"],
            encoding=plan["encoding"],
            s3_conn_id=CONN["s3"],
        )
        for side in ("left", "right")
    ]
    outcome = reconcile_files(
        fetched[0].output,
        fetched[1].output,
        plan["request"],
        plan["job_id"],
        plan["business_date"],
    )
    published = publish_all([outcome], None, s3_conn_id=CONN["s3"], pipeline=DAG_ID)
    loaded = PostgresResultsOperator.partial(
        task_id="load_postgres", postgres_conn_id=CONN["postgres"]
    ).expand(outcome=published)
    loaded >> email_report(published, plan["email"], smtp_conn_id=CONN["smtp"])


file_recon()
