"""The truth of a day's cases: what a correct reconciliation of D says of each, with both sides."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import polars as pl

from worlds.payments.cases import utc
from worlds.payments.kinds import EXPECTED
from worlds.payments.ledger import MONEY, major_units

TRUTH_FILE: Final = "truth.csv"
TRUTH_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S%:z"


def truth_rows(cases: pl.DataFrame) -> pl.DataFrame:
    """One row per case: what a correct reconciliation of D says, and both sides' values."""
    in_ledger = pl.col("ledger_rows") > 0
    at_processor = pl.col("processor_rows") > 0

    def ledger_side(expr: pl.Expr) -> pl.Expr:
        return pl.when(in_ledger).then(expr)

    def processor_side(expr: pl.Expr) -> pl.Expr:
        return pl.when(at_processor).then(expr)

    return cases.select(
        "processor",
        "payment_id",
        processor_side(pl.col("transaction_id")).alias("transaction_id"),
        pl.when(pl.col("processor_rows") == 2)
        .then(pl.col("second_transaction_id"))
        .alias("second_transaction_id"),
        "kind",
        pl.col("kind").replace_strict(dict(EXPECTED), return_dtype=pl.String).alias("status"),
        "ledger_rows",
        "processor_rows",
        ledger_side(major_units("ledger_minor", "ledger_currency")).alias("ledger_amount"),
        processor_side(major_units("processor_minor", "processor_currency")).alias(
            "processor_amount"
        ),
        ledger_side(pl.col("ledger_currency")).alias("ledger_currency"),
        processor_side(pl.col("processor_currency")).alias("processor_currency"),
        ledger_side(major_units("ledger_fee_minor", "ledger_currency")).alias("ledger_fee"),
        processor_side(major_units("processor_fee_minor", "processor_currency")).alias(
            "processor_fee"
        ),
        ledger_side(pl.col("ledger_status")).alias("ledger_status"),
        processor_side(pl.col("processor_status")).alias("processor_status"),
        ledger_side(utc("booked")).alias("booked_at"),
        processor_side(utc("created")).alias("created_at"),
    ).sort("processor", "payment_id")


def read_truth(path: Path) -> pl.DataFrame:
    """``truth.csv`` with its types back: Decimal money, UTC datetimes, counts as integers."""
    money = ("ledger_amount", "processor_amount", "ledger_fee", "processor_fee")
    times = ("booked_at", "created_at")
    return pl.read_csv(
        path,
        infer_schema=False,  # every column as text first: ids and money never go through floats
    ).with_columns(
        *(pl.col(name).cast(MONEY) for name in money),
        *(pl.col(name).str.to_datetime(TRUTH_TIME_FORMAT, time_zone="UTC") for name in times),
        pl.col("ledger_rows", "processor_rows").cast(pl.Int64),
    )
