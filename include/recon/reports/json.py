"""``report.json``: the summary and the largest breaks as strict JSON (no NaN, dates as ISO)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any

from recon.files import json_text
from recon.reports.safe import replacing
from recon.reports.view import TopBreaks, figures_by_group


def jsonable(value: Any) -> Any:
    """``value`` with every part JSON can hold as is: NaN and infinities become null, dates
    ISO strings, decimals exact strings, paths strings, tuples and sets lists."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def report_document(top: TopBreaks, summary: Mapping[str, Any]) -> dict[str, Any]:
    """``{"summary": ..., "breaks": [...], "breaks_total": n}``; breaks keep their column names.

    A classified result adds ``classification`` and ``financial_impact`` as the summary gives
    them, and ``breaks_by_type``: per break type in order, its label, rows and break amount
    over every break, and those of the listed ``breaks`` that are of that type.
    """
    breaks = [jsonable(row) for row in top.rows.iter_rows(named=True)]
    document: dict[str, Any] = {
        "summary": jsonable(summary),
        "breaks": breaks,
        "breaks_total": top.total,
    }
    for key in ("classification", "financial_impact"):
        if summary.get(key) is not None:
            document[key] = jsonable(summary[key])
    if top.grouping.classified:
        document["breaks_by_type"] = _by_type(top, breaks)
    return document


def _by_type(top: TopBreaks, breaks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouping = top.grouping
    rows = figures_by_group(None, top.overview, "rows")
    amounts = figures_by_group(None, top.overview, "amount")
    return [
        {
            "type": value,
            "label": grouping.label(value),
            "rows": int(rows.get(value, 0)),
            "break_amount": amounts.get(value, 0.0),
            "breaks": [row for row in breaks if row.get(grouping.column) == value],
        }
        for value in grouping.charted(rows)
    ]


def write_json(top: TopBreaks, summary: Mapping[str, Any], path: Path) -> Path:
    document = report_document(top, summary)
    with replacing(path) as partial:
        partial.write_text(
            json_text(document, ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8",
        )
    return path
