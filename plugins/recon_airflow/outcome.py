"""What the tasks of a recon DAG hand each other through XCom: small JSON-able dicts, never data.

``Snapshot`` is what an extract task returns (one side of one source, staged as Parquet);
``Outcome`` is what a reconcile task returns, and what the load, report and alert tasks take.
Keys are plain strings so the dicts survive XCom serialisation unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, TypedDict

COMBINED: Final = "ALL"  # the source of a run's combined result (every source's, stacked)


class Snapshot(TypedDict):
    """One side of one source, staged: ``{staging}/{dag_id}/{date}/{source}/{side}.parquet``."""

    source: str  # e.g. "CAMS", or "ledger" for the shared right side
    path: str  # absolute path of the Parquet snapshot
    rows: int
    sha256: str  # checksum of the original input (the file as received, or the snapshot)
    file: str  # the original input's name (e.g. the DBF file name, or a collection name)


class Outcome(TypedDict):
    """One reconciled partition (recon, source, business date)."""

    recon: str  # the pipeline, e.g. "aum_recon" (the DAG id)
    source: str  # e.g. "CAMS"
    business_date: dt.date  # the run's business date (one type from the plan to the stores)
    spec: str  # the core spec's name, e.g. "aum_cams"
    labels: dict[str, str]  # {"left": "dbf", "right": "mongo"}
    keys: list[str]  # canonical key column names in results.parquet
    amount_field: str | None  # the compare field whose difference is "the" difference
    result_dir: str  # holds results.parquet, summary.json and the reports
    inputs: dict[str, dict[str, Any]]  # side -> {"file", "sha256", "rows"}
    reports: dict[str, str]  # format -> local path
    report_links: dict[str, str]  # format -> presigned URL (S3) or local path
    summary: dict[str, Any]  # counts, breaks, break_rate, risk_level, threshold_passed, totals
    started_at: str  # ISO timestamps of the reconcile step
    finished_at: str
