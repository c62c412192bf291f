"""Odd inputs that once gave quiet wrong answers now give clear errors (issue 12)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import xlsxwriter

from recon.cli import main
from recon.errors import InputFileError
from recon.readers.tables import ReadOptions, scan_table
from recon.reports.safe import neutral_text, neutralize_formulas


def xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    for i, row in enumerate(rows):
        sheet.write_row(i, 0, row)
    book.close()
    return path


AMOUNT_SPEC = "name: s\nkeys: [id]\ncompare:\n  amount: {}\n"


def compare(
    tmp_path: Path, left: Path, right: Path, out: str, *options: str, spec: str = AMOUNT_SPEC
) -> int:
    """The exit code of ``recon compare`` of ``left`` and ``right`` into ``tmp_path / out``, under
    a spec of text ``spec`` (written to ``tmp_path / "spec.yaml"``)."""
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(spec)
    files = ["--left", str(left), "--right", str(right), "--out", str(tmp_path / out)]
    return main(["compare", "--spec", str(spec_file), *files, *options])


# item 5: two columns of the same name -------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "name", "positions"),
    [
        ("id,amount,status,amount", "amount", "2, 4"),
        ('"id";"amount";"id"', "id", "1, 3"),
        ("id\tamount\t amount ", "amount", "2, 3"),
    ],
    ids=["comma", "quoted-semicolon", "spaced-tab"],
)
def test_a_csv_naming_a_column_twice_is_refused_with_both_positions(
    tmp_path: Path, header: str, name: str, positions: str
) -> None:
    path = tmp_path / "twice.csv"
    delimiter = next(d for d in ",;\t" if d in header)
    path.write_text(header + "\n" + delimiter.join(["1"] * len(header.split(delimiter))) + "\n")
    with pytest.raises(InputFileError) as caught:
        scan_table(path).collect()
    message = str(caught.value)
    assert f"header names column `{name}` more than once, at positions {positions}" in message
    assert "rename one of them" in message


def test_an_xlsx_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "twice.xlsx", [["id", "amount", "status", "amount"], ["1", "2", "ok", "3"]]
    )
    with pytest.raises(InputFileError, match=r"column `amount` more than once, at positions 2, 4"):
        scan_table(path)


def test_an_xlsx_whose_columns_merely_look_numbered_is_read(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "fine.xlsx", [["id", "amount", "amount_1"], ["1", "2", "3"]])
    frame = scan_table(path).collect()
    assert frame.columns == ["id", "amount", "amount_1"]
    assert frame.row(0) == ("1", "2", "3")


def test_a_repeated_name_is_quoted_briefly(tmp_path: Path) -> None:
    long = "x" * 5000
    path = tmp_path / "long.csv"
    path.write_text(f"id,{long},{long}\n1,2,3\n")
    with pytest.raises(InputFileError) as caught:
        scan_table(path)
    assert len(str(caught.value)) < 400


# item 10: formula injection through a column name, and behind leading spaces ---------------


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        pytest.param("  =cmd|' /C calc'!A0", "'  =cmd|' /C calc'!A0", id="spaces-equals"),
        pytest.param(" +1", "' +1", id="space-plus"),
        pytest.param("\n@SUM(A1)", "'\n@SUM(A1)", id="newline-at"),
        pytest.param(" a=1", " a=1", id="space-then-text"),
    ],
)
def test_leading_spaces_do_not_hide_a_formula(text: str, safe: str) -> None:
    assert neutral_text(text) == safe
    frame = pl.LazyFrame({"text": [text]})
    assert neutralize_formulas(frame).collect()["text"].to_list() == [safe]


def test_a_key_column_named_like_a_formula_is_neutral_in_the_csv_header(tmp_path: Path) -> None:
    left, right = tmp_path / "l.csv", tmp_path / "r.csv"
    left.write_text('"=k()",note\n1,  =cmd()\n2,ok\n')
    right.write_text('"=k()",note\n1,fine\n3,ok\n')
    spec = "name: s\nkeys: ['=k()']\ncompare:\n  note: {}\n"
    assert compare(tmp_path, left, right, "out", "--reports", "csv,xlsx", "--quiet", spec=spec) == 0
    out = tmp_path / "out"
    header, *rows = (out / "breaks.csv").read_text().splitlines()
    assert header.split(",")[0] == "'=k()"
    assert any("'  =cmd()" in row for row in rows)
    book = openpyxl.load_workbook(out / "report.xlsx")
    cells = [c.value for sheet in book.worksheets[1:] for row in sheet.iter_rows() for c in row]
    assert "'  =cmd()" in cells and "  =cmd()" not in cells


# item 11: a workbook too large to read is refused before it is read ------------------------


def sparse_workbook(path: Path) -> Path:
    """10 KB on disk; its sheet declares A1:GS1048576 (calamine: 7.5 GB, 28 s to read)."""
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("data")
    sheet.write_row(0, 0, ["id", "amount"])
    sheet.write_row(1, 0, ["1", "2"])
    sheet.write(1_048_575, 200, "stray")
    book.close()
    return path


def without_dimension(source: Path, target: Path) -> Path:
    """The same workbook with the sheet's <dimension> element removed."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"<dimension [^>]*/>", b"", data)
            new.writestr(info, data)
    return target


