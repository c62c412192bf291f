"""Refuse a workbook too large to read before reading it (an XLSX is a zip of XML).

The XLSX reader (calamine) holds a sheet as a dense grid of its used range: a 10 KB file whose
sheet declares ``A1:GS1048576`` took 7.5 GB and 28 s here, and a small file can unzip to
gigabytes of XML. So before a sheet is read, its declared dimension (or, when the sheet does
not declare one, the furthest cell it names) must stay under a cell limit, and the sheets and
shared strings under an uncompressed-size limit; both are options (``--max-xlsx-cells``,
``--max-xlsx-bytes``).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import Final
from xml.etree import ElementTree

from recon.errors import InputFileError

MAX_CELLS: Final = 30_000_000  # 1M rows of 30 columns
MAX_BYTES: Final = 2 * 1024**3  # uncompressed sheets and shared strings
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?r="([A-Z]+)(\d+)"')
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_HEAD = 64 * 1024  # the dimension element sits near the top of a sheet's XML


def check_xlsx_size(
    path: Path, sheet: str | None, *, max_cells: int = MAX_CELLS, max_bytes: int = MAX_BYTES
) -> None:
    """Raise ``InputFileError`` if the workbook or its sheet passes a limit; a file that is not
    a readable workbook is left to the reader, whose message says why."""
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return
    with book:
        parts = [
            info
            for info in book.infolist()
            if info.filename.startswith("xl/worksheets/") or info.filename == "xl/sharedStrings.xml"
        ]
        unzipped = sum(info.file_size for info in parts)
        if unzipped > max_bytes:
            raise InputFileError(
                str(path),
                f"the workbook unzips to {unzipped / 1024**2:,.0f} MB of sheets "
                f"(limit {max_bytes / 1024**2:,.0f} MB)",
                hint="export it as CSV or Parquet, or raise --max-xlsx-bytes if it is genuine",
            )
        part = _sheet_part(book, sheet)
        if part is None:
            return
        rows, columns = _extent(book, part)
    if rows * columns > max_cells:
        raise InputFileError(
            str(path),
            f"{f'sheet `{sheet}`' if sheet else 'the first sheet'} spans {rows:,} rows x "
            f"{columns:,} columns "
            f"({rows * columns:,} cells, limit {max_cells:,}), which the reader would hold at once",
            hint="export it as CSV or Parquet, delete the stray cells far below or right of "
            "the data, or raise --max-xlsx-cells if it is genuine",
        )


def _sheet_part(book: zipfile.ZipFile, sheet: str | None) -> str | None:
    """The zip member holding ``sheet`` (the first sheet when None)."""
    try:
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return None
    sheets = workbook.findall(f"{_MAIN}sheets/{_MAIN}sheet")
    chosen = next((s for s in sheets if sheet is None or s.get("name") == sheet), None)
    if chosen is None:
        return None  # an unknown sheet: the reader names the ones there are
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall(f"{_RELS}Relationship")}
    target = targets.get(chosen.get(_REL_ID), "")
    if not target:
        return None
    name = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
    return name if name in book.namelist() else None


def _extent(book: zipfile.ZipFile, part: str) -> tuple[int, int]:
    """(rows, columns) the sheet declares, or, when it declares none, that its cells reach."""
    with book.open(part) as xml:
        head = xml.read(_HEAD)
        found = _DIMENSION.search(head)
        if found is not None:
            first_col, first_row, last_col, last_row = found.groups()
            if last_col is None:
                return 1, 1
            rows = int(last_row) - int(first_row) + 1
            return rows, _column_number(last_col) - _column_number(first_col) + 1
        max_row = max_col = 0
        tail = b""
        chunk = head
        while chunk:
            text = tail + chunk
            for col, row in _CELL.findall(text):
                max_row = max(max_row, int(row))
                max_col = max(max_col, _column_number(col))
            tail = text[-256:]  # a cell reference cut by the chunk boundary
            chunk = xml.read(1024 * 1024)
    return max_row, max_col


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - ord("A") + 1
    return number


__all__ = ["MAX_BYTES", "MAX_CELLS", "check_xlsx_size"]
