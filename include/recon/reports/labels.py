"""What reports call things: the two sides, and the groups breaks fall into.

Breaks are grouped by the core ``status`` unless the summary has a ``classification`` (the
payments pipeline's ``break_type``): then every report groups, orders and names breaks by that
column instead, with the classification's order and words. Both are one :class:`Grouping`, so
each writer has a single code path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl

from recon.errors import SchemaError
from recon.result import BREAK_STATUSES, LEFT_ONLY, MATCHED, RIGHT_ONLY

STATUS: Final = "status"
NO_STATUS: Final = "no status"
NO_BREAK_TYPE: Final = "no break type"
GROUP: Final = "group"  # the grouped column's name in an overview frame
DEFAULT_CLASSIFICATION_COLUMN: Final = "break_type"
IMPACT_COLUMN: Final = "impact_amount"  # break_amount in the reporting currency (payments)

# Columns that are empty by contract for a core status, left out of its sheet.
_EMPTY_FOR: Final[dict[str, tuple[str, ...]]] = {
    "mismatched": ("side", "row", "reason"),
    "left_only": ("right_*", "diff_*", "right_rows", "mismatched_fields", "side", "row", "reason"),
    "right_only": ("left_*", "diff_*", "left_rows", "mismatched_fields", "side", "row", "reason"),
    "duplicate": ("diff_*", "mismatched_fields"),
    "invalid": ("diff_*", "mismatched_fields"),
}
# Column headers of a classified result that differ from the status view's.
_CLASSIFIED_HEADERS: Final = {
    STATUS: "match status",
    IMPACT_COLUMN: "impact amount",
    "created_at": "created at",
    "booked_at": "booked at",
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


@dataclass(frozen=True)
class Grouping:
    """The column breaks are grouped by, its ``matched`` value, the groups' order and words.

    A row is a break when its ``column`` value is not ``matched`` (null included), so with a
    classification a row the core matched is still listed when its type says so (``timing``).
    """

    column: str = STATUS
    matched: str = MATCHED
    order: tuple[str, ...] = BREAK_STATUSES
    labels: Mapping[str, str] = field(default_factory=dict)
    classified: bool = False
    every_row: bool = False  # every row is listed under its group, none counts as matched

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> Grouping:
        """The summary's ``classification`` when it has one, else the core status."""
        classification = summary.get("classification")
        if not isinstance(classification, Mapping) or not classification:
            sides = Sides.from_summary(summary)
            return cls(labels={s: sides.status_label(s) for s in (LEFT_ONLY, RIGHT_ONLY)})
        every_row = bool(classification.get("every_row"))
        # a value no row holds when every row is listed (a passes run lists its matches too)
        matched = "" if every_row else str(classification.get("matched") or MATCHED)
        order = [str(value) for value in classification.get("order") or ()]
        labels = classification.get("labels")
        return cls(
            column=str(classification.get("column") or DEFAULT_CLASSIFICATION_COLUMN),
            matched=matched,
            order=tuple(value for value in dict.fromkeys(order) if value != matched),
            labels={
                str(value): str(label)
                for value, label in (labels.items() if isinstance(labels, Mapping) else ())
                if label is not None and str(label).strip()
            },
            classified=True,
            every_row=every_row,
        )

    @property
    def values(self) -> tuple[str, ...]:
        """Every expected value: ``matched`` first (unless every row is listed), then the
        break groups in order."""
        return self.order if self.every_row else (self.matched, *self.order)

    def label(self, value: str | None) -> str:
        if value is None:
            return NO_BREAK_TYPE if self.classified else NO_STATUS
        return self.labels.get(value) or value

    def ordered(self, present: Iterable[str | None]) -> list[str | None]:
        """The break groups present, in order, then any unexpected ones (a bug, but shown)."""
        present = list(present)
        known = [value for value in self.order if value in present]
        others = [value for value in present if value not in self.values]
        return [*known, *sorted(others, key=lambda value: (value is None, value or ""))]

    def charted(self, counts: Mapping[str | None, float]) -> list[str | None]:
        """Every break group in order (zeros included), then unexpected ones that have rows."""
        return [
            *self.order,
            *self.ordered(
                value for value, rows in counts.items() if value not in self.values and rows
            ),
        ]

    def is_break(self) -> pl.Expr:
        return pl.col(self.column).ne_missing(self.matched)

    def is_group(self, value: str | None) -> pl.Expr:
        return pl.col(self.column).is_null() if value is None else pl.col(self.column) == value

    def left_out(self, value: str | None) -> tuple[str, ...]:
        """Column patterns a group's own sheet leaves out: its group column, and for a core
        status the columns empty by contract (a break type promises no such thing)."""
        if self.classified:
            return (self.column,)
        return (STATUS, *_EMPTY_FOR.get(value or "", ()))

    def column_label(self, column: str, sides: Sides, keys: Sequence[str] = ()) -> str:
        if self.classified and column not in keys:
            if column == self.column:
                return "break type"
            if column in _CLASSIFIED_HEADERS:
                return _CLASSIFIED_HEADERS[column]
        return sides.column_label(column, keys)

    def summary_counts(self, summary: Mapping[str, Any]) -> Any:
        """The summary's rows per group, when reports should show those; break types are
        always counted from the data itself."""
        return None if self.classified else summary.get("counts")

    def summary_amounts(self, summary: Mapping[str, Any]) -> Any:
        return None if self.classified else summary.get("break_amount_by_status")

    def check(self, schema: pl.Schema) -> None:
        if self.column not in schema:
            shown = ", ".join(f"`{name}`" for name in list(schema)[:12])
            raise SchemaError(
                f"results: no `{self.column}` column, which the summary's classification "
                f"groups breaks by (columns: {shown or 'none'}); write the classified results "
                "with their summary, or drop `classification` from the summary"
            )

    def overview(self, results: pl.LazyFrame) -> pl.LazyFrame:
        """Rows, break amount (and impact, when classified) per group, from the data itself."""
        schema = results.collect_schema()
        aggregates = [pl.len().alias("rows"), _total("break_amount", schema).alias("amount")]
        if self.classified:
            aggregates.append(_total(IMPACT_COLUMN, schema).alias("impact"))
        return results.group_by(pl.col(self.column).cast(pl.String).alias(GROUP)).agg(aggregates)


def _total(column: str, schema: pl.Schema) -> pl.Expr:
    if column not in schema:
        return pl.lit(0.0, dtype=pl.Float64)
    return pl.col(column).cast(pl.Float64).fill_nan(None).sum()
