"""Opening inputs: encodings, BOMs, delimiters, sheets, and every way a file can be unusable."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from recon.engine.reconcile import compare_files
from recon.errors import InputFileError
from recon.readers.tables import ReadOptions, scan_table
from recon.spec import spec_from_dict

ROWS = [("id", "name", "amount"), ("1", "Café Zoë", "1.5"), ("2", "Straße", "2")]


def write_csv(path: Path, delimiter: str = ",", encoding: str = "utf-8") -> Path:
    text = "\n".join(delimiter.join(row) for row in ROWS) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def rows(frame: pl.LazyFrame) -> list[tuple[str, ...]]:
    return [tuple(r) for r in frame.collect().rows()]


@pytest.mark.parametrize(
    ("delimiter", "suffix"),
    [(";", ".csv"), ("\t", ".tsv"), ("|", ".txt")],
    ids=["semicolon", "tab", "pipe"],
)
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str, suffix: str) -> None:
    frame = scan_table(write_csv(tmp_path / f"in{suffix}", delimiter))
    assert frame.collect_schema().names() == ["id", "name", "amount"]
    assert rows(frame)[0] == ("1", "Café Zoë", "1.5")


def test_explicit_delimiter_wins_over_sniffing(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id;name, first;amount\n1;Zoë, A;1,5\n")  # more commas than semicolons
    frame = scan_table(path, ReadOptions(delimiter=";"))
    assert rows(frame) == [("1", "Zoë, A", "1,5")]


def test_ragged_line_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,name,amount\n1,Zoë,2\n2,Doe, John,3\n")
    other = tmp_path / "other.csv"
    other.write_text("id,name,amount\n1,Zoë,2\n")
    spec = spec_from_dict({"name": "t", "keys": ["id"], "compare": ["name"]})
    with pytest.raises(InputFileError) as info:
        compare_files(spec, other, path, tmp_path / "out", reports=())
    message = str(info.value)
    assert "in.csv, row 2: has 4 fields where the header has 3" in message
    assert "quote" in message


def test_utf8_bom_does_not_pollute_the_first_column_name(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = scan_table(path)
    assert frame.collect_schema().names()[0] == "id"
    assert rows(frame)[1] == ("2", "Straße", "2")


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-16"])
def test_other_encodings_are_transcoded(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "in.csv", encoding=encoding)
    assert rows(scan_table(path, ReadOptions(encoding=encoding)))[0][1] == "Café Zoë"


def test_wrong_encoding_names_the_row_byte_and_option(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", encoding="cp1252")
    with pytest.raises(InputFileError) as info:
        scan_table(path, ReadOptions(encoding_option="--left-encoding"))
    message = str(info.value)
    assert "in.csv, row 1: not valid utf-8 text: byte b'\\xe9'" in message
    assert "--left-encoding cp1252" in message


def test_unknown_encoding(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="unknown encoding `klingon`"):
        scan_table(write_csv(tmp_path / "in.csv"), ReadOptions(encoding="klingon"))


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "file is empty (0 bytes)"),
        (b"\n\n", "no header row"),
        (b"id,,amount\n1,x,2\n", "blank column name(s) at position [2]"),
        (b"id,amount\n", "has a header (id, amount) but no data rows"),
    ],
    ids=["empty", "blank-first-line", "blank-column-name", "header-only"],
)
def test_unusable_csv(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as info:
        scan_table(path)
    assert words in str(info.value)


def test_header_only_is_accepted_on_purpose(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,amount\n")
    assert scan_table(path, ReadOptions(allow_empty=True)).collect().height == 0


@pytest.mark.parametrize(
    ("name", "words"),
    [("in.json", "unsupported file type `.json`"), ("missing.csv", "file not found")],
)
def test_unsupported_or_missing(tmp_path: Path, name: str, words: str) -> None:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text("[]")
    with pytest.raises(InputFileError, match=words.replace("(", r"\(")):
        scan_table(path)


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "export.csv"
    folder.mkdir()
    with pytest.raises(InputFileError, match="is a directory, not a file"):
        scan_table(folder)


def test_truncated_parquet(tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    pl.DataFrame({"id": ["a", "b"], "amount": [1.0, 2.0]}).write_parquet(path)
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(InputFileError, match="not a readable Parquet file"):
        scan_table(path)


def test_xlsx_sheet_by_name_and_values_as_text(tmp_path: Path) -> None:
    path = tmp_path / "in.xlsx"
    import xlsxwriter

    with xlsxwriter.Workbook(path) as book:
        for sheet, value in (("Cover", "ignore me"), ("Data", 12.5)):
            ws = book.add_worksheet(sheet)
            ws.write_row(0, 0, ["id", "amount"])
            ws.write_row(1, 0, ["a", value])
    first = scan_table(path).collect()
    assert first["amount"].to_list() == ["ignore me"]
    data = scan_table(path, ReadOptions(sheet="Data")).collect()
    assert data.schema["amount"] == pl.String  # parsed later, so bad cells are reported by row
    assert float(data["amount"].item()) == 12.5


@pytest.mark.parametrize("rows_per_partition", [None, 10_000], ids=["in-memory", "partitioned"])
def test_ragged_line_deep_in_a_file_is_never_read_shifted(
    tmp_path: Path, rows_per_partition: int | None
) -> None:
    """The spec needs only id and name: polars would read `Doe`, but the file was checked
    row by row for its field count when it was opened (readers.csv_shape)."""
    path = tmp_path / "big.csv"
    body = "".join(f"{i},n{i},{i}.5\n" for i in range(50_000))
    path.write_text(f"id,name,amount\n{body}50000,Doe, John,3\n")
    other = tmp_path / "other.csv"
    other.write_text("id,name\n1,n1\n")
    spec = spec_from_dict({"name": "t", "keys": ["id"], "compare": ["name"]})
    with pytest.raises(InputFileError) as info:
        compare_files(
            spec, other, path, tmp_path / "out", reports=(), rows_per_partition=rows_per_partition
        )
    assert "big.csv, row 50001: has 4 fields where the header has 3" in str(info.value)
    assert not (tmp_path / "out" / "results.parquet").exists()
