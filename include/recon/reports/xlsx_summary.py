"""The Summary sheet of ``report.xlsx`` (figures, columns that differ, impact by currency) and
the workbook's formats."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from recon.reports.columns import schema_lines
from recon.reports.figures import Figure, currency_impacts
from recon.reports.safe import neutral_text

SUMMARY_SHEET: Final = "Summary"
COLUMNS_SECTION: Final = "Columns that differ"
CURRENCY_SECTION: Final = "Financial impact by currency"


class Formats:
    """The formats every sheet uses, added once to the workbook."""

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


def write_summary(
    book: Workbook, formats: Formats, summary: Mapping[str, Any], figures: Sequence[Figure]
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
    sheet: Worksheet, row: int, summary: Mapping[str, Any], formats: Formats
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
    sheet: Worksheet, row: int, col: int, value: Any, kind: str, formats: Formats
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
