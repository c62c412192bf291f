"""recon.engine.at_stake on tiny literal frames: the core's rule and a domain's given to it."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from recon.engine.at_stake import MoneyAtStake, break_amount, core_rule

ROWS = pl.DataFrame(
    {
        "status": ["matched", "mismatched", "mismatched", "mismatched", "left_only", "invalid"],
        "left_amount": [10.0, 10.0, 10.0, None, -7.5, None],
        "right_amount": [10.0, 12.5, 10.0, 4.0, None, None],
        "diff_amount": [0.0, -2.5, 0.0, None, None, None],
        "differs": [False, True, False, True, False, False],
        "kind": ["x", "y", "z", "y", "z", "z"],
    }
)


def amounts(rule: MoneyAtStake | None) -> list[float]:
    return ROWS.with_columns(break_amount(rule))["break_amount"].to_list()


def test_core_rule_diff_where_the_amount_differs_else_the_whole_amount() -> None:
    # matched 0; |diff|; a mismatch elsewhere: the whole amount; no diff: the whole amount;
    # one-sided: that side's |amount|; no values: 0
    assert amounts(core_rule("amount", pl.col("differs"))) == [0.0, 2.5, 10.0, 4.0, 7.5, 0.0]


def test_a_rules_cases_in_order_the_whole_amount_for_the_rest_rounded() -> None:
    rule = MoneyAtStake(
        "amount",
        cases=((pl.col("kind") == "x", pl.lit(1.23456)), (pl.col("kind") == "y", pl.lit(2.0))),
        decimals=2,
    )
    assert amounts(rule) == [1.23, 2.0, 10.0, 2.0, 7.5, 0.0]


def test_no_amount_field_puts_nothing_at_stake() -> None:
    got = ROWS.with_columns(break_amount(None)).select("break_amount")
    assert_frame_equal(got, pl.DataFrame({"break_amount": [0.0] * ROWS.height}))
