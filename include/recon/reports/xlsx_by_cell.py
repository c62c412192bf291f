"""The reference XLSX engine: every cell written through xlsxwriter, one call each (~15k rows/s).

Kept so that tests can hold the polars engine to it, cell by cell; ``engine="xlsxwriter"``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from recon.reports.safe import neutral_text
from recon.reports.xlsx_cells import EXACT_INT_LIMIT
from recon.reports.xlsx_layout import (
    BOOK_OPTIONS,
    BreakType,
    SheetNames,
    close_book,
    column_number_formats,
    column_widths,
    sheet_rows,
    start_sheet,
)
from recon.reports.xlsx_summary import Formats

CellWriter = Callable[[Worksheet, int, int, Any], None]


def write_by_cell(
    partial: Path,
    start: Callable[[Workbook], Formats],
    types: Sequence[BreakType],
    names: SheetNames,
    max_rows: int,
    batch_rows: int,
) -> None:
    book = xlsxwriter.Workbook(str(partial), {"constant_memory": True, **BOOK_OPTIONS})
    try:
        formats = start(book)
        for kind in types:
            _write_cells(book, formats, kind, names, max_rows, batch_rows)
    finally:
        close_book(book)


def _write_cells(
    book: Workbook,
    formats: Formats,
    kind: BreakType,
    names: SheetNames,
    max_rows: int,
    batch_rows: int,
) -> None:
    """Stream one break type into as many sheets as its rows need, cell by cell."""
    schema = kind.frame.collect_schema()
    column_formats = column_number_formats(schema, formats, kind.plain)
    writers = [
        _cell_writer(dtype, fmt) for dtype, fmt in zip(schema.dtypes(), column_formats, strict=True)
    ]
    per_sheet = max_rows - 1
    parts = iter(sheet_rows(kind.rows, per_sheet))
    sheet: Worksheet | None = None
    number = 0
    row = 0  # the next row to write on ``sheet``
    for batch in kind.frame.collect_batches(chunk_size=batch_rows):
        offset = 0
        while offset < batch.height:
            if sheet is None or row > per_sheet:
                number += 1
                sheet = book.add_worksheet(names.part(kind.base, number))
                widths = column_widths(kind.headers, batch.slice(offset))
                rows = next(parts, 0)
                start_sheet(sheet, kind.headers, widths, column_formats, formats, rows)
                row = 1
            take = min(batch.height - offset, per_sheet - row + 1)
            columns = [series.to_list() for series in batch.slice(offset, take).iter_columns()]
            for values in zip(*columns, strict=True):
                for col, (value, write) in enumerate(zip(values, writers, strict=True)):
                    if value is not None:
                        write(sheet, row, col, value)
                row += 1
            offset += take


def _cell_writer(dtype: pl.DataType, number_format: Any) -> CellWriter:
    """How one column's values go into cells."""
    if dtype == pl.String:
        return lambda sheet, row, col, value: sheet.write_string(row, col, value)
    if dtype == pl.Boolean:
        return lambda sheet, row, col, value: sheet.write_boolean(row, col, value)
    if dtype.is_integer():

        def write_integer(sheet: Worksheet, row: int, col: int, value: Any) -> None:
            if abs(value) >= EXACT_INT_LIMIT:
                sheet.write_string(row, col, str(value))
            else:
                sheet.write_number(row, col, value, number_format)

        return write_integer
    if dtype.is_float() or dtype == pl.Decimal:
        return lambda sheet, row, col, value: sheet.write_number(
            row, col, float(value), number_format
        )
    if dtype.is_temporal() and dtype != pl.Duration:
        return lambda sheet, row, col, value: sheet.write_datetime(row, col, value, number_format)
    if dtype == pl.Duration:
        return lambda sheet, row, col, value: sheet.write_number(
            row, col, value / dt.timedelta(days=1), number_format
        )
    if dtype == pl.Binary:
        return lambda sheet, row, col, value: sheet.write_string(row, col, value.hex())
    return lambda sheet, row, col, value: sheet.write_string(row, col, neutral_text(str(value)))
