"""A day of payments at Stripe, PayPal and Square and the internal ledger behind them, with truth.

``generate_payments_day`` plants every break the payments pipeline must find and writes:

- per processor, its records in the processor's OWN API shape, ready for
  ``ProcessorApi.load(processor, records)``: Stripe balance transactions, PayPal
  ``transaction_details`` items, Square ``Payment`` objects. Each carries our payment id where
  that processor's hook reads the reference: Stripe ``description`` ``order <payment id>``
  (a failure's ``PAYMENT FAILURE REFUND (order <payment id>)``), PayPal ``invoice_id`` (a tenth
  in ``custom_field``, the hook's fallback), Square ``reference_id``;
- ``ledger.parquet``: the internal ledger (every processor in one table, other days too, as the
  ``ledger.payments`` table holds them): payment_id, processor, processor_reference (what the
  processor's record carries as our reference: the payment id), amount and fee (Decimal(18, 2),
  major units), currency, status (our words: paid, pending, failed, refunded), booked_at (UTC);
- ``truth.csv``: one row per planted case and what a correct reconciliation of the business
  date D says of it (``status``, in the audit trail's words), with both sides' values.

A correct reconciliation of D, with settlement window W: the ledger rows booked in [D, D+1)
against the processor records created in [D, D+1+W). A pair whose processor record was created
after midnight (inside W) is ``timing``. What belongs to another day is ``excluded`` (never
reported for D): a pair whose ledger row is on D-1 or D+1, or a processor-only record created
outside D. The kinds at the edges of the day test exactly that:

- ``timing``: booked on D within W/2 of midnight, settled on D+1 within W/2 after it;
- ``previous_day_settled``: the mirror on D-1: booked just before D, settled on D (the processor
  extract of D has it; D-1's run reported it as timing, D's must not call it missing);
- ``next_day_in_window``: booked and settled on D+1 inside W (in the extended processor window,
  but D+1's business);
- ``previous_day`` / ``next_day``: both sides on D-1 / D+1, far from midnight.

Each case differs in one thing only, except ``failed_payment``: the processor's record is what a
failure looks like there (Stripe: a ``payment_failure_refund``, negative, no fee; PayPal ``D``
and Square ``FAILED``: no fee), so the status must be checked before amounts and fees.

The amounts are exact: integers in minor units while generating, Decimal in files; JPY (no
minor unit) stays whole. Statuses at the processor are mostly settled ones: a Stripe charge is
``available`` (read after its funds became available), ``pending`` only where the ledger says
pending too; Stripe has no refunded or failed case among the matches (both are negative there).

The package: ``kinds`` (what is planted and what it must come out as), ``cases`` (drawing
them), ``records`` (each processor's API shape), ``ledger`` and ``truth`` (the two files) and
``day`` (all of it: ``generate_payments_day``).
"""

from __future__ import annotations

from worlds.payments.day import PaymentsDay, generate_payments_day
from worlds.payments.kinds import (
    EXCLUDED,
    EXPECTED,
    PROCESSORS,
    SETTLEMENT_WINDOW,
    SHARES,
    kind_counts,
)
from worlds.payments.truth import read_truth

__all__ = [
    "EXCLUDED",
    "EXPECTED",
    "PROCESSORS",
    "SETTLEMENT_WINDOW",
    "SHARES",
    "PaymentsDay",
    "generate_payments_day",
    "kind_counts",
    "read_truth",
]
