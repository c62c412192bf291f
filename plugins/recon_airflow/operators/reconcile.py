"""Reconcile one source's two staged snapshots with the core, and write its reports.

Mapped per source (``.partial(...).expand(left=<extract task>.output)``): the source's name
comes from the left snapshot and picks its spec and the filter on the shared right side (e.g.
the ledger positions of the AMCs a registrar services).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, Context

from recon.files import finite_values
from recon.spec import ReconSpec, load_spec
from recon_airflow.dates import as_date
from recon_airflow.errors import BadInputError, failing_for_good
from recon_airflow.outcome import Outcome, Snapshot
from recon_airflow.settings import partition_dir, reports_root, staging_root
from recon_airflow.timeouts import RECONCILE_EXECUTION_TIMEOUT, with_execution_timeout

if TYPE_CHECKING:
    import polars as pl

    from recon.engine.reconcile import ReconResult
# polars and the engine load when a task runs, not when the scheduler parses the DAG file.


def filtered(frame: pl.LazyFrame, where: Mapping[str, Sequence[Any]] | None) -> pl.LazyFrame:
    """Keep the rows whose columns hold one of the listed values (all conditions must hold)."""
    import polars as pl

    for column, values in (where or {}).items():
        frame = frame.filter(pl.col(column).is_in(list(values)))
    return frame


def with_tolerance(spec: ReconSpec, tolerance: float | str | None) -> ReconSpec:
    """``spec`` with its amount field's absolute tolerance replaced (None or "" keeps it)."""
    if tolerance is None or tolerance == "":
        return spec
    try:
        value = float(tolerance)
    except (TypeError, ValueError):
        raise BadInputError(f"tolerance {tolerance!r} is not a number") from None
    field = spec.amount_field()
    if value < 0 or field is None or field not in spec.compare:
        raise BadInputError(
            f"cannot set tolerance {tolerance!r}: it must be >= 0 and the spec "
            f"{spec.name!r} needs a numeric amount field"
        )
    rule = spec.compare[field].model_copy(update={"abs_tol": value})
    return spec.model_copy(update={"compare": {**spec.compare, field: rule}})


def outcome_of(
    spec: ReconSpec,
    *,
    recon: str,
    source: str,
    business_date: dt.date | str,
    result_dir: Path,
    summary: dict[str, Any],
    inputs: dict[str, dict[str, Any]],
    reports: dict[str, Path],
    started_at: dt.datetime,
) -> Outcome:
    """The XCom-sized description of a reconciled partition."""
    return Outcome(
        recon=recon,
        source=source,
        business_date=as_date(business_date),
        spec=spec.name,
        labels={"left": spec.left.label, "right": spec.right.label},
        keys=[key.name for key in spec.keys],
        amount_field=spec.amount_field(),
        result_dir=str(result_dir),
        inputs=inputs,
        reports={fmt: str(path) for fmt, path in reports.items()},
        report_links={fmt: str(path) for fmt, path in reports.items()},
        summary=finite_values(summary),  # strict JSON for XCom, the API and the stores
        started_at=started_at.isoformat(),
        finished_at=dt.datetime.now(dt.UTC).isoformat(),
    )


def snapshot_input(snapshot: Snapshot) -> dict[str, Any]:
    keep = ("file", "sha256", "rows", "path")
    return {name: snapshot[name] for name in keep}  # type: ignore[literal-required]


def reconcile_partition(
    spec: ReconSpec,
    left: pl.LazyFrame,
    right: pl.LazyFrame,
    *,
    recon: str,
    source: str,
    business_date: dt.date | str,
    inputs: dict[str, dict[str, Any]],
    report_formats: Sequence[str] | None = None,
) -> Outcome:
    """Reconcile one partition into its staging folder and write its reports (replacing both).

    Bad data or a bad spec raises ``BadInputError`` (no retry): retrying cannot help.
    """
    from recon.engine.reconcile import reconcile_to_dir

    started = dt.datetime.now(dt.UTC)
    out = partition_dir(staging_root(), recon, business_date, source)
    names = (str(inputs["left"].get("file", "left")), str(inputs["right"].get("file", "right")))
    with failing_for_good(source):
        result = reconcile_to_dir(left, right, spec, out, sources=names, inputs=inputs)
    return reported_partition(
        spec,
        result,
        recon=recon,
        source=source,
        business_date=business_date,
        inputs=inputs,
        report_formats=report_formats,
        started_at=started,
    )


