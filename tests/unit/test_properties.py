"""Properties of the core that must hold for any input."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon.engine.reconcile import reconcile
from recon.result import LEFT_ONLY, RIGHT_ONLY, STATUSES
from recon.spec import spec_from_dict

SPEC = spec_from_dict(
    {
        "name": "prop",
        "keys": ["id"],
        "normalize": {"id": ["strip", "upper"]},
        "compare": {"amount": {"abs_tol": 0.5}, "ccy": {"case": "insensitive"}},
    }
)
AGG_SPEC = spec_from_dict(
    {
        "name": "prop_agg",
        "keys": ["id"],
        "compare": {"amount": {"abs_tol": 0.5}},
        "aggregate": {
            "right": {
                "group_by": ["id"],
                "sum": ["amount"],
                "sign": {"column": "ccy", "negative": ["SELL"]},
            }
        },
    }
)

keys = st.one_of(st.none(), st.sampled_from(["a", "b", " c", "C", "d", "e", "", "f", "g"]))
amounts = st.one_of(
    st.none(),
    st.sampled_from(["1", "1.2", "2", "-3", "x", "", "1e3", "  4 "]),
)
currencies = st.one_of(st.none(), st.sampled_from(["usd", "USD", "eur", "SELL", "BUY"]))
rows = st.lists(st.tuples(keys, amounts, currencies), max_size=25)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frame(data: list[tuple[Any, Any, Any]]) -> pl.LazyFrame:
    ids, amount, ccy = zip(*data, strict=True) if data else ((), (), ())
    return pl.LazyFrame(
        {"id": list(ids), "amount": list(amount), "ccy": list(ccy)},
        schema={"id": pl.String, "amount": pl.String, "ccy": pl.String},
    )


@SETTINGS
@given(rows, rows)
def test_every_input_row_lands_in_exactly_one_status(left: list, right: list) -> None:
    for spec in (SPEC, AGG_SPEC):
        out = reconcile(frame(left), frame(right), spec)
        assert out.results["left_rows"].sum() == len(left)
        assert out.results["right_rows"].sum() == len(right)
        assert out.summary["row_conservation"]["ok"]
        assert set(out.results["status"].unique()) <= set(STATUSES)
        assert sum(out.summary["counts"].values()) == out.results.height
        keyed = out.results.filter(pl.col("status") != "invalid")
        assert keyed.select("id").is_unique().all(), "a key appears in two result rows"


@SETTINGS
@given(rows, rows)
def test_swapping_sides_swaps_left_only_and_right_only(left: list, right: list) -> None:
    forward = reconcile(frame(left), frame(right), SPEC).results
    backward = reconcile(frame(right), frame(left), SPEC).results
    swap = {LEFT_ONLY: RIGHT_ONLY, RIGHT_ONLY: LEFT_ONLY}

    def by_key(results: pl.DataFrame, flip: bool) -> dict[Any, str]:
        keyed = results.filter(pl.col("status") != "invalid")
        return {
            k: (swap.get(s, s) if flip else s)
            for k, s in zip(keyed["id"].to_list(), keyed["status"].to_list(), strict=True)
        }

    assert by_key(forward, flip=False) == by_key(backward, flip=True)
    # fsum: exactly rounded, so the order rows come in cannot change the total
    assert math.fsum(forward["break_amount"]) == math.fsum(backward["break_amount"])
    invalid_f = forward.filter(pl.col("status") == "invalid")["side"].value_counts().sort("side")
    invalid_b = backward.filter(pl.col("status") == "invalid")["side"].value_counts().sort("side")
    flipped = invalid_b.with_columns(pl.col("side").replace({"left": "right", "right": "left"}))
    assert invalid_f.rows() == flipped.sort("side").rows()


@SETTINGS
@given(rows)
def test_a_side_reconciled_with_itself_has_no_mismatches(data: list) -> None:
    out = reconcile(frame(data), frame(data), SPEC).results
    assert not out["status"].is_in([LEFT_ONLY, RIGHT_ONLY, "mismatched"]).any()
