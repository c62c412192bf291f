"""The rule pass: one row to one row with no shared key (blocking, scoring, selection)."""

from __future__ import annotations

import polars as pl

from recon.passes.outcome import MATCH_SCHEMA, MATCHED, OpenRows, PassOutcome
from recon.passes.rules import LEFT_ID, RIGHT_ID, SCORE, candidate_pairs
from recon.passes.select import select_pairs
from recon.spec.passes import RulePass


def run_rule(rows: OpenRows, rule: RulePass) -> PassOutcome:
    """Candidate pairs of the rule, matched by mutual unique best; ties flagged ambiguous."""
    pairs = candidate_pairs(rows.left, rows.right, rule, rows.spec)
    matched, ambiguous = select_pairs(pairs)
    matches = matched.select(
        pl.concat_list(LEFT_ID).alias("left_ids"),
        pl.concat_list(RIGHT_ID).alias("right_ids"),
        pl.lit(MATCHED).alias("status"),
        SCORE,
        pl.lit([], pl.List(pl.String)).alias("mismatched_fields"),
    ).cast(MATCH_SCHEMA)
    return PassOutcome(matches, ambiguous)


__all__ = ["run_rule"]
