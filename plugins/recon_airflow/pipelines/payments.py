"""Tasks of the ``payments_recon`` DAG that are not generic operators: plan and merge.

- ``plan_run`` turns the trigger's params (or the schedule) into the business date, one set of
  extract arguments per processor, the ledger query's window and the settlement window.
- ``merge_processors`` writes the combined report of every processor (classification and
  financial impact over all of them).

Listing and publishing are the shared ``pipelines.common`` tasks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import get_current_context, task

from recon.pipeline_config.payments import CONFIG_NAME, PaymentsConfig
from recon.spec import load_spec
from recon_airflow.dates import business_date_of
from recon_airflow.errors import BadInputError
from recon_airflow.outcome import Outcome
from recon_airflow.pipelines.common import (
    combined_partition,
    pipeline_config,
)
from recon_airflow.settings import partition_dir, staging_root

TIMEZONE = "UTC"  # processors and the ledger keep UTC days
DAYS_BEFORE = 1  # a run reconciles the day before (the settlement window must have passed)


@task(multiple_outputs=True)
def plan_run(
    processors: list[str],
    settlement_hours: float | None = None,
) -> dict[str, Any]:
    """Resolve the business date, each processor's extract, the ledger window and the spec."""
    context = get_current_context()
    day = business_date_of(context, timezone=TIMEZONE, days_before=DAYS_BEFORE)
    config = pipeline_config(PaymentsConfig, CONFIG_NAME)
    unknown = sorted(set(processors or ()) - set(config.processors))
    if not processors or unknown:
        raise BadInputError(
            f"choose processors among {', '.join(config.processors)}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    window = config.settlement_window_hours if settlement_hours is None else settlement_hours
    if not 0 <= float(window) <= 24:
        raise BadInputError(f"settlement window {window} h must be between 0 and 24")
    dag_id = context["dag"].dag_id
    staging = staging_root()
    return {
        "business_date": day,
        "extracts": [
            {
                "processor": name,
                "business_date": day,
                "settlement_hours": float(window),
                "snapshot_path": str(
                    partition_dir(staging, dag_id, day, name) / "processor.parquet"
                ),
            }
            for name in processors
        ],
        "settlement_hours": float(window),
        "spec": str(config.spec_path()),
        "ledger_sql": config.ledger.sql,
        "ledger_window": config.ledger_window(day),
        "ledger_snapshot": str(partition_dir(staging, dag_id, day, "ledger") / "ledger.parquet"),
    }


@task
def merge_processors(outcomes: list[Outcome], spec: str, business_date: dt.date) -> Outcome:
    """The combined result and report of every processor of the day."""
    from recon.payments import combined_summary

    if not outcomes:
        raise BadInputError("no processor was reconciled")
    payments = load_spec(spec)
    return combined_partition(
        outcomes,
        payments,
        business_date=business_date,
        name="all processors",
        summarise=lambda path, summary: combined_summary(path, summary, payments),
    )
