"""Every report from one result: HTML (with charts), CSV, XLSX and JSON.

``write_reports`` is the one entry point; the writers stream the break list (CSV, XLSX) or take
only its largest rows (HTML, JSON), so millions of breaks never become Python objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import polars as pl

from recon.errors import Problem, ReconError, did_you_mean
from recon.reports.labels import Grouping
from recon.reports.names import CSV_FILE, REPORT_FILES, REPORT_FORMATS
from recon.reports.view import checked_schema, top_breaks

__all__ = ["REPORT_FILES", "REPORT_FORMATS", "load_writers", "write_reports"]

HTML_TOP_N: Final = 1000


def write_reports(
    results: pl.LazyFrame | pl.DataFrame,
    summary: Mapping[str, Any],
    out_dir: Path,
    formats: Iterable[str] = REPORT_FORMATS,
    *,
    html_top_n: int = HTML_TOP_N,
) -> dict[str, Path]:
    """Write the chosen reports into ``out_dir`` and return ``{format: path}``.

    :param results: the results frame (recon.result); matched rows are left out of break lists.
    :param summary: the summary.json dict; absent optional keys are simply not shown. With a
        ``classification`` every report groups and names breaks by its column (``break_type``)
        instead of the core status, and a ``financial_impact`` gets its own section.
    :param html_top_n: how many of the largest breaks the HTML page and report.json list.
    """
    chosen = _checked_formats(formats)
    if html_top_n < 0:
        raise ReconError(f"html_top_n must be 0 or more, got {html_top_n}")
    frame = results.lazy()
    checked_schema(frame, Grouping.from_summary(summary))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    top = top_breaks(frame, summary, html_top_n) if {"html", "json"} & set(chosen) else None
    written: dict[str, Path] = {}
    for name in chosen:
        path = out_dir / REPORT_FILES[name]
        # each writer loads on use: a run asking for one report imports no other's library
        if name == "csv":
            from recon.reports.csv import write_csv

            written[name] = write_csv(frame, summary, path)
        elif name == "xlsx":
            from recon.reports.xlsx import write_xlsx

            written[name] = write_xlsx(frame, summary, path)
        elif name == "html" and top is not None:
            from recon.reports.html import write_html

            csv_link = CSV_FILE if "csv" in chosen else None
            written[name] = write_html(top, summary, path, csv_link=csv_link)
        elif name == "json" and top is not None:
            from recon.reports.json import write_json

            written[name] = write_json(top, summary, path)
    return written


def load_writers(formats: Iterable[str]) -> None:
    """Import the writers of ``formats`` (jinja2, xlsxwriter: ~0.13 s). They load on use, so a
    run without reports never pays for them; a run with reports can load them in a thread
    while it reconciles."""
    chosen = set(formats)
    if "html" in chosen:
        import recon.reports.html
    if "xlsx" in chosen:
        import recon.reports.xlsx  # noqa: F401


def _checked_formats(formats: Iterable[str]) -> list[str]:
    """The requested formats in REPORT_FORMATS order; every unknown one reported at once."""
    requested = [formats] if isinstance(formats, str) else list(formats)
    problems = [
        Problem(
            f"unknown report format `{name}`",
            hint=did_you_mean(str(name), REPORT_FORMATS)
            or f"choose from {', '.join(REPORT_FORMATS)}",
        )
        for name in requested
        if name not in REPORT_FORMATS
    ]
    if problems:
        raise ReconError.from_problems("report formats", problems)
    return [name for name in REPORT_FORMATS if name in requested]
