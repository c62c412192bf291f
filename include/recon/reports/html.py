"""``report.html``: one self-contained page (inline CSS and SVG) rendered with autoescaping."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl
from jinja2 import Environment, FileSystemLoader, select_autoescape

from recon.reports.chart import bar_chart
from recon.reports.columns import schema_lines
from recon.reports.figures import currency_impacts, financial_impact
from recon.reports.labels import IMPACT_COLUMN, Grouping, Sides
from recon.reports.safe import replacing
from recon.reports.view import (
    TopBreaks,
    amount_text,
    compare_fields,
    count_text,
    figures_by_group,
    key_columns,
    percent_text,
    plain_text,
    value_text,
)
from recon.result import MATCHED, MISMATCHED

TEMPLATE: Final = "report.html.j2"
TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
_RISK_LEVELS: Final = ("low", "medium", "high")


@dataclass(frozen=True)
class Cell:
    text: str
    css: str = ""


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    css: str = ""
    note: str = ""


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def write_html(
    top: TopBreaks, summary: Mapping[str, Any], path: Path, *, csv_link: str | None
) -> Path:
    """Render the page to ``path``.

    :param csv_link: relative link to the full break list, or None when no CSV is written.
    """
    html = _environment().get_template(TEMPLATE).render(**html_context(top, summary, csv_link))
    with replacing(path) as partial:
        partial.write_text(html, encoding="utf-8")
    return path


def html_context(
    top: TopBreaks, summary: Mapping[str, Any], csv_link: str | None
) -> dict[str, Any]:
    """Everything the template shows, as text; the template escapes it."""
    sides = Sides.from_summary(summary)
    grouping = top.grouping
    counts = figures_by_group(grouping.summary_counts(summary), top.overview, "rows")
    amounts = figures_by_group(grouping.summary_amounts(summary), top.overview, "amount")
    statuses = figures_by_group(summary.get("counts"), top.statuses, "rows")
    charted = grouping.charted(counts)
    schema = top.rows.schema
    keys = key_columns(schema, summary)
    fields = compare_fields(schema, summary)
    currency = financial_impact(summary).get("reporting_currency")
    return {
        "recon": str(summary.get("recon") or "reconciliation"),
        "sides": sides,
        "header": _header(summary, sides, keys),
        "cards": _cards(summary, grouping, counts),
        "charts": [
            bar_chart(
                [(grouping.label(value), counts.get(value, 0)) for value in charted],
                "Breaks by type",
                ",.0f",
            ),
            bar_chart(
                [(grouping.label(value), amounts.get(value, 0)) for value in charted],
                "Break amount by type",
                ",.2f",
            ),
        ],
        "overview": (
            _overview(top, charted, counts, amounts, currency) if grouping.classified else None
        ),
        "impact": _impact(summary),
        "passes": _passes(summary, sides),
        "by_field": _by_field(summary, top, statuses.get(MISMATCHED, 0)),
        "columns": schema_lines(summary),
        "table": _break_table(top.rows, sides, grouping, keys, fields, currency),
        "shown": count_text(top.rows.height),
        "total": count_text(top.total),
        "any_breaks": top.total > 0,
        "truncated": top.total > top.rows.height,
        "csv_link": csv_link,
    }


def _overview(
    top: TopBreaks,
    charted: Sequence[str | None],
    counts: Mapping[str | None, float],
    amounts: Mapping[str | None, float],
    currency: Any,
) -> dict[str, Any]:
    """Keys, share of breaks, break amount and impact per break type."""
    grouping = top.grouping
    has_impact = IMPACT_COLUMN in top.rows.schema
    impacts = figures_by_group(None, top.overview, "impact") if has_impact else {}
    body = []
    for value in charted:
        count = counts.get(value, 0)
        cells = [
            Cell(grouping.label(value), _badge(grouping, value)),
            Cell(count_text(count), "num"),
            Cell(percent_text(count / top.total) if top.total else "—", "num"),
            Cell(amount_text(amounts.get(value, 0.0)), "num"),
        ]
        if has_impact:
            cells.append(Cell(amount_text(impacts.get(value, 0.0)), "num"))
        body.append(cells)
    headers = ["break type", "keys", "share of breaks", "break amount"]
    note = "break amount adds up each row's own currency"
    if has_impact:
        headers.append(_impact_header(currency))
        note += f"; {_impact_header(currency)} leaves out rows without an fx rate"
    return {"headers": headers, "body": body, "note": note}


def _impact_header(currency: Any) -> str:
    return f"impact ({currency})" if currency else "impact"


def _impact(summary: Mapping[str, Any]) -> dict[str, Any] | None:
    """The "Financial impact" section: headline cards, compliance failures, per currency."""
    impact = financial_impact(summary)
    if not impact:
        return None
    currency = plain_text(impact.get("reporting_currency") or "")
    in_currency = f"in {currency}" if currency else ""
    thresholds = summary.get("thresholds") or {}
    cards = [Card("reporting currency", currency or "—")]
    cards.append(Card("volume", amount_text(impact.get("volume")), "", in_currency))
    cards.append(
        Card(
            "discrepancy amount",
            amount_text(impact.get("discrepancy_amount")),
            "",
            f"{in_currency}, timing excluded" if in_currency else "timing excluded",
        )
    )
    cards.append(
        Card(
            "discrepancy rate",
            percent_text(impact.get("discrepancy_rate")),
            "",
            _limit_note(thresholds.get("max_discrepancy_rate")),
        )
    )
    cards.append(
        Card(
            "break rate",
            percent_text(impact.get("break_rate")),
            "",
            _limit_note(thresholds.get("max_break_rate")),
        )
    )
    risk = impact.get("risk_level")
    if risk is not None:
        cards.append(Card("risk level", str(risk), _risk_css(risk)))
    compliance = impact.get("compliance_status")
    failures = [str(failure) for failure in impact.get("compliance_failures") or ()]
    if compliance is not None:
        compliant = str(compliance).upper() == "COMPLIANT"
        note = "" if compliant else f"{len(failures)} failure{'s' * (len(failures) != 1)}"
        css = "verdict-passed" if compliant else "verdict-failed"
        cards.append(Card("compliance", str(compliance), css, note))
    return {
        "cards": cards,
        "failures": failures,
        "by_currency": [
            (
                row.currency,
                count_text(row.transactions),
                amount_text(row.volume),
                amount_text(row.discrepancy_amount),
                percent_text(row.discrepancy_rate),
            )
            for row in currency_impacts(summary)
        ],
        "unconverted": ", ".join(map(str, impact.get("unconverted") or ())),
        "currency": currency,
    }


def _limit_note(limit: Any) -> str:
    return f"limit {percent_text(limit)}" if limit is not None else ""


def _risk_css(risk: Any) -> str:
    level = str(risk).lower()
    return f"risk-{level}" if level in _RISK_LEVELS else "risk-unknown"


def _badge(grouping: Grouping, value: str | None) -> str:
    return f"badge status-{value}" if value in grouping.values else "badge status-other"


def _header(summary: Mapping[str, Any], sides: Sides, keys: Sequence[str]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    inputs = summary.get("inputs") or {}
    for side, label in (("left", sides.left), ("right", sides.right)):
        info = inputs.get(side) or {}
        path, rows = info.get("path"), info.get("rows")
        if path is not None or rows is not None:
            where = plain_text(path) if path is not None else "—"
            items.append(
                (label, f"{where} ({count_text(rows)} rows)" if rows is not None else where)
            )
    if keys:
        items.append(("keys", ", ".join(keys)))
    if summary.get("generated_at"):
        items.append(("generated", plain_text(summary["generated_at"])))
    if summary.get("duration_seconds") is not None:
        items.append(("took", f"{value_text(summary['duration_seconds'])} s"))
    return items


def _cards(
    summary: Mapping[str, Any], grouping: Grouping, counts: Mapping[str | None, float]
) -> list[Card]:
    sides = Sides.from_summary(summary)
    cards = []
    if summary.get("total_keys") is not None:
        cards.append(Card("total keys", count_text(summary["total_keys"])))
    if summary.get("records") is not None:
        cards.append(Card("input records", count_text(summary["records"])))
    cards += [
        Card(grouping.label(value), count_text(counts.get(value, 0)), f"status-{value}")
        for value in grouping.values
    ]
    if summary.get("match_rate") is not None:
        cards.append(Card("match rate by count", percent_text(summary["match_rate"])))
    if summary.get("match_rate_by_amount") is not None:
        cards.append(Card("match rate by amount", percent_text(summary["match_rate_by_amount"])))
    if summary.get("auto_match_rate") is not None:
        cards.append(Card("auto-match rate", percent_text(summary["auto_match_rate"])))
    if summary.get("discrepancy_amount") is not None:
        rate = summary.get("discrepancy_rate")
        note = f"{percent_text(rate)} of volume" if rate is not None else ""
        cards.append(
            Card("discrepancy amount", amount_text(summary["discrepancy_amount"]), "", note)
        )
    risk = summary.get("risk_level")
    if risk is not None:
        note = (
            f"break rate {percent_text(summary['break_rate'])}" if "break_rate" in summary else ""
        )
        cards.append(Card("risk level", str(risk), _risk_css(risk), note))
    passed = summary.get("threshold_passed")
    if passed is not None:
        limit = (summary.get("thresholds") or {}).get("max_break_rate")
        note = f"max break rate {percent_text(limit)}" if limit is not None else ""
        verdict = "passed" if passed else "failed"
        cards.append(Card("threshold", verdict, f"verdict-{verdict}", note))
    conservation = summary.get("row_conservation") or {}
    if "ok" in conservation:
        ok = conservation["ok"]
        cards.append(
            Card(
                "row conservation",
                "ok" if ok else "broken",
                "verdict-passed" if ok else "verdict-failed",
                _conservation_note(conservation, sides),
            )
        )
    return cards


def _passes(summary: Mapping[str, Any], sides: Sides) -> dict[str, Any] | None:
    """A passes run's figures per pass, in order: what each was given and what it decided."""
    passes = summary.get("passes")
    if not isinstance(passes, Sequence) or not passes:
        return None

    def per_side(figures: Any) -> str:
        figures = figures if isinstance(figures, Mapping) else {}
        return f"{count_text(figures.get('left', 0))} / {count_text(figures.get('right', 0))}"

    headers = [
        "pass",
        "kind",
        f"rows in ({sides.left} / {sides.right})",
        "matches",
        "confirmed",
        "suggested",
        f"ambiguous ({sides.left} / {sides.right})",
        "not searched",
        "auto-match rate",
    ]
    body = [
        [
            Cell(str(item.get("name", ""))),
            Cell(str(item.get("kind", ""))),
            Cell(per_side(item.get("rows_in")), "num"),
            Cell(count_text(item.get("matches")), "num"),
            Cell(count_text(item.get("confirmed")), "num"),
            Cell(count_text(item.get("suggested")), "num"),
            Cell(per_side(item.get("ambiguous")), "num"),
            Cell(per_side(item.get("not_searched")), "num"),
            Cell(percent_text(item.get("auto_match_rate")), "num"),
        ]
        for item in passes
        if isinstance(item, Mapping)
    ]
    return {"headers": headers, "body": body}


