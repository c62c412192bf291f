"""The human-facing view of a result: columns, break order, figures as text, the largest breaks."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import polars as pl

from recon.errors import SchemaError
from recon.reports.labels import GROUP, Grouping

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


def listed_names(entries: Any) -> list[str]:
    """Key or field names from a summary list; a ``{name: ...}`` mapping counts by its name."""
    names = []
    for entry in entries or ():
        name = entry.get("name") if isinstance(entry, Mapping) else entry
        if isinstance(name, str):
            names.append(name)
    return names


def key_columns(schema: pl.Schema, summary: Mapping[str, Any]) -> list[str]:
    """The key columns: the summary's ``keys``, else every column that is not a value column."""
    named = [name for name in listed_names(summary.get("keys")) if name in schema]
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
        for name in listed_names(summary.get("compare_fields"))
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


def checked_schema(results: pl.LazyFrame, grouping: Grouping | None = None) -> pl.Schema:
    """The results' schema, once it is known to have the columns every report needs: ``status``
    and the column breaks are grouped by."""
    schema = results.collect_schema()
    if "status" not in schema:
        shown = ", ".join(f"`{name}`" for name in list(schema)[:12])
        raise SchemaError(
            f"results: no `status` column (columns: {shown or 'none'}); "
            "reports need a results frame as described in recon.result"
        )
    if grouping is not None:
        grouping.check(schema)
    return schema


def break_rows(results: pl.LazyFrame, grouping: Grouping | None = None) -> pl.LazyFrame:
    """Every row that is not ``matched`` by the grouping (the core status unless given): a row
    without a value is a break, never hidden."""
    return results.filter((grouping or Grouping()).is_break())


def by_break_amount(frame: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """Largest break first, then by key; ties broken by status, side and row for a stable order.

    With an ``impact_amount`` column (money at stake in one reporting currency) that decides
    "largest": break amounts in several currencies do not compare.
    """
    schema = frame.collect_schema()
    amounts = [name for name in ("impact_amount", "break_amount") if name in schema]
    order = [pl.col(name).fill_nan(None) for name in amounts]
    order += [pl.col(name) for name in (*keys, "status", "side", "row") if name in schema]
    if not order:
        return frame
    descending = [True] * len(amounts) + [False] * (len(order) - len(amounts))
    return frame.sort(order, descending=descending, nulls_last=True, maintain_order=True)


def _matches(column: str, pattern: str) -> bool:
    return column.startswith(pattern[:-1]) if pattern.endswith("*") else column == pattern


def display_columns(
    schema: pl.Schema,
    keys: Sequence[str],
    fields: Sequence[str],
    group: str | None = None,
    grouping: Grouping | None = None,
) -> list[str]:
    """Columns in reading order: keys, the group column, each field's two sides and difference,
    then the rest.

    With ``group`` the list is for one group's sheet: its group column and the columns the
    grouping says are empty for it are left out.
    """
    grouping = grouping or Grouping()
    wanted = [*keys, grouping.column, "status", "mismatched_fields"]
    for field in fields:
        wanted += [f"left_{field}", f"right_{field}", f"diff_{field}"]
    wanted += ["break_amount", "left_rows", "right_rows", "side", "row", "reason"]
    columns = list(dict.fromkeys(name for name in wanted if name in schema))
    columns += [name for name in schema if name not in columns]
    if group is None:
        return columns
    empty = grouping.left_out(group)
    return [
        name
        for name in columns
        if name in keys or not any(_matches(name, pattern) for pattern in empty)
    ]


def figures_by_group(
    summary_figures: Any, overview: pl.DataFrame, column: str
) -> dict[str | None, float]:
    """The summary's per-group figures where it has them, the data's otherwise.

    :param overview: a :meth:`Grouping.overview` frame; ``column`` is one of its figures.
    """
    if isinstance(summary_figures, Mapping) and summary_figures:
        return {str(group): _number(value) for group, value in summary_figures.items()}
    return {row[GROUP]: _number(row[column]) for row in overview.iter_rows(named=True)}


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


# --- the largest breaks, for the reports that show a page of them -------------------------------


@dataclass(frozen=True)
class TopBreaks:
    """The ``rows`` largest breaks (all columns), with per-group figures over all rows."""

    rows: pl.DataFrame
    total: int  # every break, shown or not
    overview: pl.DataFrame  # group, rows, amount (impact): per grouping, from the data
    statuses: pl.DataFrame  # the same per core status (``overview`` itself when not classified)
    by_field: pl.DataFrame  # field, rows: mismatches per field, when the summary lacks them
    grouping: Grouping


def top_breaks(results: pl.LazyFrame, summary: Mapping[str, Any], limit: int) -> TopBreaks:
    """Only ``limit`` rows reach Python: sort + head is a top-k in polars, whatever the size."""
    grouping = Grouping.from_summary(summary)
    schema = checked_schema(results, grouping)
    keys = key_columns(schema, summary)
    breaks = break_rows(results, grouping)
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
    queries = [by_break_amount(breaks, keys).head(limit), grouping.overview(results), by_field]
    if grouping.classified:
        queries.append(Grouping().overview(results))
    rows, overview, fields, *statuses = pl.collect_all(queries)
    total = int(overview.filter(pl.col(GROUP).ne_missing(grouping.matched))["rows"].sum())
    return TopBreaks(
        rows=rows,
        total=total,
        overview=overview,
        statuses=statuses[0] if statuses else overview,
        by_field=fields,
        grouping=grouping,
    )
