"""The group pass: one row of one side against a group of rows on the ``many`` side.

With ``group_by`` (a payout id, a value date and an account), the many side's rows form groups
by those fields, and each group becomes one pseudo-row:

- its id: its smallest member id (groups are disjoint, so it names one group, whatever order);
- its amount: the exact sum of its members (see ``recon.passes.amounts``);
- its date: the latest member date (a payout settles when its last transaction has; the date
  rule's window is measured from there). A member without a date leaves the group without one;
- its ``equal`` and ``reference`` fields: the value all members share. Members that disagree
  on one (a payout whose transactions carry two currencies), a member with no amount or a
  null ``group_by`` value: that group is not formed and its rows stay open.

The pseudo-rows then meet the one side's rows exactly as a rule pass's rows do:
``candidate_pairs`` (blocking, the amount tolerance on the sum, the date window, the
reference) and ``select_pairs`` (mutual unique best; a row with two equally good groups, or a
group with two equally good rows, is ``ambiguous``). A matched group is expanded to its
members: the match joins the real rows of both sides.

Without ``group_by`` the members are searched for instead: ``recon.passes.group_search``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from recon.errors import SpecError
from recon.passes.amounts import exact_sum, minor_scale
from recon.passes.outcome import FLAG_SCHEMA, ID, MATCH_SCHEMA, MATCHED, OpenRows, PassOutcome
from recon.passes.rules import LEFT_ID, RIGHT_ID, SCORE, candidate_pairs
from recon.passes.select import select_pairs
from recon.spec.passes import GroupPass, RulePass, Side

MEMBERS = "__members"
ONE_ID = "__one"
MANY_ID = "__many"


def run_group(rows: OpenRows, match_pass: GroupPass) -> PassOutcome:
    """Match rows of one side to groups of rows of ``match_pass.many`` whose amounts sum."""
    if not match_pass.group_by:
        from recon.passes.group_search import run_subset_search

        return run_subset_search(rows, match_pass)
    many = side_frame(rows, match_pass.many)
    groups = group_rows(many, match_pass.group_by, match_pass.amount.field, **_carried(match_pass))
    pseudo = groups.drop(MEMBERS)
    one = side_frame(rows, other_side(match_pass.many))
    left, right = (pseudo, one) if match_pass.many == "left" else (one, pseudo)
    pairs = candidate_pairs(left, right, rule_of(match_pass, amount=True), rows.spec)
    matched, ambiguous = select_pairs(pairs)
    members = groups.select(pl.col(ID).alias(MANY_ID), MEMBERS)
    return PassOutcome(
        _expanded_matches(matched, members, match_pass.many),
        _expanded_flags(ambiguous, members, match_pass.many),
    )


def other_side(side: Side) -> Side:
    return "right" if side == "left" else "left"


def side_frame(rows: OpenRows, side: Side) -> pl.DataFrame:
    return rows.left if side == "left" else rows.right


def rule_of(match_pass: GroupPass, *, amount: bool) -> RulePass:
    """The group pass's rule parts as a rule pass (``amount``: compare the sum too)."""
    if not (amount or match_pass.equal or match_pass.date or match_pass.reference):
        raise SpecError(
            f"pass `{match_pass.name}`: a subset search needs `equal` fields, a `date` window or "
            "a `reference` to find its candidates by (else every row is a candidate of every "
            "other)",
            problems=(),
        )
    return RulePass(
        name=match_pass.name,
        kind="rule",
        equal=match_pass.equal,
        amount=match_pass.amount if amount else None,
        date=match_pass.date,
        reference=match_pass.reference,
    )


