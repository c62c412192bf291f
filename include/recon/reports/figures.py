"""The summary as labelled figures, the financial impact included, for the XLSX Summary sheet
and the HTML page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recon.reports.labels import Grouping, Sides
from recon.reports.view import (
    amount_text,
    count_text,
    flag_text,
    listed_names,
    percent_text,
    plain_text,
    value_text,
)
from recon.result import STATUSES


@dataclass(frozen=True)
class Figure:
    """One labelled summary figure; ``kind`` says how to show it (count, amount, percent, ...)."""

    section: str
    label: str
    value: Any
    kind: str = "text"

    @property
    def text(self) -> str:
        shown = {
            "count": count_text,
            "amount": amount_text,
            "percent": percent_text,
            "flag": flag_text,
            "number": value_text,
        }.get(self.kind, plain_text)
        return shown(self.value)


def summary_figures(
    summary: Mapping[str, Any],
    sides: Sides,
    counts: Mapping[str | None, float],
    grouping: Grouping | None = None,
    *,
    amounts: Mapping[str | None, float] | None = None,
    impacts: Mapping[str | None, float] | None = None,
) -> list[Figure]:
    """Every figure the summary has, labelled with the side labels; absent keys are skipped.

    :param counts: rows per group of ``grouping`` (the core status unless given).
    :param amounts: break amount per break type, shown when the grouping is a classification
        (per status the summary's own ``break_amount_by_status`` is shown).
    :param impacts: impact in the reporting currency per break type, likewise.
    """
    grouping = grouping or Grouping()
    figures: list[Figure] = []

    def add(section: str, label: str, value: Any, kind: str = "text") -> None:
        if value is not None and value != "":
            figures.append(Figure(section, label, value, kind))

    get = summary.get
    add("Run", "Recon", get("recon"))
    add("Run", "Generated at", get("generated_at"))
    add("Run", "Duration (seconds)", get("duration_seconds"), "number")
    add("Sides", "Left side", sides.left)
    add("Sides", "Right side", sides.right)
    add("Sides", "Keys", ", ".join(listed_names(get("keys"))))
    add("Sides", "Compared fields", ", ".join(listed_names(get("compare_fields"))))
    add("Sides", "Amount field", get("amount_field"))
    inputs = get("inputs") or {}
    for side, label in (("left", sides.left), ("right", sides.right)):
        info = inputs.get(side) or {}
        add("Inputs", f"{label} file", info.get("path"))
        add("Inputs", f"{label} rows", info.get("rows"), "count")
    add("Results", "Total keys", get("total_keys"), "count")
    add("Results", "Input records", get("records"), "count")
    if grouping.classified:  # the core statuses still count; the break types follow
        status_counts = get("counts") or {}
        for status in STATUSES:
            add("Results", sides.status_label(status), status_counts.get(status), "count")
    else:
        for status in STATUSES:
            add("Results", sides.status_label(status), counts.get(status, 0), "count")
        for other, count in counts.items():
            if other not in STATUSES:
                add("Results", sides.status_label(other), count, "count")
    add("Results", "Breaks", get("breaks"), "count")
    add("Results", "Break rate", get("break_rate"), "percent")
    add("Results", "Match rate by count", get("match_rate"), "percent")
    add("Results", "Match rate by amount", get("match_rate_by_amount"), "percent")
    add("Results", "Auto-match rate", get("auto_match_rate"), "percent")
    for item in get("passes") or ():
        if isinstance(item, Mapping):
            name = f"{item.get('name')} ({item.get('kind')})"
            add("Passes", f"{name}: matches", item.get("matches"), "count")
            add("Passes", f"{name}: confirmed", item.get("confirmed"), "count")
            add("Passes", f"{name}: suggested", item.get("suggested"), "count")
            add("Passes", f"{name}: auto-match rate", item.get("auto_match_rate"), "percent")
    if grouping.classified:
        shown = (
            [*grouping.values[:1], *grouping.charted(counts)]
            if not grouping.every_row
            else grouping.charted(counts)
        )
        for value in shown:
            add("Break types", grouping.label(value), counts.get(value, 0), "count")
        add("Break types", "Breaks by type", (get("classification") or {}).get("breaks"), "count")
    totals = get("totals") or {}
    add("Amounts", f"{sides.left} amount", totals.get("left_amount"), "amount")
    add("Amounts", f"{sides.right} amount", totals.get("right_amount"), "amount")
    add("Amounts", "Matched amount", totals.get("matched_amount"), "amount")
    add("Amounts", "Discrepancy amount", get("discrepancy_amount"), "amount")
    add("Amounts", "Discrepancy rate", get("discrepancy_rate"), "percent")
    add("Risk", "Risk level", get("risk_level"))
    add("Risk", "Threshold passed", get("threshold_passed"), "flag")
    thresholds = get("thresholds") or {}
    risk = thresholds.get("risk") or {}
    add("Risk", "Max break rate", thresholds.get("max_break_rate"), "percent")
    add("Risk", "Medium risk from break rate", risk.get("medium"), "percent")
    add("Risk", "High risk from break rate", risk.get("high"), "percent")
    figures += impact_figures(summary)
    for field, count in (get("mismatched_by_field") or {}).items():
        add("Mismatched by field", str(field), count, "count")
    by_status = get("break_amount_by_status") or {}
    if grouping.classified:
        for value in grouping.charted(amounts or {}):
            add(
                "Break amount by type",
                grouping.label(value),
                (amounts or {}).get(value, 0.0),
                "amount",
            )
        currency = (get("financial_impact") or {}).get("reporting_currency")
        section = f"Impact by type ({currency})" if currency else "Impact by type"
        if impacts:
            for value in grouping.charted(impacts):
                add(section, grouping.label(value), impacts.get(value, 0.0), "amount")
        for status, amount in by_status.items():
            add("Break amount by status", sides.status_label(status), amount, "amount")
    else:
        for status, amount in by_status.items():
            add("Break amount by type", sides.status_label(status), amount, "amount")
    conservation = get("row_conservation") or {}
    add("Row conservation", "Every input row accounted for", conservation.get("ok"), "flag")
    for side, label in (("left", sides.left), ("right", sides.right)):
        info = conservation.get(side) or {}
        add("Row conservation", f"{label} input rows", info.get("input_rows"), "count")
        add("Row conservation", f"{label} rows accounted for", info.get("accounted"), "count")
    return figures


# --- financial impact (payments) ---------------------------------------------------------------


def financial_impact(summary: Mapping[str, Any]) -> Mapping[str, Any]:
    """The summary's ``financial_impact``, or an empty mapping when it has none."""
    impact = summary.get("financial_impact")
    return impact if isinstance(impact, Mapping) else {}


def impact_figures(summary: Mapping[str, Any]) -> list[Figure]:
    """The financial impact as labelled figures (amounts in the reporting currency)."""
    impact = financial_impact(summary)
    if not impact:
        return []
    currency = impact.get("reporting_currency")
    unit = f" ({currency})" if currency else ""
    thresholds = summary.get("thresholds") or {}
    section = "Financial impact"
    candidates = [
        Figure(section, "Reporting currency", currency),
        Figure(section, f"Volume{unit}", impact.get("volume"), "amount"),
        Figure(section, f"Discrepancy amount{unit}", impact.get("discrepancy_amount"), "amount"),
        Figure(section, "Discrepancy rate", impact.get("discrepancy_rate"), "percent"),
        Figure(section, "Max discrepancy rate", thresholds.get("max_discrepancy_rate"), "percent"),
        Figure(section, "Break rate", impact.get("break_rate"), "percent"),
        Figure(
            section, f"High-value break from{unit}", thresholds.get("high_value_amount"), "amount"
        ),
        Figure(section, "Risk level", impact.get("risk_level")),
        Figure(section, "Compliance status", impact.get("compliance_status")),
        *(
            Figure(section, "Compliance failure", str(failure))
            for failure in impact.get("compliance_failures") or ()
        ),
        Figure(
            section,
            "Currencies without an fx rate",
            ", ".join(map(str, impact.get("unconverted") or ())),
        ),
    ]
    return [figure for figure in candidates if figure.value is not None and figure.value != ""]


@dataclass(frozen=True)
class CurrencyImpact:
    """One row of the per-currency table (amounts in that currency)."""

    currency: str
    transactions: Any
    volume: Any
    discrepancy_amount: Any
    discrepancy_rate: Any


def currency_impacts(summary: Mapping[str, Any]) -> list[CurrencyImpact]:
    """``financial_impact.by_currency`` as rows, in the summary's order."""
    by_currency = financial_impact(summary).get("by_currency")
    if not isinstance(by_currency, Mapping):
        return []
    rows = []
    for currency, info in by_currency.items():
        figures = info if isinstance(info, Mapping) else {}
        rows.append(
            CurrencyImpact(
                str(currency),
                figures.get("transactions"),
                figures.get("volume"),
                figures.get("discrepancy_amount"),
                figures.get("discrepancy_rate"),
            )
        )
    return rows
