"""The usual case as one streaming query: both inputs read, joined, classified and written to
``results.parquet`` without either side or the result ever held whole in memory.

A first pass reads only the keys (``screen``): a key hash twice on one side or an aggregation
sends the run the in-memory way (``matching.match``), which gives the same rows. So does what only the streamed pass can see,
found in its figures: a rejected row (it counts 0 input rows there, so the row counts fall
short), two distinct keys sharing a hash across sides (status COLLISION), or any error (which
the in-memory way then reports against the right input).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from recon.engine.matching import streamed_join
from recon.engine.prepare import BAD, HASH, Plan, SideQuery, matchable
from recon.engine.summary import Figures, figures_of
from recon.engine.writer import WRITE_OPTIONS
from recon.result import STATUSES


@dataclass(frozen=True)
class Screened:
    """Both sides passed the screen: their input row counts."""

    left_rows: int
    right_rows: int


def screen(left: SideQuery, right: SideQuery, plan: Plan) -> Screened | None:
    """Input row counts if both sides can be streamed, else None (read them in memory)."""
    spec = plan.spec
    if spec.aggregate.left is not None or spec.aggregate.right is not None:
        return None
    try:  # both sides at once; one column is small enough for the in-memory engine
        frames = pl.collect_all([query.frame.select(HASH) for query in (left, right)])
    except pl.exceptions.PolarsError:
        return None  # the in-memory way reads them again and says what is wrong
    hashes = [frame.to_series() for frame in frames]
    if any(column.n_unique() != column.len() for column in hashes):
        return None
    return Screened(hashes[0].len(), hashes[1].len())


def stream_results(
    left: SideQuery, right: SideQuery, plan: Plan, screened: Screened, path: Path
) -> Figures | None:
    """Write every result row of two screened sides to ``path`` and return their figures; None
    (and nothing to keep in ``path``) when the in-memory way must decide."""
    # a rejected row stands for 0 input rows: the row counts fall short of the screen's
    counted = (~pl.col(BAD)).cast(pl.UInt32)
    query = streamed_join(
        matchable(left.frame, left, plan, count=counted),
        matchable(right.frame, right, plan, count=counted),
        plan,
    )
    try:
        query.sink_parquet(path, **WRITE_OPTIONS)
    except pl.exceptions.PolarsError:
        return None
    figures = figures_of(pl.scan_parquet(path), plan.spec)
    collided = figures["records"] != sum(figures[f"n_{status}"] for status in STATUSES)
    rows = (figures["left_rows"], figures["right_rows"])
    if collided or rows != (screened.left_rows, screened.right_rows):
        return None
    return figures
