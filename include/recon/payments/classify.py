"""Break types and the money at stake of each payments result row."""

from __future__ import annotations

import polars as pl

from recon.engine.at_stake import MoneyAtStake, amount_difference, break_amount
from recon.engine.summary import MONEY_DECIMALS
from recon.payments.model import (
    AMOUNT,
    CURRENCY,
    FAILED,
    FAILED_PAYMENT,
    FEE_MISMATCH,
    LEDGER_ID,
    LEDGER_TIME,
    MISSING_AT_PROCESSOR,
    MISSING_IN_LEDGER,
    NOT_AT_STAKE,
    PROCESSOR_ID,
    PROCESSOR_TIME,
    STATUS,
    TIMING,
    Day,
)
from recon.payments.scope import Scope, normalised
from recon.result import (
    DUPLICATE,
    LEFT_ONLY,
    MATCHED,
    MISMATCHED,
    RIGHT_ONLY,
)
from recon.spec import ReconSpec

# -- classification -----------------------------------------------------------------------------


def break_type(day: Day) -> pl.Expr:
    """Each result row's break type (needs the ``created_at`` joined in by ``classify``)."""
    status, fields = pl.col("status"), pl.col("mismatched_fields")
    failed_there = (pl.col("left_status") == FAILED) & pl.col("right_status").ne_missing(FAILED)
    return (
        pl.when(status == MATCHED)
        .then(
            pl.when(pl.col(PROCESSOR_TIME) >= day.end)
            .then(pl.lit(TIMING))
            .otherwise(pl.lit(MATCHED))
        )
        .when(status == MISMATCHED)
        .then(
            pl.when(fields.list.contains(STATUS) & failed_there)
            .then(pl.lit(FAILED_PAYMENT))
            .when(fields.list.contains(CURRENCY))
            .then(pl.lit(CURRENCY))
            .when(fields.list.contains(AMOUNT))
            .then(pl.lit(AMOUNT))
            .when(fields.list.contains("fee"))
            .then(pl.lit(FEE_MISMATCH))
            .otherwise(pl.lit(STATUS))
        )
        .when(status == LEFT_ONLY)
        .then(pl.lit(MISSING_IN_LEDGER))
        .when(status == RIGHT_ONLY)
        .then(pl.lit(MISSING_AT_PROCESSOR))
        .otherwise(status)  # duplicate, invalid
    )


def money_at_stake(kind: pl.Expr) -> MoneyAtStake:
    """What each break type puts at stake, in its own currency; the engine's rule applies it
    (a type not listed, missing on one side or invalid, puts the whole amount at stake)."""
    ledger_amount = pl.col(f"right_{AMOUNT}").cast(pl.Float64).abs()
    # a duplicate (the core gives it no values): one booking or settlement too many
    duplicated = pl.coalesce(pl.col(f"__right_{AMOUNT}"), pl.col(f"__left_{AMOUNT}"))
    return MoneyAtStake(
        AMOUNT,
        cases=(
            (kind.is_in(NOT_AT_STAKE), pl.lit(0.0)),
            (kind == AMOUNT, amount_difference(AMOUNT)),
            (kind == FEE_MISMATCH, amount_difference("fee")),
            (kind.is_in([FAILED_PAYMENT, CURRENCY, STATUS]), ledger_amount),
            (kind == DUPLICATE, duplicated.cast(pl.Float64)),
        ),
        decimals=MONEY_DECIMALS,
    )


def classify(results: pl.DataFrame, scope: Scope, spec: ReconSpec, day: Day) -> pl.DataFrame:
    """The core's results with break_type, money at stake, currency and both sides' ids/times."""
    key = spec.keys[0].name
    joined = results
    for side, frame, stamp, ident in (
        ("left", scope.processor, PROCESSOR_TIME, PROCESSOR_ID),
        ("right", scope.ledger, LEDGER_TIME, LEDGER_ID),
    ):
        joined = joined.join(
            _by_reference(frame, spec, side, key, stamp, ident), on=key, how="left"
        )
    kind = break_type(day)
    currency = pl.coalesce(
        *(pl.col(f"{side}_{CURRENCY}") for side in ("right", "left")),
        *(pl.col(f"__{side}_{CURRENCY}") for side in ("right", "left")),  # duplicates' own
    )
    rate = currency.replace_strict(spec.impact.fx_rates, default=None, return_dtype=pl.Float64)
    return (
        joined.with_columns(kind.alias("break_type"), currency.alias("currency"))
        .with_columns(break_amount(money_at_stake(pl.col("break_type"))))
        .with_columns((pl.col("break_amount") * rate).round(MONEY_DECIMALS).alias("impact_amount"))
        .drop(pl.selectors.starts_with("__"))
    )


def _by_reference(
    frame: pl.DataFrame, spec: ReconSpec, side: str, key: str, time: str, ident: str
) -> pl.DataFrame:
    """One row per reference of a side (normalised as the core matched it): its earliest time,
    every id (a duplicate has several), and the largest amount and a currency (what a
    duplicate, which the core leaves without values, puts at stake).

    Most references are unique: they pass as they are; only repeated ones are grouped.
    """
    rows = frame.select(
        normalised(spec, key, side).alias(key),
        pl.col(time),
        pl.col(ident),
        pl.col(spec.column(AMOUNT, side)).abs().alias(f"__{side}_{AMOUNT}"),
        normalised(spec, CURRENCY, side).alias(f"__{side}_{CURRENCY}"),
    ).filter(pl.col(key).is_not_null())
    repeated = pl.col(key).is_duplicated()
    grouped = (
        rows.filter(repeated)
        .group_by(key)
        .agg(
            pl.col(time).min(),
            pl.col(ident).sort().str.join(","),
            pl.col(f"__{side}_{AMOUNT}").max(),
            pl.col(f"__{side}_{CURRENCY}").first(),
        )
    )
    return pl.concat([rows.filter(~repeated), grouped.select(rows.columns)])
