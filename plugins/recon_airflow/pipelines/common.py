"""Tasks every recon DAG shares: the business date, plan lists to map over, report publishing."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

from recon.pipeline_config.base import Config, PipelineConfig, load_pipeline_config
from recon_airflow.errors import failing_for_good
from recon_airflow.operators.reconcile import outcome_of
from recon_airflow.outcome import COMBINED, Outcome
from recon_airflow.report_archive import publish_reports
from recon_airflow.settings import partition_dir, reports_root, staging_root

if TYPE_CHECKING:
    from recon.spec import ReconSpec

log = logging.getLogger(__name__)


def pipeline_config(model: type[Config], name: str) -> Config:
    """The pipeline's config; a mistake in it fails the task without retry."""
    with failing_for_good():
        return load_pipeline_config(model, name)


@task
def plan_list(plan: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """One of the plan's per-source lists, as its own XCom (Airflow maps only over those)."""
    return list(plan[name])


@task
def publish_all(
    sources: list[Outcome], combined: Outcome | None, s3_conn_id: str, pipeline: str
) -> list[Outcome]:
    """Archive every report (the combined one too, if any); the sources come back with their
    links."""
    reports = pipeline_config(PipelineConfig, pipeline).reports

    def publish(outcome: Outcome) -> Outcome:
        return publish_reports(
            outcome,
            s3_conn_id=s3_conn_id,
            bucket=reports.s3_bucket,
            prefix=reports.s3_prefix,
            expires_in=reports.presign_seconds,
        )

    if combined is not None:
        log.info("combined reports: %s", publish(combined)["report_links"])
    return [publish(o) for o in sources]


def combined_partition(
    outcomes: Sequence[Outcome],
    spec: ReconSpec,
    *,
    business_date: dt.date,
    name: str,
    summarise: Callable[[Path, dict[str, Any]], dict[str, Any]] | None = None,
) -> Outcome:
    """Every source's results as one (``ALL``), with its reports: the run's combined view.

    :param summarise: rewrites the combined summary (e.g. the payments' break types) before
        the reports are written.
    """
    import polars as pl

    from recon.engine.combine import combine_results
    from recon.reports import write_reports

    recon = outcomes[0]["recon"]
    out = partition_dir(staging_root(), recon, business_date, COMBINED)
    report_dir = partition_dir(reports_root(), recon, business_date, COMBINED)
    started = dt.datetime.now(dt.UTC)
    parts = {o["source"]: Path(o["result_dir"]) for o in outcomes}
    path, summary = combine_results(parts, spec, out, name=f"{recon} ({name})")
    if summarise is not None:
        summary = summarise(path, summary)
    shutil.rmtree(report_dir, ignore_errors=True)
    reports = write_reports(pl.scan_parquet(path), summary, report_dir)
    return outcome_of(
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
