"""report.xlsx's polars engine against the reference, xlsxwriter writing every cell."""

from __future__ import annotations

import datetime as dt
import errno
import io
import math
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from recon.errors import ReconError
from recon.reports.xlsx import write_xlsx
from recon.reports.xlsx_zip import ZipWriter

LONG = "x" * 40_000
TEXTS = [
    '=HYPERLINK("http://x")',
    "  =cmd()",
    "+1",
    "@SUM(A1)",
    "-2",
    "plain",
    "tab\tinside",
    "line\nbreak",
    "carriage\rreturn",
    "nul\x00and\x01bell\x07",
    "\x1f unit sep",
    "_x0041_ literal escape",
    "non\ufffechar\uffff",
    "<b>&amp; \"quotes\" 'single'</b>",
    " leading space",
    "trailing space ",
    "\u00a0nbsp edge\u3000",
    "unicode ünïcödé 日本語 🧾",
    LONG,
    "",
    None,
]
DAYS = [
    dt.date(2026, 11, 20),
    dt.date(1900, 1, 1),
    dt.date(1900, 2, 28),
    dt.date(1900, 3, 1),
    dt.date(1899, 12, 31),
    None,
]
MOMENTS = [
    dt.datetime(2026, 11, 20, 13, 45, 30, 123456),
    dt.datetime(1900, 1, 1, 12, 0),
    dt.datetime(1970, 1, 1),
    dt.datetime(1899, 12, 31, 23, 59, 59),
    None,
    dt.datetime(2000, 2, 29, 0, 0, 0, 1),
]
FLOATS = [0.1 + 0.2, float("nan"), float("inf"), float("-inf"), -0.0, 1e20, 1e-7, None, -5.0]
INTS = [2**53, -(2**53), 2**53 - 1, -(2**53) + 1, 0, None, -3, 2**62]


def cycle(values: list[Any], n: int) -> list[Any]:
    return [values[i % len(values)] for i in range(n)]


def varied_results(n: int = 42) -> pl.DataFrame:
    """Every dtype a results file can hold, nulls included, over three statuses."""
    statuses = cycle(["mismatched", "mismatched", "left_only", "right_only", "matched"], n)
    return pl.DataFrame(
        {
            "k": [f"{TEXTS[i % len(TEXTS)] or ''}#{i}" for i in range(n)],
            "status": statuses,
            "mismatched_fields": cycle([["amount"], ["amount", "name"], [], None], n),
            "left_amount": cycle(FLOATS, n),
            "right_amount": cycle(FLOATS[::-1], n),
            "left_name": cycle(TEXTS, n),
            "right_name": cycle(TEXTS[::-1], n),
            "left_count": cycle(INTS, n),
            "right_count": pl.Series(cycle(INTS, n)).abs().cast(pl.UInt64),
            "small": pl.Series(cycle([1, -2, None, 127], n), dtype=pl.Int8),
            "wide": pl.Series(cycle([2**40, None, -(2**31)], n), dtype=pl.Int64),
            "ratio": pl.Series(cycle([0.5, None, float("nan"), 1.25], n), dtype=pl.Float32),
            "money": pl.Series(cycle([Decimal("12.34"), None, Decimal("-0.01")], n)).cast(
                pl.Decimal(12, 2)
            ),
            "flag": cycle([True, False, None], n),
            "day": cycle(DAYS, n),
            "moment": cycle(MOMENTS, n),
            "moment_utc": pl.Series(cycle(MOMENTS, n)).dt.replace_time_zone("UTC"),
            "moment_ns": pl.Series(cycle(MOMENTS, n)).dt.cast_time_unit("ns"),
            "clock": cycle([dt.time(13, 45, 30, 500), dt.time(0, 0), None], n),
            "wait": cycle([dt.timedelta(days=1, hours=6), dt.timedelta(seconds=-90), None], n),
            "tag": pl.Series(cycle(["a", "b", None], n)).cast(pl.Categorical),
            "pair": cycle([{"x": 1, "y": "=z"}, None], n),
            "nothing": pl.Series([None] * n, dtype=pl.Null),
            "left_rows": pl.Series([1] * n, dtype=pl.UInt32),
            "right_rows": pl.Series([1] * n, dtype=pl.UInt32),
            "break_amount": cycle([10.0, 2.5, None, float("nan"), 10.0], n),
        }
    )


SUMMARY: dict[str, Any] = {
    "recon": "varied",
    "labels": {"left": "processor", "right": "ledger"},
    "keys": ["k"],
    "compare_fields": ["amount", "name", "count"],
}


def cells(path: Path) -> dict[str, list[list[tuple[Any, str, str]]]]:
    """Every sheet's cells as (value, data type, number format), row by row."""
    book = openpyxl.load_workbook(path)
    return {
        sheet.title: [
            [(cell.value, cell.data_type, cell.number_format) for cell in row]
            for row in sheet.iter_rows()
        ]
        for sheet in book.worksheets
    }


def same(new: Any, reference: Any) -> bool:
    """Equal, but numbers to 15 significant digits: xlsxwriter writes %.16G, which drops the
    17th digit that polars keeps (0.1 + 0.2 is 0.30000000000000004, not 0.3000000000000000)."""
    if isinstance(new, float) and isinstance(reference, float):
        return math.isclose(new, reference, rel_tol=1e-15) or new == reference
    if isinstance(new, dt.datetime) and isinstance(reference, dt.datetime):
        return abs(new - reference) <= dt.timedelta(milliseconds=1)
    return bool(new == reference)


