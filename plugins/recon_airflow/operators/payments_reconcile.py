"""Reconcile one processor's staged day against the staged ledger (``recon.payments``).

Mapped per processor (``.partial(...).expand(processor=<extract task>.output)``): the
processor's snapshot names the partition; the ledger snapshot (every processor, the days
around D) is shared. Results, summary and reports replace the partition's previous ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from recon.errors import ReconError
from recon.spec import load_spec
from recon_airflow.dates import as_date
from recon_airflow.errors import BadInputError
from recon_airflow.operators.reconcile import reported_partition, snapshot_input, with_tolerance
from recon_airflow.outcome import Outcome, Snapshot
from recon_airflow.settings import partition_dir, staging_root
from recon_airflow.timeouts import RECONCILE_EXECUTION_TIMEOUT, with_execution_timeout


class PaymentsReconcileOperator(BaseOperator):
    """Classify one processor's business date into the payments break types.

    :param processor: the processor extract's Snapshot (its ``source`` is the processor).
    :param ledger: the ledger extract's Snapshot (bookings around the business date).
    :param spec: the payments spec file.
    :param settlement_hours: the settlement window W (processor records up to D+1+W count).
    :param tolerance: overrides the amount's absolute tolerance (a trigger param); empty keeps
        the spec's.
    """

    template_fields: Sequence[str] = (
        "processor",
        "ledger",
        "spec",
        "business_date",
        "settlement_hours",
        "tolerance",
    )

    def __init__(
        self,
        *,
        processor: Snapshot,
        ledger: Snapshot,
        spec: str,
        business_date: dt.date | str,
        settlement_hours: float | str = 0.0,
        tolerance: float | str | None = None,
        report_formats: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**with_execution_timeout(kwargs, RECONCILE_EXECUTION_TIMEOUT))
        self.processor = processor
        self.ledger = ledger
        self.spec = spec
        self.business_date = business_date
        self.settlement_hours = settlement_hours
        self.tolerance = tolerance
        self.report_formats = report_formats  # None: every format

    def execute(self, context: Context) -> Outcome:
        import polars as pl

        from recon.payments import Day, reconcile_payments

        source = self.processor["source"]
        started = dt.datetime.now(dt.UTC)
        try:
            spec = with_tolerance(load_spec(self.spec), self.tolerance)
            day = Day(
                as_date(self.business_date),
                dt.timedelta(hours=float(self.settlement_hours)),
            )
            inputs = {"left": snapshot_input(self.processor), "right": snapshot_input(self.ledger)}
            result = reconcile_payments(
                pl.scan_parquet(self.processor["path"]),
                pl.scan_parquet(self.ledger["path"]),
                spec,
                processor_name=source,
                day=day,
                out_dir=partition_dir(staging_root(), self.dag_id, day.business_date, source),
                inputs=inputs,
            )
        except (ReconError, ValueError) as exc:  # bad data, spec or params: retrying cannot help
            raise BadInputError(f"{source} {self.business_date}: {exc}") from None
        outcome = reported_partition(
            spec,
            result,
            recon=self.dag_id,
            source=source,
            business_date=self.business_date,
            inputs=inputs,
            report_formats=self.report_formats,
            started_at=started,
        )
        impact = result.summary["financial_impact"]
        self.log.info(
            "%s %s: %d keys, %d breaks, %s %s at stake (%.3f%%), %s, %s",
            source,
            self.business_date,
            result.summary["total_keys"],
            result.summary["classification"]["breaks"],
            impact["discrepancy_amount"],
            impact["reporting_currency"],
            100 * impact["discrepancy_rate"],
            impact["risk_level"],
            impact["compliance_status"],
        )
        return outcome
