"""A group pass without ``group_by``: each row's group is searched for among its candidates.

For every row of the one side, its candidates are the many side's rows that satisfy each
rule part but the amount, member by member: the ``equal`` fields, the ``date`` window, the
``reference`` (``candidate_pairs`` finds them by blocking, never a cross join). Of those, the
ones that can be in a sum of the row's amount (same sign, not zero, not larger than it plus the
tolerance) go to ``search_subset``, with the tolerance abs_tol + rel_tol * |the row's amount|.
Pairs are listed a chunk of rows at a time (memory bounded), and a row whose block (the rows
sharing its equal fields and date window) holds more than BLOCK_CAP rows is ``not_searched``
before any pair is listed.

Deciding, in rounds, on sets (never first come, first served):

1. every open row's search runs on its candidates still open;
2. a unique subset none of whose members another row's unique subset also claims is a match;
   rows whose subsets share a member are all refused (``ambiguous``, the subset as candidates);
3. the matched members leave; the rows that lost a candidate to them are searched again (an
   ambiguous search may now be unique, max_candidates no longer hit; a search that ran out of
   time is not run again); until a round matches nothing.

What is left is flagged on the one side only (the many side's rows stay open for later
passes): ``ambiguous`` (several subsets: every candidate listed; or a shared member),
``not_searched`` (a limit, with its reason). A row whose search found nothing stays open.

The score: the sum's score (1 exact, 0.5 at the tolerance's edge), averaged with the members'
mean date/reference score when the pass has those parts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
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
from recon.passes.rules import LEFT_ID, RIGHT_ID, SCORE, candidate_pairs, day_number
from recon.passes.subset import FOUND, SubsetResult, search_subset
from recon.spec.passes import GroupPass

_TOL_DIGITS = 9
BLOCK_CAP = 5_000  # many-side rows sharing a row's block, past which it is not searched
PAIRS_PER_CHUNK = 2_000_000  # candidate pairs listed at a time


@dataclass
class _Row:
    """One row of the one side and what its search needs."""

    target: int | float
    tolerance: float
    candidates: list[tuple[str, int | float, float]]  # (many id, amount, member score)
    result: SubsetResult | None = None


def run_subset_search(rows: OpenRows, match_pass: GroupPass) -> PassOutcome:
    """Match rows of one side to subsets of ``match_pass.many``'s rows whose amounts sum."""
    searched, too_big = _searches(rows, match_pass)
    holders: dict[str, list[str]] = defaultdict(list)  # many id -> rows it is a candidate of
    for one_id, row in searched.items():
        for candidate, _, _ in row.candidates:
            holders[candidate].append(one_id)
    matched: dict[str, SubsetResult] = {}
    found: dict[str, SubsetResult] = {}  # unique subsets of rows not matched (yet)
    taken: set[str] = set()
    pending = sorted(searched)
    while pending:
        for one_id in pending:
            row = searched[one_id]
            open_candidates = [(c, a) for c, a, _ in row.candidates if c not in taken]
            row.result = search_subset(
                row.target, open_candidates, tolerance=row.tolerance, limits=match_pass.search
            )
            if row.result.status == FOUND:
                found[one_id] = row.result
            else:
                found.pop(one_id, None)
        claims = Counter(member for result in found.values() for member in result.ids)
        accepted = [k for k, r in found.items() if all(claims[m] == 1 for m in r.ids)]
        if not accepted:
            break
        newly: set[str] = set()
        for one_id in accepted:
            matched[one_id] = found.pop(one_id)
            newly.update(matched[one_id].ids)
        taken |= newly
        # searched again: rows that lost a candidate, but not one that ran out of time (once
        # per row bounds the pass's time by rows x time_limit_s)
        pending = sorted(
            {
                o
                for m in newly
                for o in holders[m]
                if o not in matched and not _timed_out(searched[o])
            }
        )
    # every unique subset left shares a member with another's: a round accepted none of them
    return PassOutcome(
        _matches(matched, searched, match_pass),
        _flags(searched, matched, _shared_reasons(found), too_big, match_pass),
    )


def _timed_out(row: _Row) -> bool:
    return row.result is not None and row.result.limit == "time_limit_s"


