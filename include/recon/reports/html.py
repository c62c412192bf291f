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
from recon.reports.safe import replacing
from recon.reports.view import (
    Sides,
    TopBreaks,
    amount_text,
    compare_fields,
    count_text,
    figures_by_status,
    key_columns,
    ordered_statuses,
    percent_text,
    plain_text,
    value_text,
)
from recon.result import BREAK_STATUSES, MATCHED, MISMATCHED, STATUSES

HTML_FILE: Final = "report.html"
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
    counts = figures_by_status(summary.get("counts"), top.overview, "rows")
    amounts = figures_by_status(summary.get("break_amount_by_status"), top.overview, "amount")
    break_types = _break_types(counts)
    schema = top.rows.schema
    keys = key_columns(schema, summary)
    fields = compare_fields(schema, summary)
    return {
        "recon": str(summary.get("recon") or "reconciliation"),
        "sides": sides,
        "header": _header(summary, sides, keys),
        "cards": _cards(summary, sides, counts),
        "charts": [
            bar_chart(
                [(sides.status_label(s), counts.get(s, 0)) for s in break_types],
                "Breaks by type",
                ",.0f",
            ),
            bar_chart(
                [(sides.status_label(s), amounts.get(s, 0)) for s in break_types],
                "Break amount by type",
                ",.2f",
            ),
        ],
        "by_field": _by_field(summary, top, counts.get(MISMATCHED, 0)),
        "table": _break_table(top.rows, sides, keys, fields),
        "shown": count_text(top.rows.height),
        "total": count_text(top.total),
        "any_breaks": top.total > 0,
        "truncated": top.total > top.rows.height,
        "csv_link": csv_link,
    }


def _break_types(counts: Mapping[str | None, float]) -> list[str | None]:
    unexpected = [s for s, n in counts.items() if s not in STATUSES and n]
    return [*BREAK_STATUSES, *ordered_statuses(unexpected)]


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
    summary: Mapping[str, Any], sides: Sides, counts: Mapping[str | None, float]
) -> list[Card]:
    cards = []
    if summary.get("total_keys") is not None:
        cards.append(Card("total keys", count_text(summary["total_keys"])))
    cards += [
        Card(sides.status_label(status), count_text(counts.get(status, 0)), f"status-{status}")
        for status in STATUSES
    ]
    if summary.get("match_rate") is not None:
        cards.append(Card("match rate by count", percent_text(summary["match_rate"])))
    if summary.get("match_rate_by_amount") is not None:
        cards.append(Card("match rate by amount", percent_text(summary["match_rate_by_amount"])))
    if summary.get("discrepancy_amount") is not None:
        rate = summary.get("discrepancy_rate")
        note = f"{percent_text(rate)} of volume" if rate is not None else ""
        cards.append(
            Card("discrepancy amount", amount_text(summary["discrepancy_amount"]), "", note)
        )
    risk = summary.get("risk_level")
    if risk is not None:
        level = str(risk).lower()
        css = f"risk-{level}" if level in _RISK_LEVELS else "risk-unknown"
        note = (
            f"break rate {percent_text(summary['break_rate'])}" if "break_rate" in summary else ""
        )
        cards.append(Card("risk level", str(risk), css, note))
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
    rows: pl.DataFrame, sides: Sides, keys: Sequence[str], fields: Sequence[str]
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
    body = []
    for row in rows.iter_rows(named=True):
        status = row.get("status")
        differing = set(row.get("mismatched_fields") or ())
        cells = [Cell(plain_text(row.get(key)), "key") for key in keys]
        badge = f"badge status-{status}" if status in STATUSES else "badge status-other"
        cells.append(Cell(sides.status_label(status), badge))
        for field, parts in groups:
            highlight = ["hl"] if field in differing else []
            for _, column in parts:
                classes = (["num"] if schema[column].is_numeric() else []) + highlight
                cells.append(Cell(value_text(row.get(column)), " ".join(classes)))
        if "break_amount" in schema:
            amount = row.get("break_amount")
            cells.append(Cell("" if amount is None else amount_text(amount), "num"))
        cells.append(Cell(_detail(row, status, sides)))
        body.append(cells)
    return {
        "keys": list(keys),
        "groups": [(field, [label for label, _ in parts]) for field, parts in groups if parts],
        "has_amount": "break_amount" in schema,
        "body": body,
    }


def _detail(row: Mapping[str, Any], status: str | None, sides: Sides) -> str:
    parts = []
    if status == MISMATCHED and row.get("mismatched_fields"):
        parts.append("differs: " + ", ".join(map(str, row["mismatched_fields"])))
    if row.get("side"):
        parts.append(sides.side_label(row["side"]))
    if row.get("row") is not None:
        parts.append(f"row {plain_text(row['row'])}")
    if row.get("reason"):
        parts.append(str(row["reason"]))
    return " · ".join(parts) if status != MATCHED else ""
