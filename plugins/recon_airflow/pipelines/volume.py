"""The volume check of every pipeline: each reconciled source's rows against its expectation.

After the reconcile tasks and before anything is published, loaded or sent: each source's rows
per side (``summary.json``'s ``inputs``) are compared with the pipeline config's ``volume:``
rules and the source's trailing history in ``recon.runs`` (``recon.pipeline_config.volume``).
A source that falls short is *incomplete*: its ``summary.json`` (so ``recon.runs``, the
e-mail, Slack and the reports, which are written again) says which side, how many rows and how
many were expected, with risk ``HIGH`` and its thresholds failed; it is still loaded, so the
numbers are visible. A day of the calendar the source is known to be empty is no alert.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

from recon.files import finite_values
from recon.pipeline_config.base import PipelineConfig
from recon.pipeline_config.volume import (
    INCOMPLETE,
    VolumeFinding,
    VolumeRules,
    history_since,
    volume_finding,
    with_volume,
)
from recon.result import RESULTS_FILE, SUMMARY_FILE
from recon_airflow.dates import as_date
from recon_airflow.notifiers.alerts import outcome_list
from recon_airflow.outcome import Outcome
from recon_airflow.pipelines.common import pipeline_config

if TYPE_CHECKING:
    from airflow.providers.postgres.hooks.postgres import PostgresHook

log = logging.getLogger(__name__)
SIDES = ("left", "right")


@task
def check_volumes(outcomes: list[Outcome], pipeline: str, postgres_conn_id: str) -> list[Outcome]:
    """Every source's outcome with its volume finding (``summary.volume``); see the module."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    settings = pipeline_config(PipelineConfig, pipeline).volume
    hook = PostgresHook(postgres_conn_id=postgres_conn_id)
    return [
        checked_outcome(o, settings.for_source(o["source"]), hook) for o in outcome_list(outcomes)
    ]


def checked_outcome(outcome: Outcome, rules: VolumeRules, hook: PostgresHook) -> Outcome:
    """``outcome`` held to ``rules``, its history read from the results store behind ``hook``."""
    from recon_airflow.stores.postgres import volume_history

    if not rules.sides:
        return outcome
    day = as_date(outcome["business_date"])
    history = []
    if not rules.calendar.is_empty_day(day):
        since = history_since(day, rules)
        history = volume_history(
            hook, recon=outcome["recon"], source=outcome["source"], since=since, before=day
        )
    inputs = outcome["summary"]["inputs"]
    rows = {side: int(inputs[side]["rows"]) for side in SIDES}
    finding = volume_finding(day, rows, history, rules, outcome["labels"])
    return with_finding(outcome, finding)


def with_finding(outcome: Outcome, finding: VolumeFinding) -> Outcome:
    """The finding folded into the partition's ``summary.json`` (and its reports, when it makes
    the partition incomplete); returns the outcome with that summary."""
    result_dir = Path(outcome["result_dir"])
    summary = json.loads((result_dir / SUMMARY_FILE).read_text(encoding="utf-8"))
    amended = with_volume(summary, finding)
    from recon.engine.reconcile import write_summary

    write_summary(result_dir, amended)
    if finding["status"] == INCOMPLETE:
        log.warning(
            "%s %s %s is incomplete: %s",
            outcome["recon"],
            outcome["source"],
            finding["business_date"],
            "; ".join(finding["problems"]),
        )
        _rewrite_reports(outcome, result_dir, amended)
    else:
        log.info("%s %s: volume %s", outcome["recon"], outcome["source"], finding["status"])
    return {**outcome, "summary": finite_values(amended)}


def _rewrite_reports(outcome: Outcome, result_dir: Path, summary: dict[str, Any]) -> None:
    """The reports again, with the verdicts the finding forced (replaced as a whole set)."""
    if not outcome["reports"]:
        return
    import polars as pl

    from recon.engine.publish import published
    from recon.reports import REPORT_FILES, write_reports

    report_dir = Path(next(iter(outcome["reports"].values()))).parent
    with published(report_dir, REPORT_FILES.values()) as staging:
        write_reports(
            pl.scan_parquet(result_dir / RESULTS_FILE), summary, staging, list(outcome["reports"])
        )
