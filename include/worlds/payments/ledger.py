"""The internal ledger of a day's cases: every processor in one table, other days too."""

from __future__ import annotations

from typing import Final

import polars as pl

from worlds.pairs import decimal_amount
from worlds.payments.cases import ZERO_DECIMAL, utc

LEDGER_FILE: Final = "ledger.parquet"
MONEY: Final = pl.Decimal(18, 2)


def major_units(minor: str, currency: str) -> pl.Expr:
    """Minor units in ``currency`` as exact Decimal(18, 2) major units (JPY kept whole)."""
    cents = (
        pl.when(pl.col(currency).is_in(list(ZERO_DECIMAL)))
        .then(pl.col(minor) * 100)
        .otherwise(pl.col(minor))
    )
    return decimal_amount(cents)


def ledger_rows(cases: pl.DataFrame) -> pl.DataFrame:
    """The ledger rows of every processor: a duplicate's second booking a little later."""
    booked = cases.filter(pl.col("ledger_rows") >= 1)
    twice = cases.filter(pl.col("ledger_rows") == 2).with_columns(
        pl.col("second_booked").alias("booked")
    )
    return (
        pl.concat([booked, twice])
        .select(
            "payment_id",
            "processor",
            pl.col("payment_id").alias("processor_reference"),
            major_units("ledger_minor", "ledger_currency").alias("amount"),
            pl.col("ledger_currency").alias("currency"),
            major_units("ledger_fee_minor", "ledger_currency").alias("fee"),
            pl.col("ledger_status").alias("status"),
            utc("booked").alias("booked_at"),
        )
        .sort("booked_at", "payment_id")
    )
