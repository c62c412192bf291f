"""Money at stake: the one place a result row's ``break_amount`` is computed.

A rule (``MoneyAtStake``) is a list of cases, each "these rows put this much at stake", tried in
order; a row that no case takes puts the whole amount of the side present at stake (a one-sided
row's |amount|, and 0 where neither side has a value: duplicate and invalid rows). The core's
rule is ``core_rule`` (see result.py); a domain whose breaks have types of their own prices them
with its own cases through the same ``break_amount`` (recon.payments.classify).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from recon.result import MATCHED, MISMATCHED

BREAK_AMOUNT: Final = "break_amount"
Case = tuple[pl.Expr, pl.Expr]  # (which rows, the money each of them puts at stake)


@dataclass(frozen=True)
class MoneyAtStake:
    """What result rows put at stake: ``cases`` tried in order, the whole amount for the rest.

    :param amount: the canonical name of the numeric amount field (``left_<amount>``, ...).
    :param decimals: places the amount is rounded to (None: as computed).
    """

    amount: str
    cases: Sequence[Case]
    decimals: int | None = None


def break_amount(rule: MoneyAtStake | None) -> pl.Expr:
    """The ``break_amount`` column under ``rule``; None (no amount field): 0 for every row."""
    if rule is None:
        return pl.lit(0.0).alias(BREAK_AMOUNT)
    at_stake = whole_amount(rule.amount)
    for rows, value in reversed(rule.cases):  # nested whens: the same plan as one chain
        at_stake = pl.when(rows).then(value).otherwise(at_stake)
    if rule.decimals is not None:
        at_stake = at_stake.round(rule.decimals)
    return at_stake.alias(BREAK_AMOUNT)


def core_rule(amount: str, differs: pl.Expr) -> MoneyAtStake:
    """Nothing for matched rows, |diff| for mismatched rows whose amounts differ (the whole
    amount where one side has none), the whole amount for the other breaks.

    :param differs: true where the two sides' amounts were compared and disagree.
    """
    status = pl.col("status")
    return MoneyAtStake(
        amount,
        cases=(
            (status == MATCHED, pl.lit(0.0)),
            (
                (status == MISMATCHED) & differs,
                amount_difference(amount).fill_null(whole_amount(amount)),
            ),
        ),
    )


def finite(column: str) -> pl.Expr:
    """A numeric column as a float, null where it is NaN or infinite: no sum of money may be
    poisoned by one non-finite value (they are compared, and counted, but never added)."""
    value = pl.col(column).cast(pl.Float64)
    return pl.when(value.is_finite()).then(value)


def whole_amount(amount: str) -> pl.Expr:
    """The larger |amount| of the two sides (the one present for a one-sided row), 0 for none."""
    left = finite(f"left_{amount}").abs()
    right = finite(f"right_{amount}").abs()
    return pl.max_horizontal(left, right).fill_null(0.0)


def amount_difference(field: str) -> pl.Expr:
    """|left - right| of a numeric field, as a float (null where a side has no finite value)."""
    return finite(f"diff_{field}").abs()
