"""The human-facing view of a result: side labels, columns, break order and figures as text."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import polars as pl

from recon.errors import SchemaError
from recon.result import BREAK_STATUSES, LEFT_ONLY, MATCHED, RIGHT_ONLY, STATUSES

# Result columns that are neither keys nor per-field values (see recon.result).
ROW_COLUMNS: Final = (
    "status",
    "mismatched_fields",
    "left_rows",
    "right_rows",
    "side",
    "row",
    "reason",
    "break_amount",
)
NO_STATUS: Final = "no status"

# Columns that are empty by contract for a break type, left out of its sheet.
_EMPTY_FOR: Final[dict[str, tuple[str, ...]]] = {
    "mismatched": ("side", "row", "reason"),
    "left_only": ("right_*", "diff_*", "right_rows", "mismatched_fields", "side", "row", "reason"),
    "right_only": ("left_*", "diff_*", "left_rows", "mismatched_fields", "side", "row", "reason"),
    "duplicate": ("diff_*", "mismatched_fields"),
    "invalid": ("diff_*", "mismatched_fields"),
}


@dataclass(frozen=True)
class Sides:
    """The labels of the two sides (``processor`` / ``ledger``) and the words built on them."""

    left: str = "left"
    right: str = "right"

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> Sides:
        labels = summary.get("labels") or {}
        return cls(str(labels.get("left") or "left"), str(labels.get("right") or "right"))

    def status_label(self, status: str | None) -> str:
        if status == LEFT_ONLY:
            return f"{self.left} only"
        if status == RIGHT_ONLY:
            return f"{self.right} only"
        return NO_STATUS if status is None else status

    def side_label(self, side: str | None) -> str:
        return {"left": self.left, "right": self.right}.get(side or "", side or "")

    def side_values(self) -> dict[str, str]:
        return {"left": self.left, "right": self.right}

    def column_label(self, column: str, keys: Sequence[str] = ()) -> str:
        """``left_amount`` -> ``processor amount``; keys and unknown columns keep their name."""
        if column in keys:
            return column
        fixed = {
            "status": "type",
            "mismatched_fields": "mismatched fields",
            "left_rows": f"{self.left} rows",
            "right_rows": f"{self.right} rows",
            "side": "side",
            "row": "input row",
            "reason": "reason",
            "break_amount": "break amount",
        }
        if column in fixed:
            return fixed[column]
        for prefix, label in (("left_", self.left), ("right_", self.right)):
            if column.startswith(prefix):
                return f"{label} {column.removeprefix(prefix)}"
        if column.startswith("diff_"):
            return f"{column.removeprefix('diff_')} difference"
        return column


def _names(entries: Any) -> list[str]:
    """Key or field names from a summary list; a ``{name: ...}`` mapping counts by its name."""
    names = []
    for entry in entries or ():
        name = entry.get("name") if isinstance(entry, Mapping) else entry
        if isinstance(name, str):
            names.append(name)
    return names


def key_columns(schema: pl.Schema, summary: Mapping[str, Any]) -> list[str]:
    """The key columns: the summary's ``keys``, else every column that is not a value column."""
    named = [name for name in _names(summary.get("keys")) if name in schema]
    if named:
        return named
    return [
        name
        for name in schema
        if name not in ROW_COLUMNS and not name.startswith(("left_", "right_", "diff_"))
    ]


def compare_fields(schema: pl.Schema, summary: Mapping[str, Any]) -> list[str]:
    """The compared fields: the summary's ``compare_fields``, else those with a side column."""
    named = [
        name
        for name in _names(summary.get("compare_fields"))
        if f"left_{name}" in schema or f"right_{name}" in schema
    ]
    if named:
        return named
    fields: list[str] = []
    for column in schema:
        for prefix in ("left_", "right_"):
            field = column.removeprefix(prefix)
            if column.startswith(prefix) and column not in ROW_COLUMNS and field not in fields:
                fields.append(field)
    return fields


def checked_schema(results: pl.LazyFrame) -> pl.Schema:
    """The results' schema, once it is known to have the one column every report needs."""
    schema = results.collect_schema()
    if "status" not in schema:
        shown = ", ".join(f"`{name}`" for name in list(schema)[:12])
        raise SchemaError(
            f"results: no `status` column (columns: {shown or 'none'}); "
            "reports need a results frame as described in recon.result"
        )
    return schema


def break_rows(results: pl.LazyFrame) -> pl.LazyFrame:
    """Every row that is not ``matched`` (a row without a status is a break, never hidden)."""
    return results.filter(pl.col("status").ne_missing(MATCHED))


