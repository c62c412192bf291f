"""Tasks of the ``aum_recon`` DAG that are not generic operators: plan, merge and publish.

- ``plan_run`` turns the trigger's params (or the schedule) into the business date and one
  set of arguments per registrar for the wait, fetch and reconcile tasks.
- ``merge_registrars`` adds the ledger positions no registrar services (``UNASSIGNED``: every
  one is ``mongo_only``) and writes the combined report of all sources.

Listing and publishing are the shared ``pipelines.common`` tasks.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from airflow.sdk import get_current_context, task

from recon.pipeline_config.aum import CONFIG_NAME, AumConfig
from recon.spec import load_spec
from recon_airflow.dates import business_date_of
from recon_airflow.errors import BadInputError
from recon_airflow.operators.reconcile import reconcile_partition, snapshot_input
from recon_airflow.outcome import Outcome, Snapshot
from recon_airflow.pipelines.common import (
    combined_partition,
    pipeline_config,
)
from recon_airflow.settings import partition_dir, staging_root

log = logging.getLogger(__name__)
TIMEZONE = "Asia/Kolkata"  # the schedule's and the business date's
DAYS_BEFORE = 1  # a run reconciles the day before (files for D arrive on D+1)
UNASSIGNED = "UNASSIGNED"


def _config() -> AumConfig:
    return pipeline_config(AumConfig, CONFIG_NAME)


@task(multiple_outputs=True)
def plan_run(registrars: list[str]) -> dict[str, Any]:
    """Resolve the business date and each chosen registrar's file, spec and ledger filter."""
    context = get_current_context()
    day = business_date_of(context, timezone=TIMEZONE, days_before=DAYS_BEFORE)
    config = _config()
    if not registrars:
        raise BadInputError("choose at least one registrar")
    chosen = [config.registrar(name) for name in registrars]  # unknown names fail here
    dag_id = context["dag"].dag_id
    fetch = []
    for name, reg in zip(registrars, chosen, strict=True):
        spec = load_spec(config.spec_path(name))
        fetch.append(
            {
                "source": name,
                "remote_path": reg.remote_file(day),
                "business_date": day,
                "report_date_field": reg.report_date.field,
                "report_date_format": reg.report_date.format,
                "snapshot_path": str(
                    partition_dir(staging_root(), dag_id, day, name) / "left.parquet"
                ),
                "required_columns": spec.columns("left"),
            }
        )
    return {
        "business_date": day,
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


def _unassigned(
    config: AumConfig, outcome: Outcome, ledger: Snapshot, business_date: dt.date
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
    outcomes: list[Outcome], ledger: Snapshot, business_date: dt.date
) -> dict[str, Any]:
    """Per-source outcomes plus ``UNASSIGNED``, and the combined report of all of them."""

    config = _config()
    sources = list(outcomes)
    if not sources:
        raise BadInputError("no registrar was reconciled")
    sources.append(_unassigned(config, sources[0], ledger, business_date))
    spec = load_spec(config.spec_path(sources[0]["source"]))
    combined = combined_partition(sources, spec, business_date=business_date, name="all sources")
    return {"sources": sources, "combined": combined}
