"""Summarise a result: counts per status, rates, money at stake, risk, row conservation.

The figures are counts and sums, so they add up: ``figures`` aggregates one pass over a frame
(or a results file larger than memory), ``add_figures`` adds those of partitions reconciled in
turn, and ``summarize`` turns them into summary.json's content.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl

from recon.engine.at_stake import finite, whole_amount
from recon.errors import RowConservationError
from recon.result import BREAK_STATUSES, MATCHED, MISMATCHED, STATUSES
from recon.spec import ReconSpec

# money sums are rounded so that float noise (and the order partitions are summed in) never
# shows: 6 places keep units of 4 decimals and fractions of a cent exact
MONEY_DECIMALS = 6


def money(value: Any) -> float:
    return round(float(value or 0.0), MONEY_DECIMALS)


Figures = dict[str, Any]


def summarize(
    results: pl.LazyFrame | pl.DataFrame | Figures,
    spec: ReconSpec,
    *,
    input_rows: dict[str, int],
    inputs: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Build summary.json's content; raise RowConservationError if any input row is lost.

    :param results: the result rows, or their ``figures`` (added up over partitions).
    """
    figures = results if isinstance(results, dict) else figures_of(results, spec)
    conservation = check_conservation(
        {"left": figures["left_rows"], "right": figures["right_rows"]}, input_rows
    )
    counts = {status: int(figures[f"n_{status}"]) for status in STATUSES}
    at_stake = {status: money(figures[f"amount_{status}"]) for status in BREAK_STATUSES}
    records = int(figures["records"])
    breaks = records - counts[MATCHED]
    break_rate = breaks / records if records else 0.0
    return {
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
        **_money(figures, at_stake),
        "mismatched_by_field": {f: int(figures[f"field_{f}"]) for f in spec.compare},
        "break_amount_by_status": at_stake,
        "risk_level": risk_level(break_rate, spec),
        "threshold_passed": break_rate <= spec.thresholds.max_break_rate,
        "thresholds": spec.thresholds.model_dump(),
        "row_conservation": conservation,
        **_key_findings(figures),
    }


def _key_findings(figures: dict[str, Any]) -> dict[str, Any]:
    """A data-quality finding when keys hold control characters (summary.json, reports)."""
    count = int(figures.get("keys_with_control_characters") or 0)
    if not count:
        return {}
    return {
        "data_quality": {
            "keys_with_control_characters": count,
            "hint": "a NUL, tab or line break inside a key never matches the other side's key: "
            "strip them at the source",
        }
    }


CONTROL_CHARACTERS = r"[\x00-\x1f\x7f]"


def add_figures(parts: Iterable[Figures]) -> Figures:
    """The figures of several partitions' results as one (every figure is a count or a sum)."""
    total: Figures = {}
    for part in parts:
        for name, value in part.items():
            total[name] = value if name not in total else _add(total[name], value)
    return total


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, bool):  # has_amount: the same for every partition
        return a or b
    return (a or 0) + (b or 0)


def figures_of(results: pl.LazyFrame | pl.DataFrame, spec: ReconSpec) -> Figures:
    """Counts and sums over result rows, in one aggregation pass (streaming for a file)."""
    results = results.lazy()
    status = pl.col("status")
    exprs = [
        pl.len().alias("records"),
        pl.col("left_rows").sum().alias("left_rows"),
        pl.col("right_rows").sum().alias("right_rows"),
        *[(status == s).sum().alias(f"n_{s}") for s in STATUSES],
        *[
            pl.col("break_amount").filter(status == s).sum().alias(f"amount_{s}")
            for s in BREAK_STATUSES
        ],
        *[
            pl.col("mismatched_fields").list.contains(f).sum().alias(f"field_{f}")
            for f in spec.compare
        ],
    ]
    schema = results.collect_schema()
    text_keys = [k.name for k in spec.keys if schema.get(k.name) == pl.String]
    if text_keys:  # a NUL or a line break inside a key that found no partner: it never will
        unjoined = ~status.is_in([MATCHED, MISMATCHED])
        odd = pl.any_horizontal(pl.col(k).str.contains(CONTROL_CHARACTERS) for k in text_keys)
        # only the rows left unjoined are searched: a 1M-key run's regex costs 2% of it
        found = odd.filter(unjoined).fill_null(False).sum()
        exprs.append(found.alias("keys_with_control_characters"))
    name = spec.amount_field()
    has_amount = name is not None and f"left_{name}" in schema.names()
    if name is not None and has_amount:
        left = finite(f"left_{name}")
        right = finite(f"right_{name}")
        whole = whole_amount(name)
        exprs += [
            left.sum().alias("left_amount"),
            right.sum().alias("right_amount"),
            whole.sum().alias("volume"),
            whole.filter(status == MATCHED).sum().alias("matched_amount"),
        ]
    row = results.select(exprs).collect(engine="streaming").row(0, named=True)
    row["has_amount"] = has_amount
    return row


def row_conservation(
    results: pl.LazyFrame | pl.DataFrame, input_rows: dict[str, int]
) -> dict[str, Any]:
    sums = results.lazy().select(pl.col("left_rows").sum(), pl.col("right_rows").sum()).collect()
    return check_conservation(
        {"left": sums["left_rows"].item(), "right": sums["right_rows"].item()}, input_rows
    )


def check_conservation(accounted: dict[str, Any], input_rows: dict[str, int]) -> dict[str, Any]:
    """Every input row must be counted once in the results: anything else is a bug, said loudly."""
    check: dict[str, Any] = {"ok": True}
    for side in ("left", "right"):
        got = int(accounted[side] or 0)
        check[side] = {"input_rows": input_rows[side], "accounted": got}
        check["ok"] &= input_rows[side] == got
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


def _money(figures: dict[str, Any], at_stake: dict[str, float]) -> dict[str, Any]:
    discrepancy = money(sum(at_stake.values()))
    if not figures["has_amount"]:
        return {"totals": {}, "match_rate_by_amount": None, "discrepancy_amount": discrepancy}
    totals = {
        k: money(figures[k]) for k in ("left_amount", "right_amount", "volume", "matched_amount")
    }
    volume = totals["volume"]
    return {
        "totals": totals,
        "match_rate_by_amount": totals["matched_amount"] / volume if volume else 1.0,
        "discrepancy_amount": discrepancy,
        "discrepancy_rate": discrepancy / volume if volume else 0.0,
    }