def test_a_sheet_declaring_a_huge_range_is_refused_before_reading(tmp_path: Path) -> None:
    path = sparse_workbook(tmp_path / "sparse.xlsx")
    assert path.stat().st_size < 50_000
    with pytest.raises(InputFileError) as caught:
        scan_table(path, ReadOptions(sheet="data"))
    message = str(caught.value)
    assert "sheet `data` spans 1,048,576 rows x 201 columns (210,763,776 cells" in message
    assert "--max-xlsx-cells" in message


def test_a_sheet_without_a_declared_range_is_measured_by_its_cells(tmp_path: Path) -> None:
    path = without_dimension(sparse_workbook(tmp_path / "a.xlsx"), tmp_path / "b.xlsx")
    with pytest.raises(InputFileError, match=r"the first sheet spans 1,048,576 rows x 201"):
        scan_table(path)


def test_the_limits_are_options(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "small.xlsx", [["id", "amount"], *[[str(i), "1"] for i in range(50)]])
    assert scan_table(path).collect().height == 50  # 51 x 2 cells: under the default
    with pytest.raises(InputFileError, match=r"spans 51 rows x 2 columns \(102 cells, limit 100\)"):
        scan_table(path, ReadOptions(max_xlsx_cells=100))
    with pytest.raises(InputFileError, match=r"unzips to .* MB of sheets \(limit 0 MB\)"):
        scan_table(path, ReadOptions(max_xlsx_bytes=10))


def test_recon_compare_refuses_it_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    right = tmp_path / "r.csv"
    right.write_text("id,amount\n1,2\n")
    left = sparse_workbook(tmp_path / "l.xlsx")
    assert compare(tmp_path, left, right, "out") == 2
    assert "210,763,776 cells, limit 30,000,000" in capsys.readouterr().err
    # a genuine large sheet is read once the limit is raised on purpose (a small one here)
    small = xlsx(tmp_path / "small.xlsx", [["id", "amount"], ["1", "2"]])
    assert compare(tmp_path, small, right, "o2", "--max-xlsx-cells", "3") == 2
    options = ["--max-xlsx-cells", "4", "--reports", "none", "--quiet"]
    assert compare(tmp_path, small, right, "o3", *options) == 0


# item 9: messages that say what is really wrong ---------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b'id,amount\n1,"2\n3,4\n', 'a quote (") opened on line 2 is never closed',
                     id="unclosed-at-end"),
        pytest.param(b'id,amount\n1,"2\n3,4\n5,"6",7\n', "runs on to line 4",
                     id="unclosed-midway"),
        pytest.param(b"id,amount\r1,2\r3,4\r", "its lines end in CR alone", id="cr-only"),
        pytest.param("id,amount\n1,2\n".encode("utf-16"), "looks like UTF-16 text (a byte-order mark)",
                     id="utf-16-bom"),
        pytest.param("id,amount\n1,2\n".encode("utf-16-le"),
                     "looks like UTF-16 text (NUL bytes between letters)", id="utf-16-no-bom"),
    ],
)  # fmt: skip
def test_a_csv_problem_is_named_for_what_it_is(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as caught:
        scan_table(path, ReadOptions(encoding_option="--left-encoding")).collect()
    assert expected in str(caught.value)
    assert "no data rows" not in str(caught.value)


def test_utf_16_reads_once_named(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes("id,amount\n1,2\n".encode("utf-16"))
    frame = scan_table(path, ReadOptions(encoding="utf-16")).collect()
    assert frame.rows() == [("1", "2")]


def test_a_quoted_value_over_several_lines_is_still_fine(tmp_path: Path) -> None:
    path = tmp_path / "fine.csv"
    path.write_text('id,note\n1,"a\nb"\n2,"x ""q"" y"\n')
    assert scan_table(path).collect()["note"].to_list() == ["a\nb", 'x "q" y']


def test_a_parquet_column_of_lists_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    left, right = tmp_path / "l.parquet", tmp_path / "r.parquet"
    pl.DataFrame({"id": ["1"], "amount": [[1, 2]]}).write_parquet(left)
    pl.DataFrame({"id": ["1"], "amount": [1.0]}).write_parquet(right)
    assert compare(tmp_path, left, right, "o") == 2
    assert "l.parquet, column `amount`: holds list values (List(Int64))" in capsys.readouterr().err


def test_a_ten_megabyte_header_is_not_echoed_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    left = tmp_path / "wide.csv"
    left.write_text("id," + "x" * 10_000_000 + "\n1,2\n")
    right = tmp_path / "r.csv"
    right.write_text("id,amount\n1,2\n")
    assert compare(tmp_path, left, right, "o") == 2
    err = capsys.readouterr().err
    assert "no column `amount`" in err and len(err) < 2000
