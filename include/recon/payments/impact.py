"""The payments summary: volume, money at stake per currency and in the reporting currency, risk, compliance."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from recon.engine.at_stake import finite, whole_amount
from recon.engine.reconcile import write_summary
from recon.engine.summary import money, risk_level
from recon.payments.model import AMOUNT, BREAK_TYPES, LABELS, NOT_AT_STAKE
from recon.result import (
    BREAK_STATUSES,
    MATCHED,
)
from recon.spec import ReconSpec

# -- summary ------------------------------------------------------------------------------------


def payments_summary(
    results: pl.DataFrame, core: Mapping[str, Any], spec: ReconSpec
) -> dict[str, Any]:
    """``classification`` and ``financial_impact``; risk and threshold verdicts from them."""
    per_type = results.group_by("break_type").agg(
        pl.len().alias("rows"), pl.col("break_amount").sum().alias("amount")
    )
    rows = dict(zip(per_type["break_type"], per_type["rows"], strict=True))
    amounts = dict(zip(per_type["break_type"], per_type["amount"], strict=True))
    classification = {
        "column": "break_type",
        "matched": MATCHED,
        "order": list(BREAK_TYPES),
        "labels": dict(LABELS),
        "counts": {t: int(rows.get(t, 0)) for t in (MATCHED, *BREAK_TYPES)},
        "amounts": {t: money(amounts.get(t)) for t in BREAK_TYPES},
        "breaks": int(results.height - rows.get(MATCHED, 0)),
    }
    impact = financial_impact(results, float(core["break_rate"]), spec)
    return {
        "classification": classification,
        "financial_impact": impact,
        **reporting_money(results, spec, impact),
        "risk_level": impact["risk_level"],
        "threshold_passed": impact["compliance_status"] == "COMPLIANT",
        "thresholds": spec.thresholds.model_dump(),
    }


def reporting_money(
    results: pl.DataFrame, spec: ReconSpec, impact: Mapping[str, Any]
) -> dict[str, Any]:
    """The core summary's money figures again, in the reporting currency: the core adds amounts
    of every currency together, which means nothing once there are two."""
    rate = pl.col("currency").replace_strict(
        spec.impact.fx_rates, default=None, return_dtype=pl.Float64
    )
    left = finite(f"left_{AMOUNT}") * rate
    right = finite(f"right_{AMOUNT}") * rate
    whole = pl.max_horizontal(left.abs(), right.abs())
    matched = pl.col("status") == MATCHED
    figures = results.select(
        left.sum().alias("left_amount"),
        right.sum().alias("right_amount"),
        whole.sum().alias("volume"),
        whole.filter(matched).sum().alias("matched_amount"),
        *[
            pl.col("impact_amount").filter(pl.col("status") == s).sum().alias(s)
            for s in BREAK_STATUSES
        ],
    ).row(0, named=True)
    totals = {k: money(figures[k]) for k in ("left_amount", "right_amount", "volume")}
    totals["matched_amount"] = money(figures["matched_amount"])
    return {
        "totals": totals,
        "match_rate_by_amount": (
            totals["matched_amount"] / totals["volume"] if totals["volume"] else 1.0
        ),
        "discrepancy_amount": impact["discrepancy_amount"],
        "discrepancy_rate": impact["discrepancy_rate"],
        "break_amount_by_status": {s: money(figures[s]) for s in BREAK_STATUSES},
        "money_currency": spec.impact.reporting_currency,
    }


def combined_summary(results: Path, summary: Mapping[str, Any], spec: ReconSpec) -> dict[str, Any]:
    """A combined (several processors') summary with its classification and impact, rewritten
    in ``results``' folder."""
    combined = {**summary, **payments_summary(pl.read_parquet(results), summary, spec)}
    write_summary(results.parent, combined)
    return combined


def financial_impact(results: pl.DataFrame, break_rate: float, spec: ReconSpec) -> dict[str, Any]:
    """Volume and discrepancy per currency and in the reporting currency; risk and compliance."""
    amount = whole_amount(AMOUNT)
    at_stake = pl.col("break_amount").filter(~pl.col("break_type").is_in(NOT_AT_STAKE))
    valid = results.filter(pl.col("currency").is_not_null())
    per_currency = (
        valid.group_by("currency")
        .agg(
            pl.len().alias("transactions"),
            amount.sum().alias("volume"),
            at_stake.sum().alias("discrepancy_amount"),
        )
        .sort("currency")
    )
    rates = spec.impact.fx_rates
    by_currency: dict[str, dict[str, Any]] = {}
    volume = discrepancy = 0.0
    unconverted = []
    for row in per_currency.iter_rows(named=True):
        code, vol, disc = row["currency"], float(row["volume"]), float(row["discrepancy_amount"])
        by_currency[code] = {
            "transactions": int(row["transactions"]),
            "volume": money(vol),
            "discrepancy_amount": money(disc),
            "discrepancy_rate": disc / vol if vol else 0.0,
        }
        if code in rates:
            volume += vol * rates[code]
            discrepancy += disc * rates[code]
        else:
            unconverted.append(code)
    rate = discrepancy / volume if volume else 0.0
    limits = spec.thresholds
    failures = []
    if break_rate > limits.max_break_rate:
        failures.append(_over("break rate", break_rate, limits.max_break_rate))
    if limits.max_discrepancy_rate is not None and rate > limits.max_discrepancy_rate:
        failures.append(_over("discrepancy rate", rate, limits.max_discrepancy_rate))
    return {
        "reporting_currency": spec.impact.reporting_currency,
        "volume": money(volume),
        "discrepancy_amount": money(discrepancy),
        "discrepancy_rate": rate,
        "break_rate": break_rate,
        "risk_level": risk_level(max(break_rate, rate), spec),
        "compliance_status": "NON_COMPLIANT" if failures else "COMPLIANT",
        "compliance_failures": failures,
        "by_currency": by_currency,
        "unconverted": unconverted,
    }


def _over(what: str, rate: float, limit: float) -> str:
    """``break rate 1.20% is over the 1.00% limit``, with the digits that tell them apart."""
    digits = 2
    while digits < 6 and f"{rate:.{digits}%}" == f"{limit:.{digits}%}":
        digits += 1
    return f"{what} {rate:.{digits}%} is over the {limit:.{digits}%} limit"
