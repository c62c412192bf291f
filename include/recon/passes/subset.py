"""A bounded subset-sum search: which rows of the other side add up to one amount.

A bank deposit batches ledger entries; nothing says which. ``search_subset`` looks among the
candidates (the rows blocking found for it) for subsets of 2..``max_size`` rows whose sum is
within the tolerance of the target, and answers with one of:

- ``found``: exactly one subset balances (its ids, its difference and score);
- ``ambiguous``: two or more balance; the search stops at the second and lists every candidate
  (which subset is right is a person's call, and so is any subset it did not enumerate);
- ``none``: no subset balances;
- ``not_searched``: more candidates than ``max_candidates``, or ``time_limit_s`` ran out; the
  reason names the limit and the numbers.

Exact arithmetic: amounts become integers of minor units (Decimal as it is, floats through their
shortest repr, 0.1 -> 1 at scale 1), so 0.1 + 0.2 balances 0.3 at a zero tolerance. Floats with
more than six decimals stay floats; only the tolerance is ever a float.

Only candidates of the target's sign, non-zero and no larger than the target plus the tolerance
can be members (all members of a same-sign sum are smaller than it), so they alone count and are
searched, the amounts sorted by (amount, id) so the answer never depends on the order candidates
come in: 12 to 24 candidates meet in the middle (every subset sum of each half, numpy, the pairs
that balance found by binary search); fewer or more, a pruned depth-first search (a branch stops
once the next amount overshoots, or its largest completion falls short), which looks at the clock
every CHECK_EVERY steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from recon.passes.amounts import MAX_FLOAT_SCALE
from recon.passes.outcome import AMBIGUOUS, NOT_SEARCHED
from recon.passes.rules import EDGE_SCORE
from recon.spec.passes import SearchLimits

FOUND = "found"
NONE = "none"
Amount = int | float | Decimal
CHECK_EVERY = 4096  # steps between two looks at the clock
# from HALVES_MIN to HALVES_MAX candidates: meet in the middle (at most 2 x 4096 subset sums);
# fewer: the depth-first search is quicker than numpy's calls; more: the halves grow too large
HALVES_MIN = 12
HALVES_MAX = 24
_TOL_DIGITS = 9


@dataclass(frozen=True)
class SubsetResult:
    status: str  # FOUND, AMBIGUOUS, NONE or NOT_SEARCHED
    ids: tuple[str, ...] = ()  # found: the subset; ambiguous: every candidate searched
    diff: float = 0.0  # found: sum - target, in the amounts' own units
    score: float = 0.0  # found: 1 at an exact sum, 0.5 at the tolerance's edge
    reason: str = ""
    limit: str = ""  # not_searched: the limit hit, "max_candidates" or "time_limit_s"


class _TimeUp(Exception):
    pass


def search_subset(
    target: Amount,
    candidates: Iterable[tuple[str, Amount]],
    *,
    tolerance: float,
    limits: SearchLimits,
    clock: Callable[[], float] = time.monotonic,
) -> SubsetResult:
    """Find the subsets of ``candidates`` (id, amount) whose sum is within ``tolerance`` of ``target``.

    :param tolerance: the allowed |sum - target|, in the amounts' units (abs_tol + rel_tol * |target|).
    :param clock: seconds, for ``time_limit_s`` (a test passes a fake one).
    """
    pairs = list(candidates)
    units, scale = _as_units([target, *(amount for _, amount in pairs)])
    goal, amounts = units[0], units[1:]
    if goal == 0:
        return SubsetResult(NONE, reason="a zero target has no balancing subset")
    sign = 1 if goal > 0 else -1
    tol = round(tolerance * 10**scale, _TOL_DIGITS) if scale is not None else tolerance
    ceiling = abs(goal) + tol
    members = sorted(
        (sign * amount, row_id)
        for (row_id, _), amount in zip(pairs, amounts, strict=True)
        if 0 < sign * amount <= ceiling
    )
    if len(members) > limits.max_candidates:
        return SubsetResult(
            NOT_SEARCHED,
            reason=f"{len(members)} candidates > max_candidates {limits.max_candidates}",
            limit="max_candidates",
        )
    if len(members) < 2:
        return SubsetResult(NONE, reason=f"{len(members)} candidate(s): no subset of 2 or more")
    values = [v for v, _ in members]
    search = _Search(values, abs(goal), tol, limits, clock)
    try:
        found = _halves(values, abs(goal), tol, limits.max_size) or search.run()
    except _TimeUp:
        return SubsetResult(
            NOT_SEARCHED,
            reason=(
                f"search stopped at time_limit_s {limits.time_limit_s:g} after {search.steps:,} "
                f"steps among {len(members)} candidates"
            ),
            limit="time_limit_s",
        )
    ids = [row_id for _, row_id in members]
    if not found:
        return SubsetResult(NONE, reason=f"no subset of {len(members)} candidates balances")
    if len(found) > 1:
        shown = " and ".join("[" + ", ".join(ids[i] for i in subset) + "]" for subset in found)
        return SubsetResult(
            AMBIGUOUS, ids=tuple(ids), reason=f"several subsets balance: {shown}, ..."
        )
    subset = found[0]
    diff_units = sign * sum(members[i][0] for i in subset) - goal
    diff = float(diff_units) / 10**scale if scale is not None else float(diff_units)
    return SubsetResult(
        FOUND,
        ids=tuple(ids[i] for i in subset),
        diff=diff,
        score=score_of(float(diff_units), tol),
    )


def score_of(diff: float, tolerance: float) -> float:
    """A sum's score, as the rule pass scores an amount: 1 exact, EDGE_SCORE at the edge."""
    if tolerance <= 0:
        return 1.0
    return 1.0 - (1.0 - EDGE_SCORE) * min(abs(diff) / tolerance, 1.0)


