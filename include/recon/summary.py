"""Summarise a result: counts per status, rates, money at stake, risk, row conservation."""

from __future__ import annotations

from typing import Any

import polars as pl

from recon.errors import RowConservationError
from recon.result import BREAK_STATUSES, MATCHED, STATUSES
from recon.spec import ReconSpec

RISK_LEVELS = ("LOW", "MEDIUM", "HIGH")


def summarize(
    results: pl.DataFrame,
    spec: ReconSpec,
    *,
    input_rows: dict[str, int],
    inputs: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Build summary.json's content; raise RowConservationError if any input row is lost."""
    conservation = row_conservation(results, input_rows)
    by_status = results.group_by("status").agg(
        pl.len().alias("n"), pl.col("break_amount").sum().alias("amount")
    )
    counts = dict.fromkeys(STATUSES, 0)
    at_stake = dict.fromkeys(BREAK_STATUSES, 0.0)
    for status, n, amount in by_status.iter_rows():
        counts[status] = n
        if status != MATCHED:
            at_stake[status] = float(amount or 0.0)
    records = results.height
    breaks = records - counts[MATCHED]
    break_rate = breaks / records if records else 0.0
    summary: dict[str, Any] = {
        "recon": spec.name,
        "labels": {"left": spec.label("left"), "right": spec.label("right")},
        "keys": [k.name for k in spec.keys],
        "compare_fields": list(spec.compare),
        "amount_field": spec.amount_field(),
        "inputs": {
            side: {**(inputs or {}).get(side, {}), "rows": input_rows[side]}
            for side in ("left", "right")
        },
        "counts": counts,
        "total_keys": records - counts["invalid"],
        "records": records,
        "breaks": breaks,
        "break_rate": break_rate,
        "match_rate": counts[MATCHED] / records if records else 1.0,
        **_money(results, spec, at_stake),
        "mismatched_by_field": _mismatched_by_field(results, list(spec.compare)),
        "break_amount_by_status": at_stake,
        "risk_level": risk_level(break_rate, spec),
        "threshold_passed": break_rate <= spec.thresholds.max_break_rate,
        "thresholds": spec.thresholds.model_dump(),
        "row_conservation": conservation,
    }
    return summary


def row_conservation(results: pl.DataFrame, input_rows: dict[str, int]) -> dict[str, Any]:
    accounted = results.select(pl.col("left_rows").sum(), pl.col("right_rows").sum()).row(0)
    check: dict[str, Any] = {"ok": True}
    for side, got in zip(("left", "right"), accounted, strict=True):
        check[side] = {"input_rows": input_rows[side], "accounted": int(got or 0)}
        check["ok"] &= input_rows[side] == int(got or 0)
    if not check["ok"]:
        raise RowConservationError(
            "row conservation failed: "
            + ", ".join(
                f"{side}: {check[side]['input_rows']} input rows, {check[side]['accounted']} "
                "accounted for"
                for side in ("left", "right")
            )
            + " (this is a bug in recon: please report it with the inputs)"
        )
    return check


def risk_level(break_rate: float, spec: ReconSpec) -> str:
    risk = spec.thresholds.risk
    if break_rate >= risk.high:
        return "HIGH"
    if break_rate >= risk.medium:
        return "MEDIUM"
    return "LOW"


def _money(results: pl.DataFrame, spec: ReconSpec, at_stake: dict[str, float]) -> dict[str, Any]:
    name = spec.amount_field()
    discrepancy = float(sum(at_stake.values()))
    if name is None or f"left_{name}" not in results.columns:
        return {"totals": {}, "match_rate_by_amount": None, "discrepancy_amount": discrepancy}
    left = pl.col(f"left_{name}").cast(pl.Float64)
    right = pl.col(f"right_{name}").cast(pl.Float64)
    whole = pl.max_horizontal(left.abs(), right.abs()).fill_null(0.0)
    row = results.select(
        left.sum().alias("left_amount"),
        right.sum().alias("right_amount"),
        whole.sum().alias("volume"),
        whole.filter(pl.col("status") == MATCHED).sum().alias("matched_amount"),
    ).row(0, named=True)
    totals = {k: float(v or 0.0) for k, v in row.items()}
    volume = totals["volume"]
    return {
        "totals": totals,
        "match_rate_by_amount": totals["matched_amount"] / volume if volume else 1.0,
        "discrepancy_amount": discrepancy,
        "discrepancy_rate": discrepancy / volume if volume else 0.0,
    }


def _mismatched_by_field(results: pl.DataFrame, fields: list[str]) -> dict[str, int]:
    exploded = results.select(pl.col("mismatched_fields").explode().drop_nulls().value_counts())
    counts = dict.fromkeys(fields, 0)
    for item in exploded.to_series().to_list():
        counts[item["mismatched_fields"]] = item["count"]
    return counts
