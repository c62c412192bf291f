"""A group pass without ``group_by``: each row's group is searched for among its candidates.

For every row of the one side, its candidates are the many side's rows that satisfy each
rule part but the amount, member by member: the ``equal`` fields, the ``date`` window, the
``reference`` (``candidate_pairs`` finds them by blocking, never a cross join). Of those, the
ones that can be in a sum of the row's amount (same sign, not zero, not larger than it plus the
tolerance) go to ``search_subset``, with the tolerance abs_tol + rel_tol * |the row's amount|.

Deciding, in rounds, on sets (never first come, first served):

1. every open row's search runs on its candidates still open;
2. a unique subset none of whose members another row's unique subset also claims is a match;
   rows whose subsets share a member are all refused (``ambiguous``, the subset as candidates);
3. the matched members leave; the rows that lost a candidate to them are searched again (an
   ambiguous search may now be unique, a limit no longer hit); until a round matches nothing.

What is left is flagged on the one side only (the many side's rows stay open for later
passes): ``ambiguous`` (several subsets: every candidate listed; or a shared member),
``not_searched`` (a limit, with its reason). A row whose search found nothing stays open.

The score: the sum's score (1 exact, 0.5 at the tolerance's edge), averaged with the members'
mean date/reference score when the pass has those parts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import polars as pl

from recon.passes.amounts import common_scale, minor_units
from recon.passes.group import (
    MANY_ID,
    ONE_ID,
    match_rows,
    other_side,
    rule_of,
    side_frame,
)
from recon.passes.outcome import (
    AMBIGUOUS,
    FLAG_SCHEMA,
    ID,
    NOT_SEARCHED,
    OpenRows,
    PassOutcome,
)
from recon.passes.rules import LEFT_ID, RIGHT_ID, SCORE, candidate_pairs
from recon.passes.subset import FOUND, SubsetResult, search_subset
from recon.spec.passes import GroupPass

_TOL_DIGITS = 9


@dataclass
class _Row:
    """One row of the one side and what its search needs."""

    target: int | float
    tolerance: float
    candidates: list[tuple[str, int | float, float]]  # (many id, amount, member score)
    result: SubsetResult | None = None


def run_subset_search(rows: OpenRows, match_pass: GroupPass) -> PassOutcome:
    """Match rows of one side to subsets of ``match_pass.many``'s rows whose amounts sum."""
    searched = _searches(rows, match_pass)
    matched: dict[str, SubsetResult] = {}
    refused: dict[str, str] = {}  # one id -> why its unique subset was refused
    pending = set(searched)
    taken: set[str] = set()
    while pending:
        for one_id in sorted(pending):
            row = searched[one_id]
            open_candidates = [(c, a) for c, a, _ in row.candidates if c not in taken]
            row.result = search_subset(
                row.target, open_candidates, tolerance=row.tolerance, limits=match_pass.search
            )
        found = {
            one_id: row.result
            for one_id, row in searched.items()
            if one_id not in matched and row.result is not None and row.result.status == FOUND
        }
        claims = Counter(member for result in found.values() for member in result.ids)
        accepted = {k: r for k, r in found.items() if all(claims[m] == 1 for m in r.ids)}
        refused = {
            one_id: _shared_reason(one_id, result, found)
            for one_id, result in found.items()
            if one_id not in accepted
        }
        if not accepted:
            break
        matched.update(accepted)
        newly = {member for result in accepted.values() for member in result.ids}
        taken |= newly
        pending = {
            one_id
            for one_id, row in searched.items()
            if one_id not in matched and any(c in newly for c, _, _ in row.candidates)
        }
    return PassOutcome(
        _matches(matched, searched, match_pass), _flags(searched, matched, refused, match_pass)
    )