def by_break_amount(frame: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """Largest break first, then by key; ties broken by status, side and row for a stable order."""
    schema = frame.collect_schema()
    order: list[pl.Expr] = []
    if "break_amount" in schema:
        order.append(pl.col("break_amount").fill_nan(None))
    order += [pl.col(name) for name in (*keys, "status", "side", "row") if name in schema]
    if not order:
        return frame
    descending = [True] + [False] * (len(order) - 1) if "break_amount" in schema else False
    return frame.sort(order, descending=descending, nulls_last=True, maintain_order=True)


def _matches(column: str, pattern: str) -> bool:
    return column.startswith(pattern[:-1]) if pattern.endswith("*") else column == pattern


def display_columns(
    schema: pl.Schema, keys: Sequence[str], fields: Sequence[str], status: str | None = None
) -> list[str]:
    """Columns in reading order: keys, each field's two sides and difference, then the rest.

    With ``status`` the list is for one break type: its type column and the columns that are
    empty for that type by contract are left out.
    """
    wanted = [*keys, "status", "mismatched_fields"]
    for field in fields:
        wanted += [f"left_{field}", f"right_{field}", f"diff_{field}"]
    wanted += ["break_amount", "left_rows", "right_rows", "side", "row", "reason"]
    columns = list(dict.fromkeys(name for name in wanted if name in schema))
    columns += [name for name in schema if name not in columns]
    if status is None:
        return columns
    empty = ("status", *_EMPTY_FOR.get(status, ()))
    return [
        name
        for name in columns
        if name in keys or not any(_matches(name, pattern) for pattern in empty)
    ]


def status_overview(results: pl.LazyFrame) -> pl.LazyFrame:
    """Rows and break amount per status, computed from the data itself."""
    has_amount = "break_amount" in results.collect_schema()
    amount = pl.col("break_amount").fill_nan(None).sum() if has_amount else pl.lit(0.0)
    return results.group_by("status").agg(
        pl.len().alias("rows"), amount.cast(pl.Float64).alias("amount")
    )


def ordered_statuses(present: Iterable[str | None]) -> list[str | None]:
    """Break statuses in contract order, then any unexpected ones (a bug, but shown)."""
    present = list(present)
    known = [status for status in BREAK_STATUSES if status in present]
    others = [status for status in present if status not in STATUSES]
    return [*known, *sorted(others, key=lambda status: (status is None, status or ""))]


def figures_by_status(
    summary_figures: Any, overview: pl.DataFrame, column: str
) -> dict[str | None, float]:
    """The summary's per-status figures where it has them, the data's otherwise."""
    if isinstance(summary_figures, Mapping) and summary_figures:
        return {str(status): _number(value) for status, value in summary_figures.items()}
    return {row["status"]: _number(row[column]) for row in overview.iter_rows(named=True)}


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


# --- text for people -------------------------------------------------------------------------


def count_text(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return "—" if value is None else str(value)
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def amount_text(value: Any) -> str:
    if value is None:
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:,.2f}" if math.isfinite(number) else "—"


def percent_text(value: Any) -> str:
    if value is None:
        return "—"
    try:
        share = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(share):
        return "—"
    if 0 < abs(share) < 0.0001:
        return "<0.01%" if share > 0 else ">-0.01%"
    return f"{share:.2%}"


def flag_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "—" if value is None else str(value)


def plain_text(value: Any) -> str:
    """A key or row number as it is, without thousands separators."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def value_text(value: Any) -> str:
    """A data value for reading: numbers with thousands separators, dates ISO, lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if round(value, 2) == value:
            return f"{value:,.2f}"
        return f"{value:,.6f}".rstrip("0")
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, dt.timedelta):
        days = value / dt.timedelta(days=1)
        return f"{days:,g} days"
    if isinstance(value, list | tuple):
        return ", ".join(value_text(item) for item in value)
    return plain_text(value)


# --- the summary as labelled figures -----------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One labelled summary figure; ``kind`` says how to show it (count, amount, percent, ...)."""

    section: str
    label: str
    value: Any
    kind: str = "text"

    @property
    def text(self) -> str:
        shown = {
            "count": count_text,
            "amount": amount_text,
            "percent": percent_text,
            "flag": flag_text,
            "number": value_text,
        }.get(self.kind, plain_text)
        return shown(self.value)


