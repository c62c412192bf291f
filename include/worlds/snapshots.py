"""The columns of the snapshots a payments recon reads, for the tests that build or check one:

- :data:`PROCESSOR_SCHEMA`: a processor hook's normalised records of a day;
- :data:`LEDGER_SCHEMA`: the ledger's bookings, as ``include/sql/ledger_payments.sql`` stages
  them from ``ledger.payments`` (and as :mod:`worlds.payments` writes its ledger).
"""

from __future__ import annotations

from typing import Final

import polars as pl

UTC_US: Final = pl.Datetime("us", "UTC")
PROCESSOR_SCHEMA: Final[dict[str, pl.DataType]] = {
    "processor": pl.String(),
    "transaction_id": pl.String(),
    "gross": pl.Decimal(18, 4),
    "fee": pl.Decimal(18, 4),
    "net": pl.Decimal(18, 4),
    "currency": pl.String(),
    "status": pl.String(),
    "created_at": UTC_US,
    "reference": pl.String(),
}
LEDGER_SCHEMA: Final[dict[str, pl.DataType]] = {
    "payment_id": pl.String(),
    "processor": pl.String(),
    "processor_reference": pl.String(),
    "amount": pl.Decimal(18, 2),
    "currency": pl.String(),
    "fee": pl.Decimal(18, 2),
    "status": pl.String(),
    "booked_at": UTC_US,
}

__all__ = ["LEDGER_SCHEMA", "PROCESSOR_SCHEMA", "UTC_US"]