def reported_partition(
    spec: ReconSpec,
    result: ReconResult,
    *,
    recon: str,
    source: str,
    business_date: dt.date | str,
    inputs: dict[str, dict[str, Any]],
    report_formats: Sequence[str] | None,
    started_at: dt.datetime,
) -> Outcome:
    """Write a reconciled partition's reports (replacing the last ones) and describe it.

    The reports appear together or not at all: they are written beside the folder and swapped
    in (recon.engine.publish), and a re-run's set replaces the last one whole, never mixed."""
    from recon.engine.publish import published
    from recon.reports import REPORT_FILES, REPORT_FORMATS, write_reports

    if result.path is None:
        raise BadInputError(f"{source}: the result was not written to a folder")
    report_dir = partition_dir(reports_root(), recon, business_date, source)
    formats = list(REPORT_FORMATS if report_formats is None else report_formats)
    with published(report_dir, REPORT_FILES.values()) as staging:
        written = write_reports(result.scan(), result.summary, staging, formats)
    reports = {fmt: report_dir / path.name for fmt, path in written.items()}
    return outcome_of(
        spec,
        recon=recon,
        source=source,
        business_date=business_date,
        result_dir=result.path.parent,
        summary=result.summary,
        inputs=inputs,
        reports=reports,
        started_at=started_at,
    )


class ReconcileOperator(BaseOperator):
    """Run the core on ``left`` vs ``right`` snapshots; write results, summary and reports.

    :param left: the source's snapshot (its ``source`` names the partition and picks the spec).
    :param right: the other side's snapshot, shared by every source and narrowed by
        ``right_filters[source]``.
    :param specs: source -> spec file.
    :param right_filters: source -> {column: allowed values} applied to the right side.
    :param tolerance: overrides the absolute tolerance of the spec's amount field (a trigger
        param); empty keeps the spec's.
    """

    template_fields: Sequence[str] = (
        "left",
        "right",
        "specs",
        "right_filters",
        "business_date",
        "tolerance",
    )

    def __init__(
        self,
        *,
        left: Snapshot,
        right: Snapshot,
        specs: Mapping[str, str],
        business_date: dt.date | str,
        right_filters: Mapping[str, Mapping[str, Sequence[Any]]] | None = None,
        tolerance: float | str | None = None,
        report_formats: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**with_execution_timeout(kwargs, RECONCILE_EXECUTION_TIMEOUT))
        self.left = left
        self.right = right
        self.specs = specs
        self.business_date = business_date
        self.right_filters = right_filters
        self.tolerance = tolerance
        self.report_formats = report_formats  # None: every format

    def execute(self, context: Context) -> Outcome:
        import polars as pl

        source = self.left["source"]
        if source not in self.specs:
            raise BadInputError(f"no spec configured for source {source!r}")
        with failing_for_good():
            spec = load_spec(self.specs[source])
        where = (self.right_filters or {}).get(source)
        outcome = reconcile_partition(
            with_tolerance(spec, self.tolerance),
            pl.scan_parquet(self.left["path"]),
            filtered(pl.scan_parquet(self.right["path"]), where),
            recon=self.dag_id,
            source=source,
            business_date=self.business_date,
            inputs={"left": snapshot_input(self.left), "right": snapshot_input(self.right)},
            report_formats=self.report_formats,
        )
        summary = outcome["summary"]
        self.log.info(
            "%s %s: %d keys, %d breaks (%s)",
            source,
            self.business_date,
            summary["total_keys"],
            summary["breaks"],
            summary["risk_level"],
        )
        return outcome
