"""The reports of a passes run: every input row under its pass outcome, through the same
writers as a keyed run (``recon.reports``: escaping, neutralised cells, streamed sheets).

A row's *outcome* is what a person acts on: ``<pass>: suggested`` (to confirm),
``ambiguous`` (candidates listed), ``not searched`` (a limit was hit, with why),
``<pass>: mismatched``, each side's unmatched rows, duplicates, invalid rows, and last
``<pass>: confirmed``. The outcome is the reports' classification, so the XLSX has a sheet
per pass outcome and the HTML charts and lists by it. The rows of one match (a group and its
members) share a ``match_id`` and sit together, largest difference first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import polars as pl

from recon.passes.outcome import AMBIGUOUS, DUPLICATE, INVALID, MATCHED, MISMATCHED, NOT_SEARCHED
from recon.passes.run import VALUE
from recon.reports import REPORT_FORMATS, write_reports

OUTCOME: Final = "outcome"
LEFT_ONLY: Final = "left_only"
RIGHT_ONLY: Final = "right_only"
_SIDES: Final = ("left", "right")


def outcome_order(summary: Mapping[str, Any]) -> list[str]:
    """The outcomes a run can have, in the order people work them: what needs a person first
    (suggested matches, ambiguous rows), confirmed matches last."""
    passes = [p for p in summary.get("passes") or () if isinstance(p, Mapping)]
    suggesting = [str(p["name"]) for p in passes if not p.get("confirm")]
    confirming = [str(p["name"]) for p in passes if p.get("confirm")]
    keyed = [str(p["name"]) for p in passes if p.get("kind") == "keyed"]
    return [
        *(f"{name}: suggested" for name in suggesting),
        AMBIGUOUS,
        NOT_SEARCHED,
        *(f"{name}: {MISMATCHED}" for name in keyed),
        LEFT_ONLY,
        RIGHT_ONLY,
        DUPLICATE,
        INVALID,
        *(f"{name}: confirmed" for name in confirming),
    ]


def outcome_labels(summary: Mapping[str, Any]) -> dict[str, str]:
    """Words for outcomes (also the XLSX sheet names, where `:` may not appear)."""
    labels = summary.get("labels") or {}
    left, right = str(labels.get("left") or "left"), str(labels.get("right") or "right")
    names = [str(p["name"]) for p in summary.get("passes") or ()]
    by_pass = {
        f"{name}: {state}": f"{name} {state}"
        for name in names
        for state in ("suggested", "confirmed", MISMATCHED)
    }
    return {
        **by_pass,
        LEFT_ONLY: f"{left} only",
        RIGHT_ONLY: f"{right} only",
        NOT_SEARCHED: "not searched",
    }


def report_frame(
    rows: pl.DataFrame | pl.LazyFrame,
    matches: pl.DataFrame | pl.LazyFrame,
    summary: Mapping[str, Any],
) -> pl.LazyFrame:
    """One row per input row in the reports' shape: ``match_id``, ``id`` (keys), ``outcome``,
    ``status``, each field's value under ``left_<field>`` or ``right_<field>`` by its side,
    the match's difference, ``break_amount`` and the pass details."""
    frame = rows.lazy()
    schema = frame.collect_schema()
    fields = [name for name in (summary.get("fields") or {}) if f"{VALUE}{name}" in schema]
    amount = summary.get("amount_field")
    per_match = matches.lazy().select(
        "match_id",
        pl.col("difference").cast(pl.Float64).alias("__difference"),
        pl.format(
            "{} + {}",
            pl.col("left_count"),
            pl.col("right_count"),
        ).alias("members"),
    )
    outcome = (
        pl.when(pl.col("status") == MATCHED)
        .then(pl.format("{}: {}", pl.col("pass"), pl.col("state")))
        .when(pl.col("status") == MISMATCHED)
        .then(pl.format("{}: {}", pl.col("pass"), pl.lit(MISMATCHED)))
        .otherwise(pl.col("status"))
    )
    values = [
        pl.when(pl.col("side") == side).then(pl.col(f"{VALUE}{field}")).alias(f"{side}_{field}")
        for field in fields
        for side in _SIDES
    ]
    own_amount = (
        pl.col(f"{VALUE}{amount}").cast(pl.Float64).abs()
        if isinstance(amount, str) and amount in fields
        else pl.lit(None, pl.Float64)
    )
    in_match = pl.col("match_id").is_not_null()
    extra = [c for c in ("reason",) if c in schema]
    return (
        frame.join(per_match, on="match_id", how="left", validate="m:1")
        .with_columns(outcome.alias(OUTCOME), *values)
        .select(
            "match_id",
            "id",
            OUTCOME,
            "status",
            "side",
            "row",
            *[c for c in values_names(fields)],
            *(
                [pl.col("__difference").alias(f"diff_{amount}")]
                if isinstance(amount, str) and amount in fields
                else []
            ),
            pl.when(in_match)
            .then(pl.col("__difference").abs())
            .otherwise(own_amount)
            .fill_nan(None)
            .alias("break_amount"),
            "pass",
            "state",
            "score",
            "members",
            pl.col("candidates").list.join(", ").alias("candidates"),
            *extra,
        )
    )


def values_names(fields: Iterable[str]) -> list[str]:
    return [f"{side}_{field}" for field in fields for side in _SIDES]


def report_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The passes summary with what the report writers read: keys, fields, headline rates,
    and the outcome classification."""
    totals = summary.get("totals") or {}
    amounts = totals.get("amount") or {}
    total_amount = sum(abs(float(amounts.get(f"{s}_amount") or 0)) for s in _SIDES)
    matched_amount = sum(abs(float(amounts.get(f"{s}_matched_amount") or 0)) for s in _SIDES)
    records = sum(int(v) for v in (totals.get("input_rows") or {}).values())
    order = outcome_order(summary)
    return {
        **summary,
        "keys": ["match_id", "id"],
        "compare_fields": list(summary.get("fields") or {}),
        "records": records,
        "match_rate": totals.get("match_rate"),
        "auto_match_rate": totals.get("auto_match_rate"),
        "match_rate_by_amount": matched_amount / total_amount if total_amount else None,
        "counts": None,  # per side in a passes summary (kept as counts_by_side): reports count outcomes
        "counts_by_side": summary.get("counts"),
        "classification": {
            "column": OUTCOME,
            "every_row": True,
            "order": order,
            "labels": outcome_labels(summary),
        },
    }


def write_pass_reports(
    rows: pl.DataFrame | pl.LazyFrame,
    matches: pl.DataFrame | pl.LazyFrame,
    summary: Mapping[str, Any],
    out_dir: Path,
    formats: Iterable[str] = REPORT_FORMATS,
) -> dict[str, Path]:
    """HTML, CSV, XLSX (a sheet per pass outcome) and JSON of a passes run into ``out_dir``."""
    shown = report_summary(summary)
    return write_reports(report_frame(rows, matches, shown), shown, out_dir, formats)


__all__ = ["OUTCOME", "report_frame", "report_summary", "write_pass_reports"]
