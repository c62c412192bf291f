"""The Postgres results store: one reconciled partition (recon, source, business date) per load.

``ensure_schema`` applies ``include/sql/schema.sql``; ``load_outcome`` replaces a partition in
one transaction: the run row, its breaks (streamed from ``results.parquet`` with COPY; matched
rows never leave polars), its data-quality checks and an audit-log row. The queries live in
``include/sql/results_store.sql``.

A classified outcome (summary.json with ``classification``, e.g. payments) stores every row of
a break type, ``timing`` included, with its type, currency and impact; the run gets the
``financial_impact`` figures, ``thresholds.high_value_amount`` and the counts per break type.

The outcome is read and checked first (``stores.partition.read_outcome``, which also derives
the data-quality checks; ``extra_checks`` adds the caller's). Bad input (a missing or
unreadable result file, a result that does not match its outcome) raises ``BadOutcomeError``;
a server that is unreachable, too slow or frozen raises ``PostgresUnavailableError`` within the
bounds of ``hooks.postgres`` (connect, statement and lock timeouts), so that Airflow retries.
Either way the transaction rolls back and the previous partition stays intact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Final, TypedDict

import polars as pl
import psycopg
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from recon.errors import first_line
from recon.pipeline_config.volume import HistoryDay, is_incomplete
from recon.result import STATUSES, SUMMARY_FILE
from recon_airflow.hooks.postgres import postgres_session
from recon_airflow.settings import SQL_DIR
from recon_airflow.stores.partition import (
    BadOutcomeError,
    Partition,
    QualityCheck,
    break_rows,
    read_outcome,
)

if TYPE_CHECKING:
    from airflow.providers.postgres.hooks.postgres import PostgresHook

BATCH_ROWS: Final = 50_000  # break rows per COPY chunk
RUN_SUCCEEDED: Final = "succeeded"
RUN_INCOMPLETE: Final = "incomplete"  # loaded, but a side brought fewer rows than expected
RUN_FIGURES: Final = (
    *("records", "total_keys", "breaks", "break_rate", "match_rate"),
    *("risk_level", "threshold_passed"),
)


class LoadStats(TypedDict):
    run_id: int
    recon: str
    source: str
    business_date: str
    breaks: int  # rows written to recon.breaks
    carried_over: int  # of those, keys that already broke on the previous run
    checks: int
    checks_failed: int
    replaced: bool
    previous: dict[str, Any] | None  # the replaced run: run_id, airflow_run_id, loaded_at, counts


# -- public API -----------------------------------------------------------------------------


def ensure_schema(hook: PostgresHook, *, force: bool = False) -> bool:
    """Apply schema.sql unless this exact version of it was applied; True when it ran.

    Serialised by a transaction-level advisory lock, so concurrent mapped tasks may all call it.
    Skipping an applied version keeps loads from taking DDL locks on views that people read.
    """
    text = (SQL_DIR / "schema.sql").read_text(encoding="utf-8")
    digest = {"sha256": hashlib.sha256(text.encode()).hexdigest()}
    q = queries()
    with postgres_session(hook) as conn, conn.transaction():
        cur = conn.cursor(row_factory=tuple_row)
        cur.execute(q["lock_schema"])
        if not force and _one(cur, q["schema_table"]) and _one(cur, q["schema_applied"], digest):
            return False
        cur.execute(text)  # no parameters, so the whole file runs in one call
        cur.execute(q["record_schema"], digest)
    return True


def load_outcome(
    hook: PostgresHook,
    outcome: Mapping[str, Any],
    *,
    dag_id: str,
    airflow_run_id: str,
    extra_checks: Iterable[Mapping[str, Any]] = (),
) -> LoadStats:
    """Replace the outcome's partition (run, breaks, checks) in one transaction and audit it."""
    part = read_outcome(outcome, extra_checks)
    q = queries()
    with postgres_session(hook) as conn, conn.transaction():
        cur = conn.cursor(row_factory=tuple_row)
        cur.execute(q["lock_partition"], part.params())
        cur.execute(q["current_partition"], part.params())
        previous = _fetch_dict(cur)
        if previous is not None:
            cur.execute(q["delete_run"], {"run_id": previous["run_id"]})
        run_id = _one(cur, q["insert_run"], _run_params(part, dag_id, airflow_run_id))
        ids = {**part.params(), "run_id": run_id}
        cur.execute(q["create_breaks_in"])
        copied = _copy_breaks(cur, q["copy_breaks_in"], part)
        if copied != part.expected_breaks:
            raise BadOutcomeError(part.where, [_count_problem(part, copied)])
        cur.execute(q["insert_breaks"], ids)
        cur.execute(q["count_breaks"], ids)
        loaded, carried = cur.fetchone() or (0, 0)
        cur.executemany(q["insert_check"], [_check_params(part, c, ids) for c in part.checks])
        after = {"run_id": run_id, "records": part.summary["records"], "breaks": loaded}
        details = {
            "dag_id": dag_id,
            "airflow_run_id": airflow_run_id,
            "result_dir": str(part.result_dir),
            "inputs": part.inputs,
            "before": previous,
            "after": {**after, "checks": len(part.checks)},
        }
        action = "insert_partition" if previous is None else "replace_partition"
        audit = {"actor": f"airflow:{dag_id}", "action": action, "details": Jsonb(details)}
        cur.execute(q["append_audit"], {**ids, **audit})
    return LoadStats(
        run_id=run_id,
        recon=part.recon,
        source=part.source,
        business_date=part.business_date.isoformat(),
        breaks=loaded,
        carried_over=carried,
        checks=len(part.checks),
        checks_failed=sum(not c["passed"] for c in part.checks),
        replaced=previous is not None,
        previous=previous,
    )


