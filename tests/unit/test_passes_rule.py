"""Rule passes on literal frames: blocking finds the pairs, scores rank them, ties are refused."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from recon.passes.outcome import ID
from recon.passes.rules import candidate_pairs
from recon.passes.select import select_pairs
from recon.spec.passes import PassSpec, RulePass

DAY = dt.date(2026, 3, 2)


def spec_with(**rule: Any) -> tuple[PassSpec, RulePass]:
    spec = PassSpec.model_validate(
        {
            "name": "t",
            "ids": {"left": "id", "right": "id"},
            "fields": {
                "amount": {"type": "number"},
                "date": {"type": "date"},
                "ref": {},
                "currency": {},
            },
            "passes": [{"name": "r", "kind": "rule", **rule}],
        }
    )
    match_pass = spec.passes[0]
    assert isinstance(match_pass, RulePass)
    return spec, match_pass


def side(ids: list[str], **columns: list[Any]) -> pl.DataFrame:
    n = len(ids)
    base = {
        ID: ids,
        "amount": [0.0] * n,
        "date": [DAY] * n,
        "ref": [""] * n,
        "currency": ["EUR"] * n,
    }
    return pl.DataFrame({**base, **columns})


def pairs_of(left: pl.DataFrame, right: pl.DataFrame, **rule: Any) -> set[tuple[str, str]]:
    spec, match_pass = spec_with(**rule)
    found = candidate_pairs(left, right, match_pass, spec)
    return set(zip(found["left_id"], found["right_id"], strict=True))


def test_exact_rule_match_on_equal_fields_and_amount() -> None:
    left = side(["a", "b"], amount=[10.0, 20.0], currency=["EUR", "USD"])
    right = side(["x", "y", "z"], amount=[10.0, 20.0, 20.0], currency=["EUR", "EUR", "USD"])
    spec, match_pass = spec_with(equal=["currency"], amount={"field": "amount"})
    found = candidate_pairs(left, right, match_pass, spec)
    expected = pl.DataFrame({"left_id": ["a", "b"], "right_id": ["x", "z"], "score": [1.0, 1.0]})
    assert_frame_equal(found, expected)


@pytest.mark.parametrize(
    ("right_amount", "found"),
    [(10.05, True), (9.95, True), (10.06, False), (9.94, False), (1e9, False)],
    ids=["above-within", "below-within", "above-out", "below-out", "far"],
)
def test_amount_tolerance(right_amount: float, found: bool) -> None:
    left, right = side(["a"], amount=[10.0]), side(["x"], amount=[right_amount])
    assert bool(pairs_of(left, right, amount={"field": "amount", "abs_tol": 0.05})) is found


def test_amount_score_falls_with_the_difference() -> None:
    left = side(["a"], amount=[100.0])
    right = side(["x", "y", "z"], amount=[100.0, 101.0, 102.0])
    spec, match_pass = spec_with(amount={"field": "amount", "abs_tol": 2})
    scores = candidate_pairs(left, right, match_pass, spec)["score"].to_list()
    assert scores == [1.0, 0.75, 0.5]


def test_relative_tolerance_on_large_amounts() -> None:
    left = side(["a", "b"], amount=[1_000_000.0, 10.0])
    right = side(["x", "y"], amount=[1_009_000.0, 10.5])
    got = pairs_of(left, right, amount={"field": "amount", "rel_tol": 0.01})
    assert got == {("a", "x")}


@pytest.mark.parametrize(
    ("days", "found"),
    [(-1, True), (-2, False), (0, True), (3, True), (4, False)],
    ids=["1-before", "2-before", "same-day", "3-after", "4-after"],
)
def test_date_window_is_asymmetric(days: int, found: bool) -> None:
    left = side(["a"])
    right = side(["x"], date=[DAY + dt.timedelta(days=days)])
    got = pairs_of(left, right, date={"field": "date", "before": 1, "after": 3})
    assert bool(got) is found


def test_reference_found_inside_a_bank_description() -> None:
    left = side(["a", "b", "c"], ref=["po-7781", "INV 22", "AB"])
    right = side(
        ["x", "y", "z"],
        ref=["SEPA CREDIT  PO-7781 ACME GMBH", "transfer inv 22 thanks", "LAB TEST"],
    )
    got = pairs_of(left, right, reference={"field": "ref", "method": "contains", "min_length": 4})
    # "AB" is inside "LAB" but shorter than min_length: never counts as found
    assert got == {("a", "x"), ("b", "y")}


def test_contains_with_amount_blocking() -> None:
    left = side(["a", "b"], amount=[5.0, 5.0], ref=["ST-8HQ2", "ST-9ZZ1"])
    right = side(["x"], amount=[5.0], ref=["STRIPE TRANSFER ST-8HQ2 PAYOUT"])
    got = pairs_of(
        left, right, amount={"field": "amount"}, reference={"field": "ref", "method": "contains"}
    )
    assert got == {("a", "x")}


def test_garbled_reference_matched_by_similarity() -> None:
    left = side(["a", "b"], amount=[50.0, 50.0], ref=["PAYOUT PO-55821", "REFUND RF-10023"])
    right = side(["x"], amount=[50.0], ref=["PAY0UT P0-5582l"])
    spec, match_pass = spec_with(
        amount={"field": "amount"},
        reference={"field": "ref", "method": "similarity", "measure": "ratio", "threshold": 70},
    )
    found = candidate_pairs(left, right, match_pass, spec)
    assert found["left_id"].to_list() == ["a"]
    assert 0.85 < found["score"][0] < 1.0


def test_similarity_alone_has_nothing_to_block_on() -> None:
    from recon.errors import SpecError

    spec, match_pass = spec_with(reference={"field": "ref", "method": "similarity"})
    with pytest.raises(SpecError, match="nothing to find candidates by"):
        candidate_pairs(side(["a"], ref=["abcd"]), side(["x"], ref=["abcd"]), match_pass, spec)


def test_two_deposits_same_amount_same_day_are_both_ambiguous() -> None:
    left = side(["l1", "l2"], amount=[250.0, 250.0])
    right = side(["r1", "r2"], amount=[250.0, 250.0])
    spec, match_pass = spec_with(amount={"field": "amount"}, date={"field": "date", "after": 2})
    matched, ambiguous = select_pairs(candidate_pairs(left, right, match_pass, spec))
    assert matched.is_empty()
    assert ambiguous.select("side", "id", "status", "candidates").to_dicts() == [
        {"side": "left", "id": "l1", "status": "ambiguous", "candidates": ["r1", "r2"]},
        {"side": "left", "id": "l2", "status": "ambiguous", "candidates": ["r1", "r2"]},
        {"side": "right", "id": "r1", "status": "ambiguous", "candidates": ["l1", "l2"]},
        {"side": "right", "id": "r2", "status": "ambiguous", "candidates": ["l1", "l2"]},
    ]
    assert "2 candidates share the best score" in ambiguous["reason"][0]


def test_non_mutual_best_resolved_in_a_later_round() -> None:
    # b's best is x, but x prefers a (exact); once a-x leave, b and y are each other's best
    pairs = pl.DataFrame(
        {
            "left_id": ["a", "b", "b"],
            "right_id": ["x", "x", "y"],
            "score": [1.0, 0.9, 0.6],
        }
    )
    matched, ambiguous = select_pairs(pairs)
    assert matched.select("left_id", "right_id").rows() == [("a", "x"), ("b", "y")]
    assert ambiguous.is_empty()


def test_a_row_blocked_by_a_tie_is_ambiguous_not_matched() -> None:
    pairs = pl.DataFrame(
        {"left_id": ["a", "b", "c"], "right_id": ["x", "x", "x"], "score": [0.9, 0.9, 0.5]}
    )
    matched, ambiguous = select_pairs(pairs)
    assert matched.is_empty()
    assert set(ambiguous["id"]) == {"a", "b", "c", "x"}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")], ids=str)
def test_non_finite_amounts_never_match(bad: float) -> None:
    left = side(["a", "b"], amount=[bad, 1.0])
    right = side(["x", "y"], amount=[bad, float("inf")])
    rules = {"amount": {"field": "amount", "abs_tol": 1e9}}
    assert pairs_of(left, right, **rules) == set()


def test_null_amounts_and_dates_never_match() -> None:
    left = side(["a"]).with_columns(pl.lit(None, pl.Float64).alias("amount"))
    right = side(["x"]).with_columns(pl.lit(None, pl.Float64).alias("amount"))
    assert pairs_of(left, right, amount={"field": "amount"}) == set()
    left = side(["a"]).with_columns(pl.lit(None, pl.Date).alias("date"))
    assert pairs_of(left, side(["x"]), date={"field": "date", "after": 5}) == set()


def test_decimal_amounts_compare_exactly() -> None:
    dec = pl.Decimal(18, 2)
    left = side(["a"]).with_columns(pl.Series("amount", ["0.30"]).str.to_decimal().cast(dec))
    right = side(["x", "y"]).with_columns(
        pl.Series("amount", ["0.30", "0.31"]).str.to_decimal().cast(dec)
    )
    assert pairs_of(left, right, amount={"field": "amount"}) == {("a", "x")}


def test_pairs_and_selection_do_not_depend_on_row_order() -> None:
    rng = random.Random(7)
    n = 60
    left = side(
        [f"l{i}" for i in range(n)],
        amount=[float(rng.randint(1, 8)) for _ in range(n)],
        date=[DAY + dt.timedelta(days=rng.randint(0, 3)) for _ in range(n)],
    )
    right = side(
        [f"r{i}" for i in range(n)],
        amount=[float(rng.randint(1, 8)) + rng.choice([0, 0.01]) for _ in range(n)],
        date=[DAY + dt.timedelta(days=rng.randint(0, 3)) for _ in range(n)],
    )
    spec, match_pass = spec_with(
        amount={"field": "amount", "abs_tol": 0.01}, date={"field": "date", "after": 1}
    )

    def run(lf: pl.DataFrame, rf: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        return select_pairs(candidate_pairs(lf, rf, match_pass, spec))

    first = run(left, right)
    again = run(left.sample(fraction=1, shuffle=True, seed=1), right.reverse())
    assert_frame_equal(first[0], again[0])
    assert_frame_equal(first[1], again[1])
