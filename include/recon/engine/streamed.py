"""The usual case as one streaming query: both inputs read, joined, classified and written to
``results.parquet`` without either side or the result ever held whole in memory.

It applies when a first pass over the key hashes and row checks (``screen``) finds nothing that
matching would have to sort out in memory: no rejected row, no key hash twice on one side, no
aggregation, no CSV side whose every field must be parsed (one query has one set of
optimisations, and that side's would read every column of the other). Anything else, the rare
pair of distinct keys sharing a hash, and any error (which the in-memory way then reports
against the right input) goes the in-memory way (``matching.match``), which gives the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from recon.engine.matching import COLLISION, streamed_join
from recon.engine.prepare import BAD, HASH, Plan, SideQuery, matchable
from recon.engine.writer import WRITE_OPTIONS


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
    if not (left.optimizations.projection_pushdown and right.optimizations.projection_pushdown):
        return None  # a CSV side parsed whole: read it once, in memory
    counts = []
    for query in (left, right):
        try:
            checked = query.frame.select(HASH, BAD).collect(engine="streaming")
        except pl.exceptions.PolarsError:
            return None  # the in-memory way reads it again and says what is wrong
        if checked[BAD].any() or checked[HASH].n_unique() != checked.height:
            return None
        counts.append(checked.height)
    return Screened(*counts)


def stream_results(left: SideQuery, right: SideQuery, plan: Plan, path: Path) -> bool:
    """Write every result row of two screened sides to ``path``; False (and nothing to keep in
    ``path``) when two distinct keys shared a hash and the in-memory way must decide."""
    query = streamed_join(
        matchable(left.frame, left, plan), matchable(right.frame, right, plan), plan
    )
    try:
        query.sink_parquet(path, **WRITE_OPTIONS)
    except pl.exceptions.PolarsError:
        return False
    collided = pl.scan_parquet(path).select((pl.col("status") == COLLISION).any()).collect()
    return not collided.item()
