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


# native floats: NaN, infinities and nulls on either side (issue 18, item 1) -----------------

FLOAT_SPEC = spec_from_dict(
    {"name": "prop_float", "keys": ["id"], "compare": {"amount": {"abs_tol": 0.5}}}
)
float_amounts = st.one_of(
    st.none(),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1.0, 1.25, -3.0, 1e308]),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
)
float_rows = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]), float_amounts), max_size=12
)


def float_frame(data: list[tuple[str, float | None]]) -> pl.LazyFrame:
    ids, amount = zip(*data, strict=True) if data else ((), ())
    return pl.LazyFrame(
        {"id": list(ids), "amount": list(amount)}, schema={"id": pl.String, "amount": pl.Float64}
    )


@SETTINGS
@given(float_rows, float_rows)
def test_swapping_sides_of_native_floats_changes_nothing_but_the_one_sided(
    left: list, right: list
) -> None:
    forward = reconcile(float_frame(left), float_frame(right), FLOAT_SPEC).results
    backward = reconcile(float_frame(right), float_frame(left), FLOAT_SPEC).results
    swap = {LEFT_ONLY: RIGHT_ONLY, RIGHT_ONLY: LEFT_ONLY}

    def by_key(results: pl.DataFrame, flip: bool) -> list[tuple[Any, str]]:
        pairs = zip(results["id"].to_list(), results["status"].to_list(), strict=True)
        return sorted((k, swap.get(s, s) if flip else s) for k, s in pairs)

    assert by_key(forward, flip=False) == by_key(backward, flip=True)
    amounts = forward["break_amount"].to_list()
    assert all(math.isfinite(a) for a in amounts)  # money at stake is never NaN or inf
    assert sorted(amounts) == sorted(backward["break_amount"].to_list())
    # a NaN or an infinity is never matched by a tolerance's slack against a finite number
    pairs = forward.filter(pl.col("status") == "matched")
    for lv, rv in zip(pairs["left_amount"], pairs["right_amount"], strict=True):
        if lv is None or rv is None:
            continue
        if not (math.isfinite(lv) and math.isfinite(rv)):
            assert (math.isnan(lv) and math.isnan(rv)) or lv == rv