def _blocked_pairs(rows: OpenRows, match_pass: GroupPass) -> tuple[pl.DataFrame, dict[str, str]]:
    """(one id, many id, member score) of every candidate, and the rows whose block is too big.

    ``candidate_pairs`` runs on chunks of the one side of about PAIRS_PER_CHUNK pairs each, so
    memory stays bounded whatever the blocks; a row whose block (the many-side rows sharing its
    equal fields and date window) exceeds BLOCK_CAP is not searched at all.
    """
    many, one = match_pass.many, other_side(match_pass.many)
    rule = rule_of(match_pass, amount=False)
    one_frame = side_frame(rows, one)
    sizes = _block_sizes(one_frame, side_frame(rows, many), match_pass)
    chunks = [one_frame]
    too_big: dict[str, str] = {}
    if sizes is not None:
        for one_id, size in sizes.filter(pl.col("__n") > BLOCK_CAP).iter_rows():
            too_big[one_id] = (
                f"{size:,} rows share its equal fields and date window > block cap "
                f"{BLOCK_CAP:,}: too many to pick candidates from"
            )
        kept = sizes.filter(pl.col("__n") <= BLOCK_CAP).with_columns(
            (pl.col("__n").cum_sum() // PAIRS_PER_CHUNK).alias("__chunk")
        )
        chunks = [
            one_frame.join(part.select(ID), on=ID, how="semi")
            for part in kept.partition_by("__chunk", maintain_order=True)
        ]
    ids = {many: MANY_ID, one: ONE_ID}
    pairs = []
    for chunk in chunks:
        left, right = (chunk, rows.right) if one == "left" else (rows.left, chunk)
        found = candidate_pairs(left, right, rule, rows.spec)
        pairs.append(found.rename({LEFT_ID: ids["left"], RIGHT_ID: ids["right"]}))
    empty = pl.DataFrame(schema={ONE_ID: pl.String, MANY_ID: pl.String, SCORE: pl.Float64})
    return pl.concat([empty, *(p.select(empty.columns) for p in pairs)]), too_big


def _block_sizes(
    one: pl.DataFrame, many: pl.DataFrame, match_pass: GroupPass
) -> pl.DataFrame | None:
    """ID, __n: how many many-side rows share each one-side row's equal fields and date window
    (rows sharing none are left out); None when the pass blocks on a reference alone."""
    keys = list(match_pass.equal)
    date = match_pass.date
    if not keys and date is None:
        return None
    by = [*keys, *(["__day"] if date is not None else [])]
    present = pl.all_horizontal(
        [pl.col(k).is_not_null() for k in keys]
        + ([pl.col(date.field).is_not_null()] if date else [])
    )
    many_keys = many.lazy().filter(present)
    one_keys = one.lazy().filter(present).select(ID, *keys, *([date.field] if date else []))
    if date is not None:
        # members' days for a row on day d: right's date within [left - before, left + after]
        early, late = (
            (date.after, date.before) if match_pass.many == "left" else (date.before, date.after)
        )
        day = day_number(date.field)
        many_keys = many_keys.with_columns(day.alias("__day"))
        one_keys = one_keys.with_columns(pl.int_ranges(day - early, day + late + 1).alias("__day"))
        one_keys = one_keys.explode("__day")
    counts = many_keys.group_by(by).agg(pl.len().alias("__n"))
    return (
        one_keys.join(counts, on=by, how="inner", validate="m:1")
        .group_by(ID)
        .agg(pl.col("__n").sum())
        .sort(ID)
        .collect()
    )


def _searches(rows: OpenRows, match_pass: GroupPass) -> tuple[dict[str, _Row], dict[str, str]]:
    """Each one-side row with at least one candidate: its target, tolerance and candidates;
    and the rows not searched for their block's size, with the reason."""
    many, one = match_pass.many, other_side(match_pass.many)
    pairs, too_big = _blocked_pairs(rows, match_pass)
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
    searched = {
        one_id: _Row(target, tol, list(zip(members, amounts, scores, strict=True)))
        for one_id, target, tol, members, amounts, scores in candidates.iter_rows()
    }
    return searched, too_big


def _shared_reasons(found: dict[str, SubsetResult]) -> dict[str, str]:
    """Why each row's unique subset was refused: the members it shares, and with whom."""
    claimants: dict[str, list[str]] = defaultdict(list)
    for one_id in sorted(found):
        for member in found[one_id].ids:
            claimants[member].append(one_id)
    reasons = {}
    for one_id, result in found.items():
        shared = sorted(m for m in result.ids if len(claimants[m]) > 1)
        others = sorted({o for m in shared for o in claimants[m] if o != one_id})
        reasons[one_id] = (
            f"its balancing subset shares {', '.join(shared)} with the subset of "
            f"{', '.join(others)}: neither is matched"
        )
    return reasons


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
        records.append({ONE_ID: [one_id], MANY_ID: sorted(result.ids), SCORE: round(score, 9)})
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
    too_big: dict[str, str],
    match_pass: GroupPass,
) -> pl.DataFrame:
    side = other_side(match_pass.many)
    records: list[tuple[str, str, str, list[str], str]] = [
        (side, one_id, NOT_SEARCHED, [], reason) for one_id, reason in too_big.items()
    ]
    for one_id in sorted(searched):
        result = searched[one_id].result
        if one_id in matched or result is None:
            continue
        if one_id in refused:
            records.append((side, one_id, AMBIGUOUS, sorted(result.ids), refused[one_id]))
        elif result.status in (AMBIGUOUS, NOT_SEARCHED):
            records.append((side, one_id, result.status, sorted(result.ids), result.reason))
    return pl.DataFrame(records, schema=FLAG_SCHEMA, orient="row").sort("side", "id")


__all__ = ["run_subset_search"]