def widths(sheet: Any) -> dict[int, float]:
    """Width per column number (xlsxwriter writes a run of equal columns as one range)."""
    return {
        column: dim.width
        for dim in sheet.column_dimensions.values()
        for column in range(dim.min, dim.max + 1)
    }


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, Path]:
    results = varied_results().lazy()
    options: dict[str, Any] = {"max_rows_per_sheet": 5, "batch_rows": 3}
    new = write_xlsx(results, SUMMARY, tmp_path / "polars.xlsx", **options)
    reference = write_xlsx(
        results, SUMMARY, tmp_path / "xlsxwriter.xlsx", engine="xlsxwriter", **options
    )
    return new, reference


def test_every_cell_is_the_reference_cell(written: tuple[Path, Path]) -> None:
    new, reference = (cells(path) for path in written)

    assert list(new) == list(reference)
    assert "mismatched (4)" in new and "processor only (2)" in new  # split over sheets
    for sheet, rows in reference.items():
        assert len(new[sheet]) == len(rows), sheet
        for number, (got, want) in enumerate(zip(new[sheet], rows, strict=True), start=1):
            assert len(got) == len(want), (sheet, number)
            for column, ((value, kind, fmt), (value_ref, kind_ref, fmt_ref)) in enumerate(
                zip(got, want, strict=True)
            ):
                where = (sheet, number, column, value_ref)
                assert same(value, value_ref), where
                assert (kind, fmt) == (kind_ref, fmt_ref), where


def test_the_sheets_keep_their_layout(written: tuple[Path, Path]) -> None:
    new, reference = (openpyxl.load_workbook(path) for path in written)

    for sheet, ref in zip(new.worksheets[1:], reference.worksheets[1:], strict=True):
        assert sheet.freeze_panes == ref.freeze_panes == "A2"
        assert sheet.auto_filter.ref == ref.auto_filter.ref
        assert sheet.dimensions == ref.dimensions
        assert widths(sheet) == widths(ref)
        assert all(cell.font.b for cell in sheet[1])
    assert new["Summary"]["A1"].value == "Reconciliation varied"


def test_values_are_what_a_reader_expects(written: tuple[Path, Path]) -> None:
    rows = []
    for sheet in openpyxl.load_workbook(written[0]).worksheets[1:]:
        header = [cell.value for cell in sheet[1]]
        rows += [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    texts = {row["k"].value for row in rows}
    counts = [row["processor count"] for row in rows if row.get("processor count")]
    counts = [cell for cell in counts if cell.value is not None]

    assert '\'=HYPERLINK("http://x")#0' in texts  # neutralised
    # Excel reads _xHHHH_ back as the character; openpyxl shows the escape as it is
    assert "nul_x0000_and_x0001_bell_x0007_#30" in texts
    assert "_x005F_x0041_ literal escape#11" in texts
    assert max(len(text) for text in texts) == 32_767  # Excel's cell limit, as xlsxwriter cuts
    assert {c.value for c in counts if c.data_type == "s"} >= {
        "9007199254740992",
        "-9007199254740992",
    }
    assert {c.number_format for c in counts if c.data_type == "n"} == {"#,##0"}
    assert {row["k"].number_format for row in rows} == {"General"}


def test_a_second_reader_opens_every_sheet(written: tuple[Path, Path]) -> None:
    sheets = pl.read_excel(written[0], sheet_id=0, infer_schema_length=0)
    reference = pl.read_excel(written[1], sheet_id=0, infer_schema_length=0)

    assert list(sheets) == list(reference)
    for name, frame in sheets.items():
        assert frame.shape == reference[name].shape, name


def test_markup_looking_text_stays_text(tmp_path: Path) -> None:
    """xlsxwriter's constant_memory mode writes a string like ``<r>...</r>`` as raw rich text;
    the polars engine escapes it like any other."""
    results = pl.LazyFrame(
        {"k": ["<r><t>run</t></r>", "</t></is></c>"], "status": ["left_only", "left_only"]}
    )
    path = write_xlsx(results, {"keys": ["k"]}, tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(path)["left only"]

    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == {
        "<r><t>run</t></r>",
        "</t></is></c>",
    }


def test_a_workbook_past_the_zip_limit_is_refused() -> None:
    with ZipWriter(io.BytesIO(), limit=100) as out, pytest.raises(ReconError, match="4 GiB"):
        out.write("xl/worksheets/sheet1.xml", bytes(range(256)) * 10)


class FullDisk(io.BytesIO):
    def write(self, data: Any) -> int:
        if self.tell() + len(data) > 64:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


def test_a_full_disk_is_an_os_error() -> None:
    with ZipWriter(FullDisk()) as out, pytest.raises(OSError, match="No space"):
        out.begin("big.xml")
        for _ in range(100):
            out.feed(bytes(range(256)))
        out.end()


def test_the_zip_is_what_zipfile_reads() -> None:
    file = io.BytesIO()
    with ZipWriter(file) as out:
        out.write("a.xml", b"<a/>")
        out.begin("b.xml")
        for chunk in (b"<b>", memoryview(b"x" * 100_000), b"</b>"):
            out.feed(chunk)
        out.end()
        out.close()
    with zipfile.ZipFile(file) as archive:
        assert archive.testzip() is None
        assert archive.read("b.xml") == b"<b>" + b"x" * 100_000 + b"</b>"


def test_an_unknown_engine_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReconError, match="polars, xlsxwriter"):
        write_xlsx(varied_results().lazy(), SUMMARY, tmp_path / "r.xlsx", engine="fast")  # type: ignore[arg-type]
