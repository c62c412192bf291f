"""Which processor and ledger rows are the business date's, and which are another day's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from recon.engine.normalize import text_rules
from recon.errors import RowConservationError
from recon.payments.model import LEDGER_PROCESSOR, LEDGER_TIME, PROCESSOR_TIME, Day
from recon.spec import ReconSpec

# -- scope --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    processor: pl.DataFrame  # D's processor records (the core's left side)
    ledger: pl.DataFrame  # D's bookings of this processor (the core's right side)
    processor_rows: int
    excluded_other_day: int  # processor records of payments booked on another day
    excluded_next_day: int  # created after midnight, not one of D's bookings
    ledger_rows: int  # the processor's rows in the ledger snapshot
    ledger_other_days: int

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            "processor": {
                "rows": self.processor_rows,
                "in_scope": self.processor.height,
                "excluded_other_day": self.excluded_other_day,
                "excluded_next_day": self.excluded_next_day,
            },
            "ledger": {
                "rows": self.ledger_rows,
                "in_scope": self.ledger.height,
                "other_days": self.ledger_other_days,
            },
        }

    def describe(self, day: Day) -> dict[str, Any]:
        return {
            "business_date": day.business_date.isoformat(),
            "settlement_window_hours": day.settlement_window.total_seconds() / 3600,
            "ledger_window": [day.start.isoformat(), day.end.isoformat()],
            "processor_window": [day.start.isoformat(), day.settlement_end.isoformat()],
            **self.counts(),
        }


def normalised(spec: ReconSpec, field: str, side: str) -> pl.Expr:
    """A side's column of ``field`` as the core sees it: after the spec's text rules."""
    column = spec.column(field, side)
    return text_rules(pl.col(column), spec.normalize_steps(field, column))


def scope_of(
    processor: pl.LazyFrame, ledger: pl.LazyFrame, name: str, day: Day, spec: ReconSpec
) -> Scope:
    key = spec.keys[0].name
    booked = pl.col(LEDGER_TIME)
    theirs = ledger.filter(pl.col(LEDGER_PROCESSOR) == name).collect()
    on_day = ((booked >= day.start) & (booked < day.end)).fill_null(False)
    ours = theirs.filter(on_day)
    day_refs = ours.select(normalised(spec, key, "right")).to_series().drop_nulls().unique()
    other_refs = theirs.filter(~on_day).select(normalised(spec, key, "right")).to_series()
    records = processor.collect()
    ref = normalised(spec, key, "left")
    # a null reference is in none of the lists: it stays in scope (the core calls it invalid)
    ours_too = ref.is_in(day_refs.implode()).fill_null(False)
    other_day = ref.is_in(other_refs.drop_nulls().unique().implode()).fill_null(False) & ~ours_too
    next_day = (pl.col(PROCESSOR_TIME) >= day.end).fill_null(False) & ~ours_too & ~other_day
    flagged = records.with_columns(other_day.alias("__other"), next_day.alias("__next"))
    counts = flagged.select(pl.col("__other").sum(), pl.col("__next").sum()).row(0)
    kept = flagged.filter(~pl.col("__other") & ~pl.col("__next")).drop("__other", "__next")
    scope = Scope(
        processor=kept,
        ledger=ours,
        processor_rows=records.height,
        excluded_other_day=int(counts[0] or 0),
        excluded_next_day=int(counts[1] or 0),
        ledger_rows=theirs.height,
        ledger_other_days=theirs.height - ours.height,
    )
    accounted = scope.processor.height + scope.excluded_other_day + scope.excluded_next_day
    if accounted != scope.processor_rows:  # a bug, said loudly
        raise RowConservationError(
            f"payments scope: {scope.processor_rows} processor rows, {accounted} accounted for "
            "(this is a bug in recon: please report it with the inputs)"
        )
    return scope
