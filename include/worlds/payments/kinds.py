"""The kinds of case a payments day plants, what each must come out as, and their shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Final

from recon.payments import (
    AMOUNT,
    CURRENCY,
    FAILED_PAYMENT,
    FEE_MISMATCH,
    MISSING_AT_PROCESSOR,
    MISSING_IN_LEDGER,
    TIMING,
)
from recon.result import DUPLICATE, MATCHED

PROCESSORS: Final = ("stripe", "paypal", "square")
SETTLEMENT_WINDOW: Final = dt.timedelta(hours=1)
MAX_SETTLEMENT_WINDOW: Final = dt.timedelta(hours=6)  # the adjacent-day kinds stay outside it

EXCLUDED: Final = "excluded"  # what the truth says of a case that is not part of D

# Planted kinds and what they must come out as.
EXPECTED: Final[Mapping[str, str]] = {
    "exact": MATCHED,
    "amount": AMOUNT,  # no tolerance for money: one minor unit apart is a break
    "currency": CURRENCY,
    "failed_payment": FAILED_PAYMENT,  # failed at the processor, paid in the ledger
    "fee_mismatch": FEE_MISMATCH,
    "missing_at_processor": MISSING_AT_PROCESSOR,  # booked, never settled
    "missing_in_ledger": MISSING_IN_LEDGER,  # settled, never booked
    "duplicate_at_processor": DUPLICATE,  # the reference on two processor records
    "duplicate_in_ledger": DUPLICATE,  # the payment booked twice
    "timing": TIMING,
    "previous_day_settled": EXCLUDED,
    "next_day_in_window": EXCLUDED,
    "previous_day": EXCLUDED,
    "next_day": EXCLUDED,
}
SHARES: Final[Mapping[str, float]] = {
    "amount": 0.02,
    "currency": 0.01,
    "failed_payment": 0.01,
    "fee_mismatch": 0.02,
    "missing_at_processor": 0.01,
    "missing_in_ledger": 0.01,
    "duplicate_at_processor": 0.005,
    "duplicate_in_ledger": 0.005,
    "timing": 0.02,
    "previous_day_settled": 0.005,
    "next_day_in_window": 0.005,
    "previous_day": 0.01,
    "next_day": 0.01,
}
KINDS: Final = tuple(EXPECTED)
MIN_PER_KIND: Final = 2
MIN_EXACT: Final = 10


def kind_counts(per_processor: int) -> dict[str, int]:
    """Cases of each kind per processor (``exact`` takes what the others leave)."""
    counts = {kind: max(MIN_PER_KIND, round(per_processor * s)) for kind, s in SHARES.items()}
    planted = sum(counts.values())
    if per_processor - planted < MIN_EXACT:
        raise ValueError(
            f"per_processor={per_processor} is too small: the planted kinds take {planted} cases "
            f"and at least {MIN_EXACT} must match exactly; give {planted + MIN_EXACT} or more"
        )
    return {"exact": per_processor - planted, **counts}
