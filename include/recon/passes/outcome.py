"""What a match pass receives and returns: the contract every pass kind implements.

A pass gets the rows still open on each side (``OpenRows``) and returns ``PassOutcome``:
the matches it made (each joins one or more rows of each side) and the rows it refused to
match (``ambiguous``: several equally good candidates; ``not_searched``: a search limit was
hit; ``duplicate``: a keyed pass found the key twice on one side). ``run_passes`` then names
the matches, marks them confirmed or suggested, and hands what is left to the next pass.

Results never depend on input row order: a pass decides on sets of rows (ties are refused,
never broken by position), and match ids are hashes of the pass name and the sorted row ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from recon.spec.passes import PassSpec

ID = "__id"  # a row's id (from ``ids``), as text
ROW = "__row"  # its 1-based data row number in its input file

MATCHED = "matched"
MISMATCHED = "mismatched"  # keyed pass: paired by key, a compared field differs
AMBIGUOUS = "ambiguous"
NOT_SEARCHED = "not_searched"
DUPLICATE = "duplicate"
INVALID = "invalid"
FLAG_STATUSES = (AMBIGUOUS, NOT_SEARCHED, DUPLICATE)

# one row per match a pass made
MATCH_SCHEMA = pl.Schema(
    {
        "left_ids": pl.List(pl.String),
        "right_ids": pl.List(pl.String),
        "status": pl.String(),  # MATCHED or MISMATCHED
        "score": pl.Float64(),  # 0..1, 1 = every rule agreed exactly
        "mismatched_fields": pl.List(pl.String),
    }
)
# one row per open row a pass refused to match
FLAG_SCHEMA = pl.Schema(
    {
        "side": pl.String(),  # "left" | "right"
        "id": pl.String(),
        "status": pl.String(),  # one of FLAG_STATUSES
        "candidates": pl.List(pl.String),  # the other side's ids it could have joined
        "reason": pl.String(),
    }
)


@dataclass(frozen=True)
class OpenRows:
    """The rows no earlier pass matched: ID, ROW and the side's fields, parsed and normalised."""

    left: pl.DataFrame
    right: pl.DataFrame
    spec: PassSpec


@dataclass(frozen=True)
class PassOutcome:
    matches: pl.DataFrame  # MATCH_SCHEMA
    flagged: pl.DataFrame  # FLAG_SCHEMA

    @classmethod
    def empty(cls) -> PassOutcome:
        return cls(pl.DataFrame(schema=MATCH_SCHEMA), pl.DataFrame(schema=FLAG_SCHEMA))


# one function per pass kind, registered by kind in ``recon.passes.run.RUNNERS``
PassRunner = Callable[[OpenRows, Any], PassOutcome]