def volume_history(
    hook: PostgresHook, *, recon: str, source: str, since: dt.date, before: dt.date
) -> list[HistoryDay]:
    """The rows each side brought on the partitions of (recon, source) in ``[since, before)``,
    latest first; none before the first load created the schema."""
    q = queries()
    params = {"recon": recon, "source": source, "since": since, "business_date": before}
    with postgres_session(hook) as conn:
        cur = conn.cursor(row_factory=tuple_row)
        if not _one(cur, q["schema_table"]):
            return []
        cur.execute(q["volume_history"], params)
        rows = cur.fetchall()
    return [HistoryDay(business_date=day, left=left, right=right) for day, left, right in rows]


@cache
def queries() -> dict[str, str]:
    """The ``-- name: x`` blocks of results_store.sql, by name."""
    text = (SQL_DIR / "results_store.sql").read_text(encoding="utf-8")
    blocks = re.split(r"^-- name: *(\w+) *$", text, flags=re.MULTILINE)
    return {name: body.strip() for name, body in zip(blocks[1::2], blocks[2::2], strict=True)}


# -- database helpers -----------------------------------------------------------------------


def _one(cur: psycopg.Cursor[Any], query: str, params: Mapping[str, Any] | None = None) -> Any:
    cur.execute(query, params)
    row = cur.fetchone()
    return None if row is None else row[0]


def _fetch_dict(cur: psycopg.Cursor[Any]) -> dict[str, Any] | None:
    """The next row by column name, JSON-able (for audit details and stats), or None."""
    row = cur.fetchone()
    if row is None or cur.description is None:
        return None
    found = dict(zip([c.name for c in cur.description], row, strict=True))
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in found.items()}


def _run_params(part: Partition, dag_id: str, airflow_run_id: str) -> dict[str, Any]:
    s = part.summary
    impact = s.get("financial_impact") or {}
    thresholds = s.get("thresholds") or {}
    return {
        **part.params(),
        **{status: s["counts"][status] for status in STATUSES},
        **{name: s[name] for name in RUN_FIGURES},
        "spec": part.spec,
        "status": RUN_INCOMPLETE if is_incomplete(s) else RUN_SUCCEEDED,
        "dag_id": dag_id,
        "airflow_run_id": airflow_run_id,
        "started_at": part.started_at,
        "finished_at": part.finished_at,
        "left_label": part.labels["left"],
        "right_label": part.labels["right"],
        "match_rate_by_amount": s.get("match_rate_by_amount"),
        "discrepancy_amount": _numeric(s["discrepancy_amount"]),
        "max_break_rate": thresholds.get("max_break_rate"),
        "inputs": Jsonb(part.inputs),
        "report_links": Jsonb(part.report_links),
        "summary": Jsonb(s),
        "reporting_currency": impact.get("reporting_currency"),
        "volume": _numeric(impact.get("volume")),
        "impact_discrepancy_amount": _numeric(impact.get("discrepancy_amount")),
        "discrepancy_rate": impact.get("discrepancy_rate"),
        "compliance_status": impact.get("compliance_status"),
        "high_value_amount": _numeric(thresholds.get("high_value_amount")),
        "breaks_by_type": Jsonb(part.breaks_by_type()),
    }


def _numeric(value: Any) -> Decimal | None:
    """A JSON number as numeric: repr is the float's shortest exact text (no binary noise)."""
    return None if value is None else Decimal(repr(float(value)))


def _check_params(part: Partition, check: QualityCheck, ids: dict[str, Any]) -> dict[str, Any]:
    return {
        **ids,
        "name": check["name"],
        "side": check["side"],
        "side_label": part.labels.get(check["side"]),
        "passed": check["passed"],
        "observed": Jsonb(check["observed"]),
        "expected": Jsonb(check["expected"]),
        "details": Jsonb(check["details"]),
    }


def _copy_breaks(cur: psycopg.Cursor[Any], statement: str, part: Partition) -> int:
    """Stream the break rows into the temporary table as CSV; return how many were copied."""
    copied = 0
    rows = break_rows(pl.scan_parquet(part.results), part)
    with cur.copy(statement) as copy:
        try:
            for batch in rows.collect_batches(chunk_size=BATCH_ROWS):
                buffer = io.BytesIO()
                batch.write_csv(buffer, include_header=False)
                copy.write(buffer.getbuffer())
                copied += batch.height
        except pl.exceptions.PolarsError as exc:
            problem = f"{part.results}: cannot be read ({first_line(exc)})"
            raise BadOutcomeError(part.where, [problem]) from exc
    return copied


def _count_problem(part: Partition, copied: int) -> str:
    counted = " (classification.breaks)" if part.classification else ""
    return (
        f"{part.results}: {copied} break rows, but {SUMMARY_FILE} says"
        f" {part.expected_breaks}{counted} (were the two files written by different runs?)"
    )


__all__ = [
    "BadOutcomeError",
    "LoadStats",
    "break_rows",
    "ensure_schema",
    "load_outcome",
    "queries",
    "read_outcome",
    "volume_history",
]
