"""Every CSV row must have the header's number of fields: a malformed export is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from recon.errors import InputFileError
from recon.readers import csv_shape
from recon.readers.csv_shape import check_field_counts
from recon.readers.tables import ReadOptions, scan_table


def check(tmp_path: Path, text: str, delimiter: str = ",", encoding: str = "utf-8") -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode(encoding))
    check_field_counts(path, None, delimiter)


@pytest.mark.parametrize(
    "text",
    [
        "id,name\n1,a\n2,b\n",
        "id,name\r\n1,a\r\n2,b\r\n",
        "id,name\n1,a\n2,b",  # no final newline
        "id,name\n1,a\n\n2,b\n",  # a blank line is a row of nulls, reported as invalid later
        'id,name\n1,"Doe, John"\n2,b\n',  # a quoted delimiter is data
        'id,name\n1,"two\nlines"\n2,b\n',  # so is a quoted newline
        "id,name\n1,\n2,b\n",  # an empty last field is a field
    ],
    ids=[
        "lf",
        "crlf",
        "no-final-newline",
        "blank-line",
        "quoted-delimiter",
        "quoted-newline",
        "empty-field",
    ],
)
def test_well_formed_files_pass(tmp_path: Path, text: str) -> None:
    check(tmp_path, text)


@pytest.mark.parametrize(
    ("text", "row", "fields", "hint"),
    [
        ("id,name,amount\n1,a,2\n2,b\n3,c,4\n", 2, 2, "a value is missing"),
        ("id,name,amount\n1,a,2\n2,Doe, John,3\n", 2, 4, "quote values that contain `,`"),
        ("id,name,amount\r\n1,a,2\r\n2,b\r\n", 2, 2, "a value is missing"),
        ('id,name,amount\n1,"Doe, J",2\n2,"b"\n', 2, 2, "a value is missing"),
        ('id,name,amount\n1,"x\ny",2\n2,b,3,4\n', 2, 4, "quote values"),
    ],
    ids=["short", "long", "short-crlf", "short-quoted-file", "long-after-quoted-newline"],
)
def test_malformed_rows_are_refused_with_their_row(
    tmp_path: Path, text: str, row: int, fields: int, hint: str
) -> None:
    with pytest.raises(InputFileError) as info:
        check(tmp_path, text)
    message = str(info.value)
    header = len(text.splitlines()[0].split(","))
    assert f"row {row}: has {fields} fields where the header has {header}" in message
    assert hint in message


def test_row_numbers_hold_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_shape, "CHUNK", 64)  # many chunks, each cut on a line boundary
    lines = [f"{i},name{i},{i}.5" for i in range(1, 500)]
    lines[376] = "377,short"
    with pytest.raises(InputFileError, match=r"row 377: has 2 fields where the header has 3"):
        check(tmp_path, "id,name,amount\n" + "\n".join(lines) + "\n")


def test_semicolon_files_count_semicolons(tmp_path: Path) -> None:
    check(tmp_path, "id;name\n1;a,b\n", delimiter=";")
    with pytest.raises(InputFileError, match="row 1: has 3 fields"):
        check(tmp_path, "id;name\n1;a;b\n", delimiter=";")


def test_transcoded_files_are_checked_too(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes("id,name\n1,Café\n2\n".encode("cp1252"))
    with pytest.raises(InputFileError, match="row 2: has 1 field where the header has 2"):
        scan_table(path, ReadOptions(encoding="cp1252"))


def test_quotes_in_a_later_chunk_hand_over_to_the_csv_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_shape, "CHUNK", 64)
    lines = [f"{i},name{i}" for i in range(1, 300)]
    lines[200] = '201,"Doe, J"'  # quoted delimiter: fine
    check(tmp_path, "id,name\n" + "\n".join(lines) + "\n")
    lines[250] = "251"
    with pytest.raises(InputFileError, match="row 251: has 1 field where the header has 2"):
        check(tmp_path, "id,name\n" + "\n".join(lines) + "\n")
