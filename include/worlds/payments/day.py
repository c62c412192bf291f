"""A generated payments day: the processors' records, the ledger and the truth, written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from recon.payments import Day
from worlds.payments.cases import FIRST_PAYMENT_ID, draw_cases
from worlds.payments.kinds import (
    EXPECTED,
    MAX_SETTLEMENT_WINDOW,
    PROCESSORS,
    SETTLEMENT_WINDOW,
    kind_counts,
)
from worlds.payments.ledger import LEDGER_FILE, ledger_rows
from worlds.payments.records import RECORDS, gc_paused
from worlds.payments.truth import TRUTH_FILE, TRUTH_TIME_FORMAT, truth_rows


@dataclass(frozen=True)
class PaymentsDay:
    """A generated day: the processors' records, the ledger and the truth."""

    business_date: dt.date
    settlement_window: dt.timedelta
    records: Mapping[str, list[dict[str, Any]]]  # processor -> records in its API's shape
    ledger: Path  # ledger.parquet
    truth: Path  # truth.csv: one row per planted case
    counts: Mapping[str, int] = field(default_factory=dict)  # kind -> cases, all processors
    statuses: Mapping[str, int] = field(default_factory=dict)  # expected status -> cases

    @property
    def day(self) -> Day:
        """The business date and window as the reconciliation sees them."""
        return Day(self.business_date, self.settlement_window)

    @property
    def start(self) -> dt.datetime:
        """Midnight UTC opening the business date."""
        return self.day.start

    @property
    def end(self) -> dt.datetime:
        """Midnight UTC closing it (exclusive)."""
        return self.day.end

    @property
    def settlement_end(self) -> dt.datetime:
        """Where the processor window of D ends: ``end`` plus the settlement window."""
        return self.day.settlement_end


def generate_payments_day(
    out_dir: Path,
    *,
    business_date: dt.date,
    per_processor: int = 1000,
    seed: int = 17,
    settlement_window: dt.timedelta = SETTLEMENT_WINDOW,
    first_id: int = FIRST_PAYMENT_ID,
) -> PaymentsDay:
    """Write the ledger and the truth of ``business_date``; return them with the records.

    :param per_processor: planted cases per processor (each holds a share of every kind).
    :param settlement_window: how long after midnight a payment booked on D may settle.
    :param first_id: payment ids count up from it (give days of one ledger ids far apart).
    """
    if not dt.timedelta(minutes=2) <= settlement_window <= MAX_SETTLEMENT_WINDOW:
        raise ValueError(
            f"settlement_window {settlement_window} is out of range: give 2 minutes to "
            f"{MAX_SETTLEMENT_WINDOW} (the adjacent days' cases sit outside it)"
        )
    sizes = kind_counts(per_processor)
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    day_start = int(dt.datetime.combine(business_date, dt.time(), dt.UTC).timestamp())
    window = int(settlement_window.total_seconds())
    cases = draw_cases(rng, sizes, per_processor, day_start, window, first_id)
    with gc_paused():
        records = {
            processor: RECORDS[processor](cases.filter(pl.col("processor") == processor))
            for processor in PROCESSORS
        }
    ledger_path = out_dir / LEDGER_FILE
    ledger_rows(cases).write_parquet(ledger_path)
    truth = truth_rows(cases)
    truth_path = out_dir / TRUTH_FILE
    truth.write_csv(truth_path, datetime_format=TRUTH_TIME_FORMAT)
    return PaymentsDay(
        business_date,
        settlement_window,
        records,
        ledger_path,
        truth_path,
        counts={kind: int((cases["kind"] == kind).sum()) for kind in EXPECTED},
        statuses=dict(sorted(truth.group_by("status").len().iter_rows())),
    )