def _conservation_note(conservation: Mapping[str, Any], sides: Sides) -> str:
    notes = []
    for side, label in (("left", sides.left), ("right", sides.right)):
        info = conservation.get(side) or {}
        if "input_rows" in info or "accounted" in info:
            notes.append(
                f"{label} {count_text(info.get('accounted'))} of {count_text(info.get('input_rows'))}"
            )
    return "; ".join(notes)


def _by_field(
    summary: Mapping[str, Any], top: TopBreaks, mismatched: float
) -> list[tuple[str, str, str]]:
    named = summary.get("mismatched_by_field")
    pairs = (
        [(str(field), count) for field, count in named.items()]
        if isinstance(named, Mapping) and named
        else [(row["field"], row["rows"]) for row in top.by_field.iter_rows(named=True)]
    )
    return [
        (field, count_text(count), percent_text(count / mismatched) if mismatched else "—")
        for field, count in pairs
    ]


def _break_table(
    rows: pl.DataFrame,
    sides: Sides,
    grouping: Grouping,
    keys: Sequence[str],
    fields: Sequence[str],
    currency: Any,
) -> dict[str, Any]:
    schema = rows.schema
    groups = []
    for field in fields:
        parts = [
            (label, column)
            for label, column in (
                (sides.left, f"left_{field}"),
                (sides.right, f"right_{field}"),
                ("difference", f"diff_{field}"),
            )
            if column in schema
        ]
        groups.append((field, parts))
    # a break type's row also shows its impact in the reporting currency, when known
    impact = grouping.classified and IMPACT_COLUMN in schema
    amount_columns = ["break_amount"] if "break_amount" in schema else []
    if impact:
        amount_columns.append(IMPACT_COLUMN)
    body = []
    for row in rows.iter_rows(named=True):
        status = row.get("status")
        group = row.get(grouping.column)
        differing = set(row.get("mismatched_fields") or ())
        cells = [Cell(plain_text(row.get(key)), "key") for key in keys]
        cells.append(Cell(grouping.label(group), _badge(grouping, group)))
        for field, parts in groups:
            highlight = ["hl"] if field in differing else []
            for _, column in parts:
                classes = (["num"] if schema[column].is_numeric() else []) + highlight
                cells.append(Cell(value_text(row.get(column)), " ".join(classes)))
        for column in amount_columns:
            amount = row.get(column)
            cells.append(Cell("" if amount is None else amount_text(amount), "num"))
        cells.append(Cell(_detail(row, status, sides, classified=grouping.classified)))
        body.append(cells)
    return {
        "keys": list(keys),
        "type_header": "break type" if grouping.classified else "type",
        "impact_header": _impact_header(currency) if impact else None,
        "groups": [(field, [label for label, _ in parts]) for field, parts in groups if parts],
        "has_amount": "break_amount" in schema,
        "body": body,
    }


def _detail(
    row: Mapping[str, Any], status: str | None, sides: Sides, *, classified: bool = False
) -> str:
    """Why a row is a break; a classified row also says its core status (``timing`` rows are
    ``matched`` by the core)."""
    parts = [f"match status: {sides.status_label(status)}"] if classified else []
    if status == MISMATCHED and row.get("mismatched_fields"):
        parts.append("differs: " + ", ".join(map(str, row["mismatched_fields"])))
    if row.get("side"):
        parts.append(sides.side_label(row["side"]))
    if row.get("row") is not None:
        parts.append(f"row {plain_text(row['row'])}")
    if row.get("reason"):
        parts.append(str(row["reason"]))
    return " · ".join(parts) if classified or status != MATCHED else ""
