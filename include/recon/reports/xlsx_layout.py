"""What both XLSX engines share: the break types to write, sheet names, and how a break sheet
starts (header, column widths and formats, frozen header, autofilter)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import polars as pl
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from recon.reports.safe import neutral_text
from recon.reports.xlsx_summary import SUMMARY_SHEET, Formats

SHEET_NAME_MAX: Final = 31
BOOK_OPTIONS: Final = {
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "nan_inf_to_errors": True,
    "remove_timezone": True,
}
WIDTH_SAMPLE: Final = 1000  # rows a column's width is measured on
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
WIDTH_MIN: Final = 8
_WIDTH_MAX: Final = 60


@dataclass(frozen=True)
class BreakType:
    """One break type's sheets: its rows (display columns, flat, formula-safe, in order)."""

    base: str
    frame: pl.LazyFrame
    headers: list[str]
    plain: frozenset[str]  # integer columns shown without thousands separators
    rows: int


def close_book(book: Workbook) -> None:
    """xlsxwriter wraps a failed write (disk full, a file-size limit) in its own error: raise
    the OSError inside, which callers report as such."""
    from xlsxwriter.exceptions import FileCreateError

    try:
        book.close()
    except FileCreateError as exc:
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
        if cause is None:
            raise
        raise cause from None


class SheetNames:
    """Valid, unique sheet names: no ``[]:*?/\\``, no edge apostrophes, at most 31 characters."""

    def __init__(self) -> None:
        self.used = {SUMMARY_SHEET.lower(), "history"}  # Excel reserves "History"
        self.bases: set[str] = set()

    def base(self, label: str, *, fallback: str) -> str:
        for candidate in (label, fallback):
            cleaned = _SHEET_FORBIDDEN.sub("_", candidate).strip().strip("'").strip()
            if cleaned and cleaned.lower() not in self.bases | self.used:
                self.bases.add(cleaned.lower())
                return cleaned
        return self.base(f"{fallback} ~", fallback=f"{fallback} ~~")

    def part(self, base: str, number: int) -> str:
        suffix = "" if number == 1 else f" ({number})"
        name = base[: SHEET_NAME_MAX - len(suffix)].rstrip().rstrip("'") + suffix
        while name.lower() in self.used:  # a truncated base can meet another one
            suffix = f"~{suffix}"
            name = base[: SHEET_NAME_MAX - len(suffix)].rstrip().rstrip("'") + suffix
        self.used.add(name.lower())
        return name


def column_number_formats(
    schema: pl.Schema, formats: Formats, plain: frozenset[str]
) -> list[Format]:
    """Each column's number format (``None`` for text): also the column's default format."""
    return [number_format_of(dtype, formats, plain=name in plain) for name, dtype in schema.items()]


def number_format_of(dtype: pl.DataType, formats: Formats, *, plain: bool) -> Any:
    if dtype.is_integer():
        return formats.plain_integer if plain else formats.integer
    if dtype.is_float() or dtype == pl.Decimal or dtype == pl.Duration:
        return formats.decimal
    if dtype == pl.Date:
        return formats.date
    if isinstance(dtype, pl.Datetime):
        return formats.datetime
    if dtype == pl.Time:
        return formats.time
    return None


def start_sheet(
    sheet: Worksheet,
    headers: Sequence[str],
    widths: Sequence[float],
    column_formats: Sequence[Any],
    formats: Formats,
    rows: int,
) -> None:
    """Header row, column widths and formats, frozen header, autofilter over ``rows`` rows."""
    for col, (header, width, number_format) in enumerate(
        zip(headers, widths, column_formats, strict=True)
    ):
        sheet.set_column(col, col, width, number_format)
        sheet.write_string(0, col, neutral_text(header), formats.header)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, rows, len(headers) - 1)


def column_widths(headers: Sequence[str], sample: pl.DataFrame) -> list[float]:
    """Column widths from the header and the part's first rows (memory stays flat)."""
    return [
        column_width(header, series.head(WIDTH_SAMPLE))
        for header, series in zip(headers, sample.iter_columns(), strict=True)
    ]


def column_width(header: str, series: pl.Series) -> float:
    dtype = series.dtype
    if dtype == pl.String:
        longest = series.str.len_chars().max()
        content = int(longest) if isinstance(longest, int) else 0
    elif dtype.is_temporal():
        content = 19 if dtype == pl.Datetime else 12
    elif dtype.is_numeric():
        content = 14
    else:
        content = 10
    return float(min(max(len(header) + 2, content + 1, WIDTH_MIN), _WIDTH_MAX))


def sheet_rows(rows: int, per_sheet: int) -> list[int]:
    """Rows on each sheet of a break type."""
    return [min(per_sheet, rows - start) for start in range(0, rows, per_sheet)]
