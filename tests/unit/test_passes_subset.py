"""The bounded subset-sum search: found, ambiguous, none, each limit, exactness, order."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal

import pytest

from recon.passes.subset import FOUND, NONE, search_subset
from recon.spec.passes import SearchLimits

LIMITS = SearchLimits()


def test_a_deposit_batching_three_entries_is_found() -> None:
    candidates = [("e1", 120.00), ("e2", 75.50), ("e3", 310.25), ("e4", 999.99), ("e5", 42.00)]
    result = search_subset(505.75, candidates, tolerance=0.0, limits=LIMITS)
    assert result.status == FOUND
    assert result.ids == ("e2", "e1", "e3")  # sorted by (amount, id)
    assert result.score == 1.0
    assert result.diff == 0.0


def test_a_sum_within_the_tolerance_scores_below_one() -> None:
    result = search_subset(100.00, [("a", 60.00), ("b", 39.99)], tolerance=0.02, limits=LIMITS)
    assert result.status == FOUND
    assert result.diff == pytest.approx(-0.01)
    assert result.score == pytest.approx(0.75)


def test_two_balancing_subsets_are_ambiguous_with_every_candidate() -> None:
    candidates = [("a", 30), ("b", 70), ("c", 40), ("d", 60), ("x", 5)]
    result = search_subset(100, candidates, tolerance=0, limits=LIMITS)
    assert result.status == "ambiguous"
    assert set(result.ids) == {"a", "b", "c", "d", "x"}
    assert "several subsets balance" in result.reason


def test_equal_amounts_make_the_subset_ambiguous() -> None:
    candidates = [("a", 50), ("b", 50), ("c", 25)]
    assert search_subset(75, candidates, tolerance=0, limits=LIMITS).status == "ambiguous"


def test_no_balancing_subset() -> None:
    result = search_subset(100, [("a", 30), ("b", 60), ("c", 45)], tolerance=0, limits=LIMITS)
    assert result.status == NONE
    assert result.ids == ()


def test_a_single_row_is_not_a_subset() -> None:
    # one candidate equal to the target is a rule pass's one-to-one match, not a group
    assert search_subset(100, [("a", 100)], tolerance=0, limits=LIMITS).status == NONE


def test_subsets_larger_than_max_size_are_not_tried() -> None:
    candidates = [(f"r{i}", 10) for i in range(3)] + [("big", 1)]
    limits = SearchLimits(max_size=2)
    assert search_subset(30, candidates, tolerance=0, limits=limits).status == NONE
    assert search_subset(30, candidates[:3], tolerance=0, limits=SearchLimits()).status == FOUND


def test_too_many_candidates_is_not_searched_with_the_numbers() -> None:
    candidates = [(f"r{i:02}", 1 + i) for i in range(31)]
    result = search_subset(1000, candidates, tolerance=0, limits=SearchLimits(max_candidates=20))
    assert result.status == "not_searched"
    assert result.reason == "31 candidates > max_candidates 20"


def test_rows_that_cannot_be_members_do_not_count_as_candidates() -> None:
    # other sign, zero, or larger than the target: never in a same-sign sum
    candidates = [("a", 40), ("b", 60), ("neg", -5), ("zero", 0)] + [
        (f"big{i}", 500 + i) for i in range(30)
    ]
    result = search_subset(100, candidates, tolerance=0, limits=SearchLimits(max_candidates=2))
    assert (result.status, result.ids) == (FOUND, ("a", "b"))


def test_a_negative_target_searches_negative_amounts() -> None:
    candidates = [("a", Decimal("-40.10")), ("b", Decimal("-59.90")), ("c", Decimal("59.90"))]
    result = search_subset(Decimal("-100.00"), candidates, tolerance=0, limits=LIMITS)
    assert (result.status, result.ids) == (FOUND, ("a", "b"))


def test_the_time_limit_is_not_searched_with_the_numbers() -> None:
    candidates = [(f"r{i:02}", 1_000_003 + 7 * i) for i in range(40)]
    result = search_subset(
        1,
        [("x", 1), *candidates],
        tolerance=0,
        limits=SearchLimits(max_candidates=64, max_size=20, time_limit_s=1.5),
    )
    # the target 1 admits only x: nothing to search long; a large target does
    assert result.status == NONE
    ticks = itertools.count(0.0, 1.0)  # a clock that advances a second per look
    result = search_subset(
        20_000_061,
        candidates,
        tolerance=0,
        limits=SearchLimits(max_candidates=64, max_size=20, time_limit_s=1.5),
        clock=lambda: next(ticks),
    )
    assert result.status == "not_searched"
    assert result.reason.startswith("search stopped at time_limit_s 1.5 after 8,192 steps")
    assert result.reason.endswith("among 40 candidates")


def test_decimal_amounts_are_exact() -> None:
    result = search_subset(
        Decimal("0.3"), [("a", Decimal("0.1")), ("b", Decimal("0.2"))], tolerance=0, limits=LIMITS
    )
    assert (result.status, result.ids, result.diff) == (FOUND, ("a", "b"), 0.0)


def test_float_amounts_are_read_at_their_decimals() -> None:
    assert 0.1 + 0.2 != 0.3
    result = search_subset(0.3, [("a", 0.1), ("b", 0.2)], tolerance=0.0, limits=LIMITS)
    assert (result.status, result.ids) == (FOUND, ("a", "b"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_answer_does_not_depend_on_candidate_order(seed: int) -> None:
    candidates = [("a", 12.5), ("b", 7.25), ("c", 30.0), ("d", 19.75), ("e", 3.0), ("f", 8.0)]
    expected = search_subset(57.5, candidates, tolerance=0.0, limits=LIMITS)
    shuffled = candidates[:]
    random.Random(seed).shuffle(shuffled)
    assert search_subset(57.5, shuffled, tolerance=0.0, limits=LIMITS) == expected