def _searches(rows: OpenRows, match_pass: GroupPass) -> dict[str, _Row]:
    """Each one-side row with at least one candidate: its target, tolerance and candidates."""
    many, one = match_pass.many, other_side(match_pass.many)
    pairs = candidate_pairs(rows.left, rows.right, rule_of(match_pass, amount=False), rows.spec)
    ids = {many: MANY_ID, one: ONE_ID}
    pairs = pairs.rename({LEFT_ID: ids["left"], RIGHT_ID: ids["right"]})
    rule = match_pass.amount
    field = rule.field
    many_frame, one_frame = side_frame(rows, many), side_frame(rows, one)
    scale = common_scale(many_frame.get_column(field), one_frame.get_column(field))
    units = {
        side: side_frame(rows, side).select(
            pl.col(ID), minor_units(field, side_frame(rows, side).schema[field], scale).alias("__u")
        )
        for side in (many, one)
    }
    target, amount = pl.col("__target"), pl.col("__u")
    absolute = round(rule.abs_tol * 10 ** (scale or 0), _TOL_DIGITS)
    tolerance = absolute + rule.rel_tol * target.abs().cast(pl.Float64)
    candidates = (
        pairs.join(units[one].rename({ID: ONE_ID, "__u": "__target"}), on=ONE_ID, validate="m:1")
        .join(units[many].rename({ID: MANY_ID}), on=MANY_ID, validate="m:1")
        .with_columns(tolerance.alias("__tol"))
        .filter(
            (target != 0)
            & (target.sign() == amount.sign())
            & (amount.abs().cast(pl.Float64) <= target.abs().cast(pl.Float64) + pl.col("__tol"))
        )
        .sort(ONE_ID, "__u", MANY_ID)
        .group_by(ONE_ID, maintain_order=True)
        .agg(
            pl.col("__target").first(),
            pl.col("__tol").first(),
            pl.col(MANY_ID),
            pl.col("__u"),
            pl.col(SCORE),
        )
    )
    return {
        one_id: _Row(target, tol, list(zip(members, amounts, scores, strict=True)))
        for one_id, target, tol, members, amounts, scores in candidates.iter_rows()
    }


def _shared_reason(one_id: str, result: SubsetResult, found: dict[str, SubsetResult]) -> str:
    others = sorted(k for k, r in found.items() if k != one_id and set(r.ids) & set(result.ids))
    shared = sorted({m for k in others for m in found[k].ids} & set(result.ids))
    return (
        f"its balancing subset shares {', '.join(shared)} with the subset of "
        f"{', '.join(others)}: neither is matched"
    )


def _matches(
    matched: dict[str, SubsetResult], searched: dict[str, _Row], match_pass: GroupPass
) -> pl.DataFrame:
    has_parts = match_pass.date is not None or match_pass.reference is not None
    records = []
    for one_id, result in matched.items():
        score = result.score
        if has_parts:
            member_scores = {c: s for c, _, s in searched[one_id].candidates}
            mean = sum(member_scores[m] for m in result.ids) / len(result.ids)
            score = (score + mean) / 2
        records.append({ONE_ID: [one_id], MANY_ID: list(result.ids), SCORE: round(score, 9)})
    frame = pl.DataFrame(
        records,
        schema={ONE_ID: pl.List(pl.String), MANY_ID: pl.List(pl.String), SCORE: pl.Float64},
    )
    ids = {match_pass.many: pl.col(MANY_ID), other_side(match_pass.many): pl.col(ONE_ID)}
    return match_rows(frame, ids["left"], ids["right"], pl.col(SCORE))


def _flags(
    searched: dict[str, _Row],
    matched: dict[str, SubsetResult],
    refused: dict[str, str],
    match_pass: GroupPass,
) -> pl.DataFrame:
    side = other_side(match_pass.many)
    records = []
    for one_id in sorted(searched):
        result = searched[one_id].result
        if one_id in matched or result is None:
            continue
        if one_id in refused:
            records.append((side, one_id, AMBIGUOUS, sorted(result.ids), refused[one_id]))
        elif result.status in (AMBIGUOUS, NOT_SEARCHED):
            records.append((side, one_id, result.status, sorted(result.ids), result.reason))
    return pl.DataFrame(records, schema=FLAG_SCHEMA, orient="row")


__all__ = ["run_subset_search"]
