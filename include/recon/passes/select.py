"""Pick one-to-one matches among scored candidate pairs: mutual unique best, in rounds.

A pair is matched when each row is the other's unique best-scoring candidate. Matched rows
leave with every pair they were in, and the rounds repeat on what is left, so a row whose
best partner went to a better pair can still match its next best. When no pair is mutual any
more, every row with a candidate left is ``ambiguous``: its best score is shared by two or
more candidates, or its best candidate is itself held by such a tie. A tie is never broken
by picking one, and nothing depends on row order: each round decides on sets of pairs.
"""

from __future__ import annotations

import polars as pl

from recon.passes.outcome import AMBIGUOUS, FLAG_SCHEMA
from recon.passes.rules import LEFT_ID, PAIR_SCHEMA, RIGHT_ID, SCORE

_BEST = "__best"
_TIES = "__ties"


def select_pairs(pairs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(matched pairs [left_id, right_id, score], ambiguous rows as FLAG_SCHEMA).

    :param pairs: candidate pairs [left_id, right_id, score], each pair at most once.
    """
    rest = pairs.select(LEFT_ID, RIGHT_ID, SCORE).cast(PAIR_SCHEMA)
    matched = [rest.clear()]
    while rest.height:
        ranked = rest.with_columns(_best_of(LEFT_ID, "l"), _best_of(RIGHT_ID, "r")).with_columns(
            _ties_of(LEFT_ID, "l"), _ties_of(RIGHT_ID, "r")
        )
        mutual = ranked.filter(_unique_best("l") & _unique_best("r")).select(rest.columns)
        if mutual.is_empty():
            break
        matched.append(mutual)
        rest = rest.join(mutual.select(LEFT_ID), on=LEFT_ID, how="anti").join(
            mutual.select(RIGHT_ID), on=RIGHT_ID, how="anti"
        )
    return pl.concat(matched).sort(LEFT_ID), ambiguous_rows(rest)


def _best_of(row: str, tag: str) -> pl.Expr:
    return pl.col(SCORE).max().over(row).alias(f"{_BEST}{tag}")


def _ties_of(row: str, tag: str) -> pl.Expr:
    return (pl.col(SCORE) == pl.col(f"{_BEST}{tag}")).sum().over(row).alias(f"{_TIES}{tag}")


def _unique_best(tag: str) -> pl.Expr:
    return (pl.col(SCORE) == pl.col(f"{_BEST}{tag}")) & (pl.col(f"{_TIES}{tag}") == 1)


def ambiguous_rows(rest: pl.DataFrame) -> pl.DataFrame:
    """Every row of the pairs left (no mutual pair among them), with its best candidates."""
    sides = [
        _ambiguous_side(rest, "left", LEFT_ID, RIGHT_ID),
        _ambiguous_side(rest, "right", RIGHT_ID, LEFT_ID),
    ]
    return pl.concat(sides).sort("side", "id")


def _ambiguous_side(rest: pl.DataFrame, side: str, row: str, other: str) -> pl.DataFrame:
    best = rest.filter(pl.col(SCORE) == pl.col(SCORE).max().over(row))
    grouped = best.group_by(row).agg(
        pl.col(other).sort().alias("candidates"), pl.col(SCORE).first().alias("__score")
    )
    count = pl.col("candidates").list.len()
    score = pl.col("__score").round(3).cast(pl.String)
    reason = (
        pl.when(count > 1)
        .then(pl.format("{} candidates share the best score {}", count, score))
        .otherwise(
            pl.format("its best candidate (score {}) is equally good for more than one row", score)
        )
    )
    frame = grouped.select(
        pl.lit(side).alias("side"),
        pl.col(row).alias("id"),
        pl.lit(AMBIGUOUS).alias("status"),
        "candidates",
        reason.alias("reason"),
    )
    return frame.cast(FLAG_SCHEMA)


__all__ = ["ambiguous_rows", "select_pairs"]
