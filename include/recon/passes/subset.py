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
searched: a pruned depth-first search over the amounts sorted by (amount, id), which makes the
answer independent of the order candidates come in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from recon.passes.amounts import MAX_FLOAT_SCALE
from recon.passes.outcome import AMBIGUOUS, NOT_SEARCHED
from recon.passes.rules import EDGE_SCORE
from recon.spec.passes import SearchLimits

FOUND = "found"
NONE = "none"
Amount = int | float | Decimal
CHECK_EVERY = 4096  # steps between two looks at the clock
_TOL_DIGITS = 9


@dataclass(frozen=True)
class SubsetResult:
    status: str  # FOUND, AMBIGUOUS, NONE or NOT_SEARCHED
    ids: tuple[str, ...] = ()  # found: the subset; ambiguous: every candidate searched
    diff: float = 0.0  # found: sum - target, in the amounts' own units
    score: float = 0.0  # found: 1 at an exact sum, 0.5 at the tolerance's edge
    reason: str = ""


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
        )
    if len(members) < 2:
        return SubsetResult(NONE, reason=f"{len(members)} candidate(s): no subset of 2 or more")
    search = _Search([v for v, _ in members], abs(goal), tol, limits, clock)
    try:
        found = search.run()
    except _TimeUp:
        return SubsetResult(
            NOT_SEARCHED,
            reason=(
                f"search stopped at time_limit_s {limits.time_limit_s:g} after {search.steps:,} "
                f"steps among {len(members)} candidates"
            ),
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

    def _largest(self, start: int, count: int) -> float:
        """The sum of the ``count`` largest values at index ``start`` or later."""
        n = len(self.values)
        return self.prefix[n] - self.prefix[max(start, n - count)]

    def _extend(self, start: int, total: float) -> bool:
        """Try every next member from ``start``; True once two subsets balance."""
        values, size = self.values, len(self.chosen) + 1
        for i in range(start, len(values)):
            self.steps += 1
            if self.steps % CHECK_EVERY == 0 and self.clock() > self.deadline:
                raise _TimeUp
            reached = total + values[i]
            if reached > self.high:
                return False  # ascending: every later value overshoots too
            if reached + self._largest(i + 1, self.max_size - size) < self.low:
                continue  # even the largest completion falls short; a larger value may not
            self.chosen.append(i)
            if size >= 2 and reached >= self.low:
                self.found.append(tuple(self.chosen))
                if len(self.found) > 1:
                    return True
            if size < self.max_size and self._extend(i + 1, reached):
                return True
            self.chosen.pop()
        return False