def _as_units(values: Sequence[Amount]) -> tuple[list[int] | list[float], int | None]:
    """Every value as an integer at one common scale, or floats when no scale up to 6 holds them."""
    decimals = [v if isinstance(v, Decimal) else Decimal(repr(v)) for v in values]
    exponents = [d.as_tuple().exponent for d in decimals]
    if any(not isinstance(e, int) for e in exponents):  # NaN or infinity: no exact form
        return [float(v) for v in values], None
    scale = max(0, *(-e for e in exponents if isinstance(e, int)))
    if scale > MAX_FLOAT_SCALE and any(isinstance(v, float) for v in values):
        return [float(v) for v in values], None
    return [int(d.scaleb(scale)) for d in decimals], scale


def _halves(
    values: Sequence[int] | Sequence[float], goal: float, tol: float, max_size: int
) -> list[tuple[int, ...]] | None:
    """Meet in the middle, vectorised: every subset sum of each half, the pairs of a subset of
    each whose sizes add to 2..max_size and whose sums fall in [goal - tol, goal + tol], counted
    with a binary search. Up to two subsets (sorted indices); None: too many values for it."""
    n = len(values)
    exact = all(isinstance(v, int) for v in values)
    if not HALVES_MIN <= n <= HALVES_MAX or (exact and goal + tol >= 2**62):
        return None
    dtype = np.int64 if exact else np.float64
    cut = n // 2
    low_sums, low_sizes = _subset_sums(np.asarray(values[:cut], dtype=dtype))
    high_sums, high_sizes = _subset_sums(np.asarray(values[cut:], dtype=dtype))
    low, high = goal - tol, goal + tol
    found: list[tuple[int, ...]] = []
    for size in range(max_size + 1):  # the size of the subset taken from the upper half
        pick = np.flatnonzero(high_sizes == size)
        order = pick[np.argsort(high_sums[pick], kind="stable")]
        sums = high_sums[order]
        allowed = (low_sizes + size >= 2) & (low_sizes + size <= max_size)
        first = np.searchsorted(sums, low - low_sums, side="left")
        last = np.searchsorted(sums, high - low_sums, side="right")
        counts = np.where(allowed, last - first, 0)
        for lower in np.flatnonzero(counts):
            for at in range(int(first[lower]), int(last[lower])):
                mask = (int(lower), int(order[at]))
                found.append(_indices(mask, cut))
                if len(found) > 1:
                    return sorted(found)
    return found


def _subset_sums(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sum and size of every subset; subset ``j`` holds value ``t`` where bit ``t`` of j is set."""
    bits = (np.arange(1 << len(values))[:, None] >> np.arange(len(values))) & 1
    return bits @ values, bits.sum(axis=1)


def _indices(masks: tuple[int, int], cut: int) -> tuple[int, ...]:
    lower, upper = masks
    bits = [t for t in range(cut) if lower >> t & 1]
    return tuple(bits + [cut + t for t in range(upper.bit_length()) if upper >> t & 1])


class _Search:
    """Depth-first over ascending amounts: stop a branch once the next amount overshoots, skip one
    whose largest reachable sum falls short; stop at the second subset that balances."""

    def __init__(
        self,
        values: Sequence[int] | Sequence[float],
        goal: float,
        tol: float,
        limits: SearchLimits,
        clock: Callable[[], float],
    ) -> None:
        self.values = values
        self.low, self.high = goal - tol, goal + tol
        self.max_size = limits.max_size
        self.deadline = clock() + limits.time_limit_s
        self.clock = clock
        self.steps = 0
        self.prefix: list[float] = [0]
        for value in values:
            self.prefix.append(self.prefix[-1] + value)
        self.found: list[tuple[int, ...]] = []
        self.chosen: list[int] = []

    def run(self) -> list[tuple[int, ...]]:
        self._extend(0, 0)
        return self.found

    def _extend(self, start: int, total: float) -> bool:
        """Try every next member from ``start``; True once two subsets balance."""
        values, prefix, chosen = self.values, self.prefix, self.chosen
        low, high, n = self.low, self.high, len(self.values)
        size = len(chosen) + 1
        more = self.max_size - size  # members that may still follow this one
        for i in range(start, n):
            self.steps += 1
            if self.steps % CHECK_EVERY == 0 and self.clock() > self.deadline:
                raise _TimeUp
            reached = total + values[i]
            if reached > high:
                return False  # ascending: every later value overshoots too
            # the largest completion: the ``more`` largest values after i
            if reached + prefix[n] - prefix[max(i + 1, n - more)] < low:
                continue  # falls short even so; a larger value at i may not
            chosen.append(i)
            if size >= 2 and reached >= low:
                self.found.append(tuple(chosen))
                if len(self.found) > 1:
                    return True
            # deeper only when the smallest next value still fits
            fits = more and i + 1 < n and reached + values[i + 1] <= high
            if fits and self._extend(i + 1, reached):
                return True
            self.chosen.pop()
        return False