def group_rows(
    many: pl.DataFrame,
    keys: Sequence[str],
    amount: str,
    *,
    shared: Sequence[str] = (),
    date: str | None = None,
) -> pl.DataFrame:
    """One row per complete group of ``keys``: ID (smallest member), MEMBERS (sorted), the keys,
    the exact sum of ``amount``, each ``shared`` field's one value and the latest ``date``."""
    complete = [pl.col(amount).null_count() == 0]
    values = [exact_sum(amount, many.schema[amount], minor_scale(many.get_column(amount)))]
    for field in shared:
        complete.append((pl.col(field).null_count() == 0) & (pl.col(field).n_unique() == 1))
        values.append(pl.col(field).first())
    if date is not None:
        dated = pl.col(date).null_count() == 0
        values.append(pl.when(dated).then(pl.col(date).max()).alias(date))
    keys = list(keys)
    return (
        many.lazy()
        .filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
        .group_by(keys)
        .agg(
            pl.col(ID).sort().alias(MEMBERS),
            *values,
            pl.all_horizontal(complete).alias("__complete"),
        )
        .filter(pl.col("__complete"))
        .select(
            pl.col(MEMBERS).list.first().alias(ID),
            MEMBERS,
            *keys,
            amount,
            *shared,
            *([date] if date is not None else []),
        )
        .sort(ID)
        .collect()
    )


def _carried(match_pass: GroupPass) -> dict[str, Any]:
    """What a group carries besides its keys and sum: shared equal/reference values, its date."""
    keys = match_pass.group_by
    shared = [f for f in dict.fromkeys(match_pass.equal) if f not in keys]
    reference = match_pass.reference
    if reference is not None and reference.field not in keys and reference.field not in shared:
        shared.append(reference.field)
    date = match_pass.date.field if match_pass.date is not None else None
    return {"shared": shared, "date": None if date in keys or date in shared else date}


def _expanded_matches(matched: pl.DataFrame, members: pl.DataFrame, many: Side) -> pl.DataFrame:
    """Matched (group, row) pairs as matches of the group's members with the row."""
    many_id, one_id = (LEFT_ID, RIGHT_ID) if many == "left" else (RIGHT_ID, LEFT_ID)
    joined = matched.join(
        members, left_on=many_id, right_on=MANY_ID, how="left", validate="1:1"
    ).with_columns(pl.concat_list(one_id).alias(ONE_ID))
    ids = {many: pl.col(MEMBERS), other_side(many): pl.col(ONE_ID)}
    return match_rows(joined, ids["left"], ids["right"], pl.col(SCORE))


def match_rows(frame: pl.DataFrame, left: pl.Expr, right: pl.Expr, score: pl.Expr) -> pl.DataFrame:
    """MATCH_SCHEMA rows of matched members (id lists sorted, so the match id is stable)."""
    return (
        frame.select(
            left.list.sort().alias("left_ids"),
            right.list.sort().alias("right_ids"),
            pl.lit(MATCHED).alias("status"),
            score.alias("score"),
            pl.lit([], pl.List(pl.String)).alias("mismatched_fields"),
        )
        .cast(MATCH_SCHEMA)
        .sort("left_ids", "right_ids")
    )


def _expanded_flags(flags: pl.DataFrame, members: pl.DataFrame, many: Side) -> pl.DataFrame:
    """Ambiguous groups as each of their members; groups as candidates as their members."""
    groups = flags.filter(pl.col("side") == many)
    rows = flags.filter(pl.col("side") != many)
    as_members = (
        groups.join(members, left_on="id", right_on=MANY_ID, how="left", validate="1:1")
        .with_columns(
            pl.format("its group of {} rows: {}", pl.col(MEMBERS).list.len(), "reason").alias(
                "reason"
            )
        )
        .explode(MEMBERS)
        .with_columns(pl.col(MEMBERS).alias("id"))
        .select(FLAG_SCHEMA.names())
    )
    member_lists = members.rename({MANY_ID: "__candidate"})
    with_members = (
        rows.with_row_index("__flag")
        .explode("candidates")
        .join(member_lists, left_on="candidates", right_on="__candidate", how="left")
        .group_by("__flag", "side", "id", "status", "reason")
        .agg(pl.col(MEMBERS).explode().unique().sort().alias("candidates"))
        .select(FLAG_SCHEMA.names())
    )
    return pl.concat([as_members, with_members]).cast(FLAG_SCHEMA).sort("side", "id")


__all__ = ["run_group"]
