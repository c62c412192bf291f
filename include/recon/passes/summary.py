"""summary.json of a passes run: counts per status and side, figures per pass, totals.

The figure finance teams track per pass is its auto-match rate: the rows the pass matched
and confirmed on its own, over the rows it was given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from recon.engine.summary import check_conservation, money
from recon.passes.outcome import AMBIGUOUS, DUPLICATE, MATCHED, MISMATCHED, NOT_SEARCHED
from recon.passes.prepare import SIDES, PreparedSides
from recon.spec.passes import PassSpec


def pass_summary(
    spec: PassSpec,
    prepared: PreparedSides,
    rows: pl.DataFrame,
    matches: pl.DataFrame,
    flags: pl.DataFrame,
    rows_in: Sequence[Mapping[str, int]],
    statuses: Sequence[str],
    inputs: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, Any]:
    """The summary's content; raises RowConservationError if a row is lost or counted twice."""
    counts = {
        side: {
            status: rows.filter((pl.col("side") == side) & (pl.col("status") == status)).height
            for status in statuses
        }
        for side in SIDES
    }
    accounted: dict[str, Any] = {side: sum(counts[side].values()) for side in SIDES}
    conservation = check_conservation(accounted, prepared.input_rows)
    total_in = sum(prepared.input_rows.values())
    matched_rows = {side: counts[side][MATCHED] for side in SIDES}
    confirmed_rows = _rows_of(matches.filter(_matched_as("confirmed")))
    return {
        "recon": spec.name,
        "kind": "passes",
        "labels": {"left": spec.label("left"), "right": spec.label("right")},
        "ids": spec.ids.model_dump(),
        "fields": {name: kind for name, kind in prepared.kinds.items()},
        "amount_field": spec.amount_field(),
        "inputs": {
            side: {**(inputs or {}).get(side, {}), "rows": prepared.input_rows[side]}
            for side in SIDES
        },
        "statuses": list(statuses),
        "counts": counts,
        "passes": [_one_pass(spec, i, rows_in[i], matches, flags) for i in range(len(spec.passes))],
        "totals": {
            "input_rows": dict(prepared.input_rows),
            "matches": matches.height,
            "confirmed": matches.filter(pl.col("state") == "confirmed").height,
            "suggested": matches.filter(pl.col("state") == "suggested").height,
            "rows_matched": matched_rows,
            "rows_confirmed": confirmed_rows,
            "match_rate": sum(matched_rows.values()) / total_in if total_in else 1.0,
            "auto_match_rate": sum(confirmed_rows.values()) / total_in if total_in else 1.0,
            **_amounts(spec, rows),
        },
        "row_conservation": conservation,
    }


def _matched_as(state: str) -> pl.Expr:
    return (pl.col("status") == MATCHED) & (pl.col("state") == state)


def _rows_of(matches: pl.DataFrame) -> dict[str, int]:
    return {side: int(matches[f"{side}_count"].sum() or 0) for side in SIDES}


def _one_pass(
    spec: PassSpec,
    index: int,
    rows_in: Mapping[str, int],
    matches: pl.DataFrame,
    flags: pl.DataFrame,
) -> dict[str, Any]:
    match_pass = spec.passes[index]
    mine = matches.filter(pl.col("pass") == match_pass.name)
    flagged = flags.filter(pl.col("pass") == match_pass.name)
    matched = mine.filter(pl.col("status") == MATCHED)
    confirmed = _rows_of(matched.filter(pl.col("state") == "confirmed"))
    given = sum(rows_in.values())

    def flagged_rows(status: str) -> dict[str, int]:
        return {
            side: flagged.filter((pl.col("side") == side) & (pl.col("status") == status)).height
            for side in SIDES
        }

    return {
        "name": match_pass.name,
        "kind": match_pass.kind,
        "confirm": match_pass.confirm,
        "rows_in": dict(rows_in),
        "matches": matched.height,
        "mismatched": mine.filter(pl.col("status") == MISMATCHED).height,
        "rows_matched": _rows_of(matched),
        "confirmed": matched.filter(pl.col("state") == "confirmed").height,
        "suggested": matched.filter(pl.col("state") == "suggested").height,
        "ambiguous": flagged_rows(AMBIGUOUS),
        "not_searched": flagged_rows(NOT_SEARCHED),
        "duplicate": flagged_rows(DUPLICATE),
        "auto_match_rate": sum(confirmed.values()) / given if given else None,
    }


def _amounts(spec: PassSpec, rows: pl.DataFrame) -> dict[str, Any]:
    """Money per side: all of it, and what was matched (finite amounts only)."""
    field = spec.amount_field()
    if field is None or f"value_{field}" not in rows.columns:
        return {}
    value = pl.col(f"value_{field}").cast(pl.Float64)
    finite = pl.when(value.is_finite()).then(value)
    figures = {}
    for side in SIDES:
        mine = rows.filter(pl.col("side") == side)
        figures[f"{side}_amount"] = money(mine.select(finite.sum()).item())
        matched = mine.filter(pl.col("status") == MATCHED)
        figures[f"{side}_matched_amount"] = money(matched.select(finite.sum()).item())
    return {"amount": figures}


__all__ = ["pass_summary"]
