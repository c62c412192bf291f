"""Payments reconciliation of one processor and business date: scope, break types, money at stake.

The core matches keys and compares fields; payments need three more things, done here:

1. **Scope.** The processor side is what the processor created in ``[D, D+1+W)`` (W: the
   settlement window); the ledger snapshot holds the bookings of the days around D. D's ledger
   is what was booked in ``[D, D+1)``. A processor record whose payment was booked on another
   day, or that was created after midnight and is not one of D's bookings, is another day's
   business: ``excluded`` (counted in the summary's ``scope``, never reported as a break of D).
2. **Break types** (``break_type``, in the audit trail's words): ``missing_at_processor``
   (booked, never settled), ``missing_in_ledger`` (settled, never booked), ``failed_payment``
   (failed at the processor, not failed in the ledger: checked first, since a failure also
   changes the amount and the fee), ``currency``, ``amount``, ``fee_mismatch``, ``status``,
   ``duplicate``, ``invalid``, and ``timing``: a pair that agrees but settled after midnight,
   inside the window (not money at stake; listed so that nobody chases it).
3. **Money.** ``break_amount`` is what is at stake for the type (the amount difference, the fee
   difference, or the ledger amount when the payment failed, is in another currency or another
   status); ``impact_amount`` is it in the reporting currency. The summary's
   ``financial_impact`` gives volume, discrepancy amount and rate, per currency and in the
   reporting currency, the risk level and the compliance status against the spec's thresholds.

Row conservation holds twice: the core's (every in-scope row in one status) and the scope's
(every processor row either in scope or excluded; every ledger row of the processor either
D's or another day's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from recon.errors import SpecError
from recon.result import (
    DUPLICATE,
    INVALID,
    MATCHED,
)
from recon.spec import ReconSpec

# break types, in the order reports list them
MISSING_AT_PROCESSOR: Final = "missing_at_processor"
MISSING_IN_LEDGER: Final = "missing_in_ledger"
AMOUNT: Final = "amount"
CURRENCY: Final = "currency"
FAILED_PAYMENT: Final = "failed_payment"
FEE_MISMATCH: Final = "fee_mismatch"
STATUS: Final = "status"
TIMING: Final = "timing"
BREAK_TYPES: Final = (
    MISSING_AT_PROCESSOR,
    MISSING_IN_LEDGER,
    AMOUNT,
    CURRENCY,
    FAILED_PAYMENT,
    FEE_MISMATCH,
    STATUS,
    DUPLICATE,
    INVALID,
    TIMING,
)
LABELS: Final = {name: name.replace("_", " ") for name in BREAK_TYPES}
NOT_AT_STAKE: Final = (MATCHED, TIMING)  # break types that are no money at stake
FAILED: Final = "failed"  # the hooks' normalised status of a failed payment

# the columns each side's snapshot needs besides the spec's (processor: hook snapshot; ledger:
# include/sql/ledger_payments.sql)
PROCESSOR_TIME: Final = "created_at"
LEDGER_TIME: Final = "booked_at"
PROCESSOR_ID: Final = "transaction_id"
LEDGER_ID: Final = "payment_id"
LEDGER_PROCESSOR: Final = "processor"
SPEC_FIELDS: Final = (AMOUNT, CURRENCY, "fee", STATUS)  # compare fields the types are made of


@dataclass(frozen=True)
class Day:
    """The business date D and the settlement window W: D's bookings, the processor's window."""

    business_date: dt.date
    settlement_window: dt.timedelta

    @property
    def start(self) -> dt.datetime:
        d = self.business_date
        return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(days=1)

    @property
    def settlement_end(self) -> dt.datetime:
        return self.end + self.settlement_window


def check_spec(spec: ReconSpec) -> None:
    """The payments spec must compare the fields the break types are made of."""
    missing = [name for name in SPEC_FIELDS if name not in spec.compare]
    if missing or spec.amount_field() != AMOUNT:
        raise SpecError(
            f"spec {spec.name!r}: a payments spec compares {', '.join(SPEC_FIELDS)} with "
            f"`amount: amount` (missing: {', '.join(missing) or 'amount: amount'})"
        )