def summary_figures(
    summary: Mapping[str, Any], sides: Sides, counts: Mapping[str | None, float]
) -> list[Figure]:
    """Every figure the summary has, labelled with the side labels; absent keys are skipped."""
    figures: list[Figure] = []

    def add(section: str, label: str, value: Any, kind: str = "text") -> None:
        if value is not None and value != "":
            figures.append(Figure(section, label, value, kind))

    get = summary.get
    add("Run", "Recon", get("recon"))
    add("Run", "Generated at", get("generated_at"))
    add("Run", "Duration (seconds)", get("duration_seconds"), "number")
    add("Sides", "Left side", sides.left)
    add("Sides", "Right side", sides.right)
    add("Sides", "Keys", ", ".join(_names(get("keys"))))
    add("Sides", "Compared fields", ", ".join(_names(get("compare_fields"))))
    add("Sides", "Amount field", get("amount_field"))
    inputs = get("inputs") or {}
    for side, label in (("left", sides.left), ("right", sides.right)):
        info = inputs.get(side) or {}
        add("Inputs", f"{label} file", info.get("path"))
        add("Inputs", f"{label} rows", info.get("rows"), "count")
    add("Results", "Total keys", get("total_keys"), "count")
    add("Results", "Input records", get("records"), "count")
    for status in STATUSES:
        add("Results", sides.status_label(status), counts.get(status, 0), "count")
    for other, count in counts.items():
        if other not in STATUSES:
            add("Results", sides.status_label(other), count, "count")
    add("Results", "Breaks", get("breaks"), "count")
    add("Results", "Break rate", get("break_rate"), "percent")
    add("Results", "Match rate by count", get("match_rate"), "percent")
    add("Results", "Match rate by amount", get("match_rate_by_amount"), "percent")
    totals = get("totals") or {}
    add("Amounts", f"{sides.left} amount", totals.get("left_amount"), "amount")
    add("Amounts", f"{sides.right} amount", totals.get("right_amount"), "amount")
    add("Amounts", "Matched amount", totals.get("matched_amount"), "amount")
    add("Amounts", "Discrepancy amount", get("discrepancy_amount"), "amount")
    add("Amounts", "Discrepancy rate", get("discrepancy_rate"), "percent")
    add("Risk", "Risk level", get("risk_level"))
    add("Risk", "Threshold passed", get("threshold_passed"), "flag")
    thresholds = get("thresholds") or {}
    risk = thresholds.get("risk") or {}
    add("Risk", "Max break rate", thresholds.get("max_break_rate"), "percent")
    add("Risk", "Medium risk from break rate", risk.get("medium"), "percent")
    add("Risk", "High risk from break rate", risk.get("high"), "percent")
    for field, count in (get("mismatched_by_field") or {}).items():
        add("Mismatched by field", str(field), count, "count")
    for status, amount in (get("break_amount_by_status") or {}).items():
        add("Break amount by type", sides.status_label(status), amount, "amount")
    conservation = get("row_conservation") or {}
    add("Row conservation", "Every input row accounted for", conservation.get("ok"), "flag")
    for side, label in (("left", sides.left), ("right", sides.right)):
        info = conservation.get(side) or {}
        add("Row conservation", f"{label} input rows", info.get("input_rows"), "count")
        add("Row conservation", f"{label} rows accounted for", info.get("accounted"), "count")
    return figures


# --- the largest breaks, for the reports that show a page of them -------------------------------


@dataclass(frozen=True)
class TopBreaks:
    """The ``rows`` largest breaks (all columns), with per-status figures over all rows."""

    rows: pl.DataFrame
    total: int  # every break, shown or not
    overview: pl.DataFrame  # status, rows, amount: computed from the data
    by_field: pl.DataFrame  # field, rows: mismatches per field, when the summary lacks them


def top_breaks(results: pl.LazyFrame, summary: Mapping[str, Any], limit: int) -> TopBreaks:
    """Only ``limit`` rows reach Python: sort + head is a top-k in polars, whatever the size."""
    schema = checked_schema(results)
    keys = key_columns(schema, summary)
    breaks = break_rows(results)
    by_field = pl.LazyFrame(schema={"field": pl.String, "rows": pl.UInt32})
    if not summary.get("mismatched_by_field") and isinstance(
        schema.get("mismatched_fields"), pl.List
    ):
        by_field = (
            breaks.select(pl.col("mismatched_fields").explode().cast(pl.String).alias("field"))
            .drop_nulls()
            .group_by("field")
            .agg(pl.len().cast(pl.UInt32).alias("rows"))
            .sort("rows", "field", descending=[True, False])
        )
    rows, overview, fields = pl.collect_all(
        [by_break_amount(breaks, keys).head(limit), status_overview(results), by_field]
    )
    total = int(overview.filter(pl.col("status").ne_missing(MATCHED))["rows"].sum())
    return TopBreaks(rows=rows, total=total, overview=overview, by_field=fields)
