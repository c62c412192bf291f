"""``report.xlsx``: a Summary sheet, then one sheet per break type, written in bounded memory."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import polars as pl
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from recon.errors import ReconError
from recon.reports.columns import schema_lines
from recon.reports.figures import Figure, currency_impacts, summary_figures
from recon.reports.labels import GROUP, IMPACT_COLUMN, Grouping, Sides
from recon.reports.safe import flat_cells, neutral_text, neutralize_formulas, replacing
from recon.reports.view import (
    break_rows,
    by_break_amount,
    checked_schema,
    compare_fields,
    display_columns,
    figures_by_group,
    key_columns,
)

COLUMNS_SECTION: Final = "Columns that differ"
EXCEL_MAX_ROWS: Final = 1_048_576  # rows per sheet, header included
SHEET_NAME_MAX: Final = 31
BATCH_ROWS: Final = 20_000
SUMMARY_SHEET: Final = "Summary"
CURRENCY_SECTION: Final = "Financial impact by currency"
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_EXACT_INT_LIMIT: Final = 2**53  # larger integers lose digits as Excel numbers: keep them as text
_WIDTH_MIN, _WIDTH_MAX = 8, 60

CellWriter = Callable[[Worksheet, int, int, Any], None]


def write_xlsx(
    results: pl.LazyFrame,
    summary: Mapping[str, Any],
    path: Path,
    *,
    max_rows_per_sheet: int = EXCEL_MAX_ROWS,
    batch_rows: int = BATCH_ROWS,
) -> Path:
    """Write the Summary sheet and a sheet per break type (the core status, or the summary's
    classification); a type too long for one sheet continues on ``<type> (2)``, ``(3)``, ...

    :param max_rows_per_sheet: rows per sheet including the header (Excel's limit by default).
    """
    if not 2 <= max_rows_per_sheet <= EXCEL_MAX_ROWS:
        raise ReconError(
            f"max_rows_per_sheet must be between 2 and {EXCEL_MAX_ROWS:,}, got {max_rows_per_sheet}"
        )
    sides = Sides.from_summary(summary)
    grouping = Grouping.from_summary(summary)
    schema = checked_schema(results, grouping)
    keys = key_columns(schema, summary)
    fields = compare_fields(schema, summary)
    overview = grouping.overview(results).collect()
    counts = figures_by_group(grouping.summary_counts(summary), overview, "rows")
    amounts = figures_by_group(grouping.summary_amounts(summary), overview, "amount")
    impacts = (
        figures_by_group(None, overview, "impact")
        if grouping.classified and IMPACT_COLUMN in schema
        else None
    )

    with replacing(path) as partial:
        book = xlsxwriter.Workbook(
            str(partial),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "nan_inf_to_errors": True,
                "remove_timezone": True,
            },
        )
        try:
            formats = _Formats(book)
            figures = summary_figures(
                summary, sides, counts, grouping, amounts=amounts, impacts=impacts
            )
            _write_summary(book, formats, summary, figures)
            names = _SheetNames()
            breaks = break_rows(results, grouping)
            for group in grouping.ordered(overview[GROUP].to_list()):
                columns = display_columns(schema, keys, fields, group, grouping)
                frame = (
                    by_break_amount(breaks.filter(grouping.is_group(group)), keys)
                    .select(columns)
                    .pipe(_sides_named, sides)
                    .pipe(flat_cells)
                    .pipe(neutralize_formulas)
                )
                headers = [grouping.column_label(name, sides, keys) for name in columns]
                _write_break_type(
                    book,
                    formats,
                    names.base(grouping.label(group), fallback=str(group)),
                    names,
                    frame,
                    headers,
                    keys,
                    max_rows_per_sheet,
                    batch_rows,
                )
        finally:
            _close(book)
    return path


def _close(book: Workbook) -> None:
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


def _sides_named(frame: pl.LazyFrame, sides: Sides) -> pl.LazyFrame:
    """``side`` values as the side labels people know."""
    if "side" not in frame.collect_schema():
        return frame
    return frame.with_columns(pl.col("side").cast(pl.String).replace(sides.side_values()))


class _Formats:
    def __init__(self, book: Workbook) -> None:
        self.header = book.add_format({"bold": True, "bottom": 1, "bg_color": "#EEF1F5"})
        self.section = book.add_format({"bold": True, "font_size": 12})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.integer = book.add_format({"num_format": "#,##0"})
        self.plain_integer = book.add_format({"num_format": "0"})
        self.decimal = book.add_format({"num_format": "#,##0.00####"})
        self.amount = book.add_format({"num_format": "#,##0.00"})
        self.percent = book.add_format({"num_format": "0.00%"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.time = book.add_format({"num_format": "hh:mm:ss"})


class _SheetNames:
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


def _write_summary(
    book: Workbook, formats: _Formats, summary: Mapping[str, Any], figures: Sequence[Figure]
) -> None:
    sheet = book.add_worksheet(SUMMARY_SHEET)
    sheet.set_column(0, 0, 36)
    sheet.set_column(1, 1, 48)
    title = f"Reconciliation {summary.get('recon') or ''}".strip()
    sheet.write_string(0, 0, neutral_text(title), formats.title)
    row = 1
    section = None
    for figure in figures:
        if figure.section != section:
            section = figure.section
            row += 1
            sheet.write_string(row, 0, neutral_text(section), formats.section)
            row += 1
        sheet.write_string(row, 0, neutral_text(figure.label))
        _write_figure(sheet, row, 1, figure.value, figure.kind, formats)
        row += 1
    if lines := schema_lines(summary):  # the inputs' columns that differ, as the HTML shows
        row += 1
        sheet.write_string(row, 0, COLUMNS_SECTION, formats.section)
        for what, detail in lines:
            row += 1
            sheet.write_string(row, 0, neutral_text(what))
            sheet.write_string(row, 1, neutral_text(detail))
        row += 1
    _write_currency_table(sheet, row + 1, summary, formats)


def _write_currency_table(
    sheet: Worksheet, row: int, summary: Mapping[str, Any], formats: _Formats
) -> None:
    """Financial impact per currency (amounts in that currency), below the figures."""
    rows = currency_impacts(summary)
    if not rows:
        return
    sheet.write_string(row, 0, CURRENCY_SECTION, formats.section)
    headers = ("Currency", "Transactions", "Volume", "Discrepancy amount", "Discrepancy rate")
    for col, header in enumerate(headers):
        sheet.write_string(row + 1, col, header, formats.header)
    sheet.set_column(2, 4, 20)
    for offset, impact in enumerate(rows, start=row + 2):
        sheet.write_string(offset, 0, neutral_text(impact.currency))
        for col, value, kind in (
            (1, impact.transactions, "count"),
            (2, impact.volume, "amount"),
            (3, impact.discrepancy_amount, "amount"),
            (4, impact.discrepancy_rate, "percent"),
        ):
            if value is not None:
                _write_figure(sheet, offset, col, value, kind, formats)


def _write_figure(
    sheet: Worksheet, row: int, col: int, value: Any, kind: str, formats: _Formats
) -> None:
    number_format = {
        "count": formats.integer,
        "amount": formats.amount,
        "percent": formats.percent,
        "number": formats.decimal,
    }.get(kind)
    if isinstance(value, bool):
        sheet.write_string(row, col, "yes" if value else "no")
    elif number_format is not None and isinstance(value, int | float | Decimal):
        number = float(value)
        if math.isfinite(number):
            sheet.write_number(row, col, number, number_format)
        else:  # a rate over zero keys: nothing to show, not an Excel error
            sheet.write_string(row, col, "—")
    else:
        sheet.write_string(row, col, neutral_text(str(value)))


def _write_break_type(
    book: Workbook,
    formats: _Formats,
    base: str,
    names: _SheetNames,
    frame: pl.LazyFrame,
    headers: Sequence[str],
    keys: Sequence[str],
    max_rows: int,
    batch_rows: int,
) -> None:
    """Stream one break type into as many sheets as its rows need."""
    schema = frame.collect_schema()
    writers = [
        _cell_writer(dtype, formats, plain=name in keys or name == "row")
        for name, dtype in schema.items()
    ]
    per_sheet = max_rows - 1
    sheet: Worksheet | None = None
    number = 0
    row = 0  # the next row to write on ``sheet``
    for batch in frame.collect_batches(chunk_size=batch_rows):
        start = 0
        while start < batch.height:
            if sheet is None or row > per_sheet:
                if sheet is not None:
                    _finish(sheet, row, len(headers))
                number += 1
                sheet = book.add_worksheet(names.part(base, number))
                _start(sheet, headers, batch, formats)
                row = 1
            take = min(batch.height - start, per_sheet - row + 1)
            columns = [series.to_list() for series in batch.slice(start, take).iter_columns()]
            for values in zip(*columns, strict=True):
                for col, (value, write) in enumerate(zip(values, writers, strict=True)):
                    if value is not None:
                        write(sheet, row, col, value)
                row += 1
            start += take
    if sheet is not None:
        _finish(sheet, row, len(headers))


def _start(
    sheet: Worksheet, headers: Sequence[str], first: pl.DataFrame, formats: _Formats
) -> None:
    """Header row and column widths (from the header and the first batch: memory stays flat)."""
    for col, (header, series) in enumerate(zip(headers, first.iter_columns(), strict=True)):
        sheet.set_column(col, col, _width(header, series))
        sheet.write_string(0, col, neutral_text(header), formats.header)
    sheet.freeze_panes(1, 0)


def _finish(sheet: Worksheet, rows: int, columns: int) -> None:
    sheet.autofilter(0, 0, rows - 1, columns - 1)


def _width(header: str, series: pl.Series) -> float:
    dtype = series.dtype
    if dtype == pl.String:
        longest = series.head(1000).str.len_chars().max()
        content = int(longest) if isinstance(longest, int) else 0
    elif dtype.is_temporal():
        content = 19 if dtype == pl.Datetime else 12
    elif dtype.is_numeric():
        content = 14
    else:
        content = 10
    return float(min(max(len(header) + 2, content + 1, _WIDTH_MIN), _WIDTH_MAX))


def _cell_writer(dtype: pl.DataType, formats: _Formats, *, plain: bool) -> CellWriter:
    """How one column's values go into cells; ``plain`` integers (keys, row numbers) get no
    thousands separators."""
    if dtype == pl.String:
        return lambda sheet, row, col, value: sheet.write_string(row, col, value)
    if dtype == pl.Boolean:
        return lambda sheet, row, col, value: sheet.write_boolean(row, col, value)
    if dtype.is_integer():
        integer_format = formats.plain_integer if plain else formats.integer

        def write_integer(sheet: Worksheet, row: int, col: int, value: Any) -> None:
            if abs(value) >= _EXACT_INT_LIMIT:
                sheet.write_string(row, col, str(value))
            else:
                sheet.write_number(row, col, value, integer_format)

        return write_integer
    if dtype.is_float() or dtype == pl.Decimal:
        return lambda sheet, row, col, value: sheet.write_number(
            row, col, float(value), formats.decimal
        )
    if dtype == pl.Date:
        return lambda sheet, row, col, value: sheet.write_datetime(row, col, value, formats.date)
    if dtype == pl.Datetime:
        return lambda sheet, row, col, value: sheet.write_datetime(
            row, col, value, formats.datetime
        )
    if dtype == pl.Time:
        return lambda sheet, row, col, value: sheet.write_datetime(row, col, value, formats.time)
    if dtype == pl.Duration:
        return lambda sheet, row, col, value: sheet.write_number(
            row, col, value / dt.timedelta(days=1), formats.decimal
        )
    return lambda sheet, row, col, value: sheet.write_string(row, col, neutral_text(str(value)))
