"""Tasks of the ``aum_recon`` DAG that are not generic operators: plan, merge and publish.

- ``plan_run`` turns the trigger's params (or the schedule) into the business date and one
  set of arguments per registrar for the wait, fetch and reconcile tasks.
- ``merge_registrars`` adds the ledger positions no registrar services (``UNASSIGNED``: every
  one is ``mongo_only``) and writes the combined report of all sources.
- ``publish_all`` archives every report (S3 with presigned links, or local paths).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path
from typing import Any

from airflow.sdk import get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from recon.errors import ReconError
from recon.spec import load_spec
from recon_airflow.aum_config import AumConfig, load_aum_config
from recon_airflow.dates import business_date_for
from recon_airflow.operators.reconcile import outcome_of, reconcile_partition, snapshot_input
from recon_airflow.outcome import Outcome, Snapshot
from recon_airflow.report_archive import publish_reports
from recon_airflow.settings import partition_dir, reports_root, staging_root

log = logging.getLogger(__name__)
TIMEZONE = "Asia/Kolkata"  # the schedule's and the business date's
DAYS_BEFORE = 1  # a run reconciles the day before (files for D arrive on D+1)
UNASSIGNED = "UNASSIGNED"
COMBINED = "ALL"


def business_date_of(param: str | None, logical: dt.datetime | None) -> dt.date:
    """The business date a run reconciles: the param, else the day before the run (IST).

    Registrars publish day D's holdings on the morning of D+1, so the 07:30 IST run of D+1
    reconciles D; a backfill over a range therefore gives one business date per run.
    """
    try:
        day = business_date_for(param, logical, timezone=TIMEZONE, days_before=DAYS_BEFORE)
    except ValueError:
        raise AirflowFailException(
            f"business_date {param!r} is not a date; use YYYY-MM-DD"
        ) from None
    if day is None:
        raise AirflowFailException("no business_date given and the run has no logical date")
    return day


def _config() -> AumConfig:
    try:
        return load_aum_config()
    except ReconError as exc:
        raise AirflowFailException(str(exc)) from None


@task(multiple_outputs=True)
def plan_run(registrars: list[str], business_date: str | None = None) -> dict[str, Any]:
    """Resolve the business date and each chosen registrar's file, spec and ledger filter."""
    context = get_current_context()
    dag_run = context["dag_run"]
    logical = dag_run.logical_date or getattr(dag_run, "run_after", None)
    day = business_date_of(business_date, logical)
    config = _config()
    if not registrars:
        raise AirflowFailException("choose at least one registrar")
    chosen = [config.registrar(name) for name in registrars]  # unknown names fail here
    dag_id = context["dag"].dag_id
    fetch = []
    for name, reg in zip(registrars, chosen, strict=True):
        spec = load_spec(config.spec_path(name))
        fetch.append(
            {
                "source": name,
                "remote_path": reg.remote_file(day),
                "business_date": day.isoformat(),
                "report_date_field": reg.report_date.field,
                "report_date_format": reg.report_date.format,
                "snapshot_path": str(
                    partition_dir(staging_root(), dag_id, day, name) / "left.parquet"
                ),
                "required_columns": spec.columns("left"),
            }
        )
    return {
        "business_date": day.isoformat(),
        "fetch": fetch,
        "waits": [{"path": item["remote_path"]} for item in fetch],
        "specs": {name: str(config.spec_path(name)) for name in registrars},
        "filters": {
            name: {"amc_code": reg.amc_codes} for name, reg in zip(registrars, chosen, strict=True)
        },
        "ledger_snapshot": str(
            partition_dir(staging_root(), dag_id, day, "ledger") / "right.parquet"
        ),
    }


@task
def per_registrar(plan: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """One of the plan's per-registrar lists, as its own XCom (Airflow maps only over those)."""
    return list(plan[name])


def _unassigned(
    config: AumConfig, outcome: Outcome, ledger: Snapshot, business_date: str
) -> Outcome:
    """Reconcile ledger positions of AMCs no registrar services (all ``mongo_only``)."""
    import polars as pl

    spec = load_spec(config.spec_path(outcome["source"]))
    # no registrar file: an empty left side shaped like the first registrar's snapshot
    empty_left = pl.scan_parquet(outcome["inputs"]["left"]["path"]).head(0)
    unclaimed = pl.scan_parquet(ledger["path"]).filter(
        ~pl.col("amc_code").is_in(list(config.owner_of()))
    )
    return reconcile_partition(
        spec,
        empty_left,
        unclaimed,
        recon=outcome["recon"],
        source=UNASSIGNED,
        business_date=business_date,
        inputs={
            "left": {"file": "(no registrar)", "sha256": "", "rows": 0},
            "right": snapshot_input(ledger),
        },
    )


@task(multiple_outputs=True)
def merge_registrars(
    outcomes: list[Outcome], ledger: Snapshot, business_date: str
) -> dict[str, Any]:
    """Per-source outcomes plus ``UNASSIGNED``, and the combined report of all of them."""
    import polars as pl

    from recon.combine import combine_results
    from recon.reports import write_reports

    config = _config()
    sources = list(outcomes)
    if not sources:
        raise AirflowFailException("no registrar was reconciled")
    sources.append(_unassigned(config, sources[0], ledger, business_date))
    recon = sources[0]["recon"]
    spec = load_spec(config.spec_path(sources[0]["source"]))
    out = partition_dir(staging_root(), recon, business_date, COMBINED)
    report_dir = partition_dir(reports_root(), recon, business_date, COMBINED)
    started = dt.datetime.now(dt.UTC)
    parts = {o["source"]: Path(o["result_dir"]) for o in sources}
    path, summary = combine_results(parts, spec, out, name=f"{recon} (all sources)")
    shutil.rmtree(report_dir, ignore_errors=True)
    reports = write_reports(pl.scan_parquet(path), summary, report_dir)
    combined = outcome_of(
        spec,
        recon=recon,
        source=COMBINED,
        business_date=business_date,
        result_dir=out,
        summary=summary,
        inputs={},
        reports=reports,
        started_at=started,
    )
    return {"sources": sources, "combined": combined}


@task
def publish_all(sources: list[Outcome], combined: Outcome, s3_conn_id: str) -> list[Outcome]:
    """Archive every report (the combined one too); the sources come back with their links."""
    config = _config()

    def publish(outcome: Outcome) -> Outcome:
        return publish_reports(
            outcome,
            s3_conn_id=s3_conn_id,
            bucket=config.reports.s3_bucket,
            prefix=config.reports.s3_prefix,
            expires_in=config.reports.presign_seconds,
        )

    log.info("combined reports: %s", publish(combined)["report_links"])
    return [publish(o) for o in sources]
