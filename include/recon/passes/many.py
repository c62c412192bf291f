"""The many-to-many pass: groups on both sides by the same fields, matched when their sums agree.

Daily totals per currency, a settlement batch against the ledger's entries of that batch: each
side's open rows form groups by ``group_by`` (rows with a null group value form none), each
group's amount is the exact sum of its members (``recon.passes.amounts``; a member without an
amount leaves its group unformed). Two groups with the same group values whose sums agree
within the amount rule's tolerance are one match holding every member of both; groups that do
not balance, or have no counterpart, stay open for later passes.

The same group values name at most one group per side, so each group has at most one partner
and nothing is ever ambiguous. The pairs come from ``candidate_pairs`` (equality on the group
values, the amount rule and its score), as a rule pass's would.
"""

from __future__ import annotations

import polars as pl

from recon.passes.group import MEMBERS, group_rows, match_rows
from recon.passes.outcome import FLAG_SCHEMA, ID, OpenRows, PassOutcome
from recon.passes.rules import LEFT_ID, RIGHT_ID, SCORE, candidate_pairs
from recon.spec.passes import ManyToManyPass, RulePass


def run_many_to_many(rows: OpenRows, match_pass: ManyToManyPass) -> PassOutcome:
    """Match groups of left rows to groups of right rows with the same group values and sum."""
    keys, amount = match_pass.group_by, match_pass.amount.field
    left = group_rows(rows.left, keys, amount)
    right = group_rows(rows.right, keys, amount)
    rule = RulePass(name=match_pass.name, kind="rule", equal=keys, amount=match_pass.amount)
    pairs = candidate_pairs(left.drop(MEMBERS), right.drop(MEMBERS), rule, rows.spec)
    members = {
        side: groups.select(pl.col(ID).alias(f"__{side}"), pl.col(MEMBERS).alias(f"__{side}_ids"))
        for side, groups in (("left", left), ("right", right))
    }
    matched = pairs.join(members["left"], left_on=LEFT_ID, right_on="__left", validate="1:1").join(
        members["right"], left_on=RIGHT_ID, right_on="__right", validate="1:1"
    )
    return PassOutcome(
        match_rows(matched, pl.col("__left_ids"), pl.col("__right_ids"), pl.col(SCORE)),
        pl.DataFrame(schema=FLAG_SCHEMA),
    )


__all__ = ["run_many_to_many"]
