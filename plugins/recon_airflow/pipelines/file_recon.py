"""Tasks of the ``file_recon`` DAG that are not generic operators.

- ``plan_job`` validates the run's conf (a :class:`~recon_airflow.file_jobs.FileReconRequest`,
  whoever triggered it: the form, the upload API, the CLI) and names the job, its business
  date and where its two files are staged.
- ``reconcile_files`` builds the spec from the request and the staged files' columns
  (:func:`recon.spec.adhoc.adhoc_spec`) and runs the core.
- ``email_report`` sends the summary with the reports attached to whoever asked, if anyone.

Fetching, publishing and loading are the shared operators and tasks.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from airflow.sdk import get_current_context, task

from recon_airflow.dates import business_date_of
from recon_airflow.errors import BadInputError, failing_for_good
from recon_airflow.file_jobs import (
    DAG_ID,
    FileReconRequest,
    adhoc_options,
    job_id_of,
    parse_request,
)
from recon_airflow.operators.reconcile import reconcile_partition, snapshot_input
from recon_airflow.outcome import Outcome, Snapshot
from recon_airflow.settings import partition_dir, staging_root

log = logging.getLogger(__name__)
TIMEZONE = "UTC"  # a job's business date: its own, else the UTC day it was triggered
DAYS_BEFORE = 0


@task(multiple_outputs=True)
def plan_job() -> dict[str, Any]:
    """The request from the run's params, its job id, business date and staging paths."""
    context = get_current_context()
    params = context["params"]
    conf = {name: params[name] for name in FileReconRequest.model_fields if name in params}
    try:
        request = parse_request(conf)
    except ValueError as exc:
        raise BadInputError(f"{DAG_ID}: {exc}") from None
    job = job_id_of(request, context["dag_run"].run_id)
    day = business_date_of(context, timezone=TIMEZONE, days_before=DAYS_BEFORE)
    folder = partition_dir(staging_root(), DAG_ID, day, job)
    needed = list(dict.fromkeys([*request.unique_fields, *request.compare_fields]))
    needed += [f for f in request.date_fields if f not in needed]
    log.info("job %s (%s): %s vs %s", job, day, request.left, request.right)
    return {
        "job_id": job,
        "business_date": day,
        "left": request.left,
        "right": request.right,
        "left_snapshot": str(folder / "left.parquet"),
        "right_snapshot": str(folder / "right.parquet"),
        "columns": needed,
        "delimiter": request.delimiter,
        "encoding": request.encoding,
        "email": request.email,
        "request": request.model_dump(mode="json"),
    }


@task
def reconcile_files(
    left: Snapshot, right: Snapshot, request: dict[str, Any], job_id: str, business_date: dt.date
) -> Outcome:
    """The core on the two staged files, under the spec the request and their columns make."""
    import polars as pl

    from recon.spec.adhoc import adhoc_spec

    asked = FileReconRequest.model_validate(request)
    frames = (pl.scan_parquet(left["path"]), pl.scan_parquet(right["path"]))
    options = adhoc_options(asked.model_dump(), name=f"{DAG_ID}.{job_id}")
    with failing_for_good(job_id):
        spec = adhoc_spec(
            options,
            frames[0].collect_schema().names(),
            frames[1].collect_schema().names(),
            files=(left["file"], right["file"]),
        )
    return reconcile_partition(
        spec,
        *frames,
        recon=DAG_ID,
        source=job_id,
        business_date=business_date,
        inputs={"left": snapshot_input(left), "right": snapshot_input(right)},
        report_formats=asked.report_formats,
    )


@task
def email_report(outcomes: list[Outcome], email: str | None, smtp_conn_id: str) -> dict[str, Any]:
    """E-mail the summary with every report attached, when the request named an address."""
    from recon_airflow.notifiers.alerts import outcome_list, read_top_breaks, send_summary

    if not email:
        log.info("no e-mail address in the request: the reports stay where they were published")
        return {"email": False}
    done = outcome_list(outcomes)
    attach = [path for o in done for path in o["reports"].values()]
    sent = send_summary(
        done,
        recon=DAG_ID,
        business_date=done[0]["business_date"],
        email_to=email,
        smtp_conn_id=smtp_conn_id,
        slack_conn_id=None,  # the requester's report, not an operations alert
        attach=attach,
        top_breaks=read_top_breaks(done, 5),
    )
    return {**sent, "to": email}
