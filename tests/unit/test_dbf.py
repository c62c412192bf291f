"""read_dbf against dbfread (the reference), its refusals, and write_dbf round trips.

Files are written with the ``dbf`` package (an independent writer) or with our ``write_dbf``;
dbfread reads them with a Decimal parser for N fields and strict text decoding.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import dbf
import dbfread
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from recon.errors import DbfError, InputFileError, SchemaError
from recon.readers import dbf_schema, read_dbf, scan_dbf
from worlds.dbf_write import write_dbf

DBASE_SPEC = "NAME C(20); AMT N(12,4); QTY N(8,0); RATE F(10,3); TRADED D; ACTIVE L"
DBASE_ROWS = [
    ("Zoë Müller", Decimal("1234.5678"), 42, 1.25, dt.date(2024, 3, 31), True),
    ("Straße €uro", Decimal("-0.0100"), -7, -3.5, dt.date(1999, 12, 31), False),
    ("", None, None, None, None, None),
    ("inner  space", Decimal("0"), 0, 0.0, dt.date(2000, 2, 29), None),
    ("deleted one", Decimal("1"), 1, 1.0, dt.date(2001, 1, 1), True),
]


class DecimalParser(dbfread.FieldParser):
    """dbfread returns floats for N fields; the exact value is a Decimal (an int at scale 0)."""

    def parseN(self, field: Any, data: bytes) -> Decimal | int | None:
        text = data.strip().decode("ascii")
        if not text:
            return None
        return int(text) if field.decimal_count == 0 else Decimal(text)


def reference(path: Path, **options: Any) -> list[dict[str, Any]]:
    options = {"parserclass": DecimalParser, "char_decode_errors": "strict", **options}
    table = dbfread.DBF(path, ignore_missing_memofile=True, **options)  # VFP's B is no memo
    return [{k: v for k, v in record.items() if k != "_NullFlags"} for record in table]


def write_with_dbf(
    path: Path,
    spec: str,
    rows: Iterable[tuple[Any, ...]],
    *,
    codepage: str = "cp1252",
    dbf_type: str = "db3",
    deleted: Sequence[int] = (),
) -> Path:
    table = dbf.Table(str(path), spec, codepage=codepage, dbf_type=dbf_type)
    table.open(dbf.READ_WRITE)
    try:
        for row in rows:
            table.append(row)
        for index in deleted:
            dbf.delete(table[index])
    finally:
        table.close()
    return path


def record_offset(path: Path, record: int, field_offset: int = 0) -> int:
    """Byte offset of a 1-based record (plus an offset inside it: 0 is the deletion flag)."""
    header = dbfread.DBF(path, ignore_missing_memofile=True).header
    return header.headerlen + (record - 1) * header.recordlen + field_offset


def patch(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


@pytest.fixture
def dbase_file(tmp_path: Path) -> Path:
    return write_with_dbf(tmp_path / "holdings.dbf", DBASE_SPEC, DBASE_ROWS, deleted=[4])


# --- agreement with dbfread ------------------------------------------------------------------


def test_dbase_types_match_dbfread(dbase_file: Path) -> None:
    frame = read_dbf(dbase_file)
    assert frame.rows(named=True) == reference(dbase_file)
    assert frame.schema == pl.Schema(
        {
            "NAME": pl.String(),
            "AMT": pl.Decimal(12, 4),
            "QTY": pl.Int64(),
            "RATE": pl.Float64(),
            "TRADED": pl.Date(),
            "ACTIVE": pl.Boolean(),
        }
    )


def test_values_nulls_and_deleted_records(dbase_file: Path) -> None:
    frame = read_dbf(dbase_file)
    assert frame.height == 4  # record 5 is deleted
    assert frame["NAME"].to_list() == ["Zoë Müller", "Straße €uro", "", "inner  space"]
    assert frame["AMT"].to_list() == [Decimal("1234.5678"), Decimal("-0.01"), None, Decimal(0)]
    assert frame.row(2) == ("", None, None, None, None, None)  # blanks are nulls (C: empty)


def test_columns_subset_in_requested_order(dbase_file: Path) -> None:
    frame = read_dbf(dbase_file, columns=["QTY", "NAME"])
    assert frame.columns == ["QTY", "NAME"]
    assert frame.rows() == [(r["QTY"], r["NAME"]) for r in reference(dbase_file)]


def test_empty_table_keeps_the_schema(tmp_path: Path) -> None:
    path = write_with_dbf(tmp_path / "empty.dbf", DBASE_SPEC, [])
    frame = read_dbf(path)
    assert frame.height == 0
    assert frame.schema == pl.Schema(dbf_schema(path))
    assert frame.schema["AMT"] == pl.Decimal(12, 4)


def test_all_records_deleted(tmp_path: Path) -> None:
    path = write_with_dbf(tmp_path / "gone.dbf", DBASE_SPEC, DBASE_ROWS[:2], deleted=[0, 1])
    assert read_dbf(path).height == 0 == len(reference(path))


def test_visual_foxpro_types_match_dbfread(tmp_path: Path) -> None:
    spec = "NAME C(12); COUNT I; PRICE Y; STAMP T; RATIO B; AMT N(10,2); DAY D; OK L"
    rows = [
        ("café", 7, Decimal("12.3456"), dt.datetime(2024, 1, 2, 3, 4, 5, 678000), 2.5,
         Decimal("-3.10"), dt.date(2024, 1, 2), True),
        ("x", -2_000_000_000, Decimal("-922337203685477.5807"), dt.datetime(1970, 1, 1),
         -1e-300, None, None, False),
        ("", 0, Decimal(0), None, 0.0, None, None, None),
    ]  # fmt: skip
    path = write_with_dbf(tmp_path / "vfp.dbf", spec, rows, dbf_type="vfp")
    frame = read_dbf(path)
    assert frame.rows(named=True) == reference(path)
    assert frame.schema["COUNT"] == pl.Int32
    assert frame.schema["PRICE"] == pl.Decimal(19, 4)
    assert frame.schema["STAMP"] == pl.Datetime("ms")
    assert frame.schema["RATIO"] == pl.Float64
    assert frame["STAMP"].null_count() == 1  # Julian day 0


def test_visual_foxpro_null_flags(tmp_path: Path) -> None:
    """dbfread ignores _NullFlags (a null I comes back as 0): check against the dbf package."""
    spec = "NAME C(10) NULL; COUNT I NULL; AMT N(10,2) NULL; DAY D NULL; PLAIN C(3)"
    rows = [("x", 5, Decimal("3.10"), dt.date(2020, 1, 1), "a"), (dbf.Null,) * 4 + ("b",)]
    path = write_with_dbf(tmp_path / "nulls.dbf", spec, rows, dbf_type="vfp")
    frame = read_dbf(path)
    assert "_NullFlags" not in frame.columns
    assert frame.rows() == [("x", 5, Decimal("3.10"), dt.date(2020, 1, 1), "a"),
                            (None, None, None, None, "b")]  # fmt: skip
    assert reference(path)[1]["COUNT"] == 0  # what dbfread makes of it


@pytest.mark.parametrize(
    ("codepage", "language_byte"),
    [("cp1252", 0x03), ("cp437", 0x01), ("cp850", 0x02)],
    ids=["cp1252", "cp437", "cp850"],
)
def test_header_code_page_is_honoured(tmp_path: Path, codepage: str, language_byte: int) -> None:
    rows = [("Ünïcödé ß é",), ("plain",), ("Ça va?",)]
    path = write_with_dbf(tmp_path / "cp.dbf", "TEXT C(15)", rows, codepage=codepage)
    assert path.read_bytes()[29] == language_byte
    assert read_dbf(path)["TEXT"].to_list() == ["Ünïcödé ß é", "plain", "Ça va?"]
    assert read_dbf(path).rows(named=True) == reference(path)


def test_multibyte_code_page(tmp_path: Path) -> None:
    frame = pl.DataFrame({"NAME": ["日本語テキスト", "ｶﾀｶﾅ", "ascii"]})
    path = tmp_path / "sjis.dbf"
    write_dbf(path, frame, [("NAME", "C", 20, 0)], "cp932")
    assert_frame_equal(read_dbf(path), frame)
    assert read_dbf(path).rows(named=True) == reference(path)


def test_utf8_text_when_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "utf8.dbf"
    write_dbf(path, pl.DataFrame({"NAME": ["placeholder", "ascii"]}), [("NAME", "C", 12, 0)])
    patch(path, record_offset(path, 1, 1), "Zoë ₹".encode().ljust(11))
    assert read_dbf(path, encoding="utf-8")["NAME"].to_list() == ["Zoë ₹", "ascii"]
    assert read_dbf(path)["NAME"][0] == "ZoÃ« â‚¹"  # the header's cp1252, as dbfread


def test_encoding_argument_overrides_the_header(tmp_path: Path) -> None:
    frame = pl.DataFrame({"NAME": ["Société Générale"]})
    path = tmp_path / "mislabelled.dbf"
    write_dbf(path, frame, [("NAME", "C", 20, 0)], "cp1252")
    patch(path, 29, bytes([0x01]))  # now claims cp437
    assert read_dbf(path)["NAME"].to_list() == ["SociΘtΘ GΘnΘrale"]  # what cp437 says
    assert_frame_equal(read_dbf(path, encoding="cp1252"), frame)


# --- refusals --------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="file not found") as error:
        read_dbf(tmp_path / "nope.dbf")
    assert not isinstance(error.value, DbfError)


def test_truncated_mid_record(dbase_file: Path) -> None:
    cut = record_offset(dbase_file, 3) + 10
    dbase_file.write_bytes(dbase_file.read_bytes()[:cut])
    with pytest.raises(DbfError, match="truncated") as error:
        read_dbf(dbase_file)
    message = str(error.value)
    assert "declares 5 records but only 2 are complete" in message
    assert "record 3 is the first incomplete one" in message
    assert error.value.row == 3


def test_truncated_on_a_record_boundary(dbase_file: Path) -> None:
    dbase_file.write_bytes(dbase_file.read_bytes()[: record_offset(dbase_file, 4)])
    assert len(reference(dbase_file)) == 3  # dbfread silently returns fewer records
    with pytest.raises(DbfError, match="declares 5 records but only 3 are complete"):
        read_dbf(dbase_file)


def test_truncated_header(dbase_file: Path) -> None:
    dbase_file.write_bytes(dbase_file.read_bytes()[:20])
    with pytest.raises(DbfError, match="corrupt header"):
        read_dbf(dbase_file)


def test_schema_reads_only_the_header(dbase_file: Path) -> None:
    dbase_file.write_bytes(dbase_file.read_bytes()[: record_offset(dbase_file, 2)])
    assert dbf_schema(dbase_file)["AMT"] == pl.Decimal(12, 4)


def test_more_records_than_the_header_declares(dbase_file: Path) -> None:
    patch(dbase_file, 4, struct.pack("<L", 3))
    with pytest.raises(DbfError, match="declares 3 records but 2 more follow") as error:
        read_dbf(dbase_file)
    assert "stale" in str(error.value)


def test_wrong_record_length(dbase_file: Path) -> None:
    patch(dbase_file, 10, struct.pack("<H", 61))  # the fields need 60
    with pytest.raises(DbfError, match=r"corrupt header: record length 61 is not 1 \+ the sum"):
        read_dbf(dbase_file)


def test_header_without_fields(tmp_path: Path) -> None:
    path = tmp_path / "nofields.dbf"
    path.write_bytes(struct.pack("<BBBBLHH20x", 3, 124, 1, 1, 0, 33, 1) + b"\r\x1a")
    with pytest.raises(DbfError, match="corrupt header: it declares no fields"):
        read_dbf(path)


def test_corrupt_deletion_flag(dbase_file: Path) -> None:
    patch(dbase_file, record_offset(dbase_file, 2), b"X")
    with pytest.raises(DbfError, match="deletion flag b'X' is not") as error:
        read_dbf(dbase_file)
    assert error.value.row == 2
    assert "row 2" in str(error.value)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"   12a.5000", "is not a number"),
        (b"   1.23456 ", "has more decimals than its N(12,4) field declares"),
        (b"***********", "numeric overflow marker"),
        (b"    1.5E+03", "is not a number"),
        (b"   - 1.0000", "is not a number"),
    ],
    ids=["letter", "surplus-decimals", "overflow", "exponent", "split-sign"],
)
def test_bad_numeric_value(dbase_file: Path, raw: bytes, words: str) -> None:
    raw = raw.rjust(12)
    patch(dbase_file, record_offset(dbase_file, 2, 21), raw)  # AMT of record 2
    with pytest.raises(DbfError, match=re.escape(words)) as error:
        read_dbf(dbase_file)
    assert (error.value.row, error.value.column) == (2, "AMT")
    assert repr(raw) in str(error.value)
    assert error.value.hint


def test_bad_values_report_physical_record_numbers(dbase_file: Path) -> None:
    patch(dbase_file, record_offset(dbase_file, 1), b"*")  # delete record 1
    patch(dbase_file, record_offset(dbase_file, 4, 33), b"oops")  # QTY of record 4
    with pytest.raises(DbfError, match="QTY") as error:
        read_dbf(dbase_file)
    assert error.value.row == 4


def test_invalid_date(dbase_file: Path) -> None:
    patch(dbase_file, record_offset(dbase_file, 3, 51), b"20230230")
    with pytest.raises(DbfError, match="invalid date b'20230230'") as error:
        read_dbf(dbase_file)
    assert (error.value.row, error.value.column) == (3, "TRADED")


def test_invalid_logical(dbase_file: Path) -> None:
    patch(dbase_file, record_offset(dbase_file, 1, 59), b"X")
    with pytest.raises(DbfError, match="invalid logical value b'X'") as error:
        read_dbf(dbase_file)
    assert (error.value.row, error.value.column) == (1, "ACTIVE")


def test_text_invalid_for_the_declared_code_page(dbase_file: Path) -> None:
    patch(dbase_file, 29, b"\x00")  # no code page: dbfread (and we) then use ascii
    with pytest.raises(DbfError, match="not valid ascii") as error:
        read_dbf(dbase_file)
    assert (error.value.row, error.value.column) == (1, "NAME")
    assert "encoding='cp1252'" in str(error.value)
    assert read_dbf(dbase_file, encoding="cp1252")["NAME"][0] == "Zoë Müller"


def test_the_code_page_hint_names_the_callers_own_option(dbase_file: Path) -> None:
    """The command line says --left-encoding, not the Python argument (issue 12, item 9)."""
    patch(dbase_file, 29, b"\x00")
    with pytest.raises(DbfError) as error:
        read_dbf(dbase_file, encoding_option="--left-encoding")
    assert "e.g. --left-encoding cp1252" in str(error.value)
    assert "encoding='" not in str(error.value)


def test_random_bytes_are_not_a_dbf(tmp_path: Path) -> None:
    path = tmp_path / "noise.dbf"
    path.write_bytes(bytes([0x35, 0xE3, 0x10, 0x99]) + bytes(range(256)) * 20)
    with pytest.raises(DbfError) as error:
        read_dbf(path)
    message = str(error.value)
    assert "not a dBase file: its first byte 0x35 is no DBF version" in message
    assert "codec" not in message


def test_undecodable_field_names_say_so(dbase_file: Path) -> None:
    patch(dbase_file, 29, b"\x00")  # no code page: the names are decoded as ascii
    patch(dbase_file, 32, b"\xff\xfe")  # the first field descriptor's name
    with pytest.raises(DbfError, match="corrupt header: its field names are not text"):
        read_dbf(dbase_file)


def test_byte_undefined_in_the_code_page(dbase_file: Path) -> None:
    patch(dbase_file, record_offset(dbase_file, 2, 1), b"\x81")  # undefined in cp1252
    with pytest.raises(DbfError, match="not valid cp1252") as error:
        read_dbf(dbase_file)
    assert (error.value.row, error.value.column) == (2, "NAME")


def test_unknown_encoding(dbase_file: Path) -> None:
    with pytest.raises(DbfError, match="unknown encoding 'klingon'"):
        read_dbf(dbase_file, encoding="klingon")


def test_memo_field(tmp_path: Path) -> None:
    spec = "NAME C(5); NOTES M"
    path = write_with_dbf(tmp_path / "memo.dbf", spec, [("a", "long text")], dbf_type="db3")
    with pytest.raises(DbfError, match="memo fields are not supported") as error:
        read_dbf(path)
    assert error.value.column == "NOTES"
    assert read_dbf(path, columns=["NAME"])["NAME"].to_list() == ["a"]
    assert dbf_schema(path) == {"NAME": pl.String}


def test_unknown_column_suggests_the_right_one(dbase_file: Path) -> None:
    with pytest.raises(SchemaError, match="did you mean `NAME`") as error:
        read_dbf(dbase_file, columns=["NAME", "name", "QTYY", "NOPE"])
    assert {p.column for p in error.value.problems} == {"name", "QTYY", "NOPE"}
    assert "did you mean `QTY`" in str(error.value)


def test_column_requested_twice(dbase_file: Path) -> None:
    with pytest.raises(SchemaError, match="requested twice"):
        read_dbf(dbase_file, columns=["NAME", "NAME"])


# --- the lazy scan --------------------------------------------------------------------------


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 2 records, so the fixture's 5 records (one deleted) span three."""
    from recon.readers import dbf as dbf_module

    monkeypatch.setattr(dbf_module, "SCAN_BATCH", 2)


def test_scan_equals_read_in_any_projection(dbase_file: Path, small_batches: None) -> None:
    whole = read_dbf(dbase_file)
    scan = scan_dbf(dbase_file)
    assert scan.collect_schema() == whole.schema  # from the header, before any record is read
    assert_frame_equal(scan.collect(), whole)
    assert_frame_equal(scan.select("QTY", "NAME").collect(), whole.select("QTY", "NAME"))
    assert scan.select(pl.len()).collect().item() == whole.height
    assert_frame_equal(scan.head(3).collect(), whole.head(3))
    assert_frame_equal(scan.filter(pl.col("QTY") > 0).collect(), whole.filter(pl.col("QTY") > 0))
    assert_frame_equal(scan.collect(engine="streaming"), whole)  # the scan can be run again


def test_scan_names_the_physical_record_in_a_later_batch(
    dbase_file: Path, small_batches: None
) -> None:
    patch(dbase_file, record_offset(dbase_file, 1), b"*")  # delete record 1
    patch(dbase_file, record_offset(dbase_file, 4, 33), b"oops")  # QTY of record 4
    with pytest.raises(DbfError, match="QTY") as error:
        scan_dbf(dbase_file).select("QTY").collect()
    assert error.value.row == 4
    # a field the query does not use is not decoded, so it is not refused either
    assert scan_dbf(dbase_file).select("NAME").collect().height == 3


@pytest.mark.parametrize("budget, decodes", [(64 * 2**20, 2), (0, 4)], ids=["kept", "no-room"])
def test_scan_hands_a_decoded_field_to_the_next_query_once(
    dbase_file: Path,
    small_batches: None,
    monkeypatch: pytest.MonkeyPatch,
    budget: int,
    decodes: int,
) -> None:
    from recon.readers import dbf as dbf_module

    monkeypatch.setattr(dbf_module, "SCAN_CACHE_BYTES", budget)
    decoded: list[str] = []
    original = dbf_module._Records.frame

    def counting(self: Any, fields: Sequence[Any]) -> pl.DataFrame:
        decoded.extend(f.name for f in fields)
        return original(self, fields)

    monkeypatch.setattr(dbf_module._Records, "frame", counting)
    scan = scan_dbf(dbase_file)
    first = scan.select("NAME").collect()
    second = scan.select("NAME", "QTY").collect()
    third = scan.select("NAME").collect()
    # 4 live records in batches of 2: each decode of a field is 2 calls
    assert decoded.count("NAME") == 2 + decodes  # the second query took the first's NAME
    assert decoded.count("QTY") == 2
    whole = read_dbf(dbase_file)
    assert_frame_equal(first, whole.select("NAME"))
    assert_frame_equal(second, whole.select("NAME", "QTY"))
    assert_frame_equal(third, whole.select("NAME"))


def test_scan_refuses_at_open_what_read_refuses(dbase_file: Path, tmp_path: Path) -> None:
    with open(dbase_file, "r+b") as handle:
        handle.truncate(dbase_file.stat().st_size - 10)
    with pytest.raises(DbfError, match="truncated"):
        scan_dbf(dbase_file)
    memo = write_with_dbf(tmp_path / "memo.dbf", "NAME C(5); NOTES M", [("a", "x")], dbf_type="db3")
    with pytest.raises(DbfError, match="memo fields are not supported"):
        scan_dbf(memo)


# --- write_dbf -------------------------------------------------------------------------------

WRITE_FIELDS = [
    ("FOLIO_NO", "C", 15, 0),
    ("SCHEME", "C", 30, 0),
    ("UNITS", "N", 18, 4),
    ("COUNT", "N", 6, 0),
    ("NAV", "F", 12, 4),
    ("REP_DATE", "D", 8, 0),
    ("ACTIVE", "L", 1, 0),
]


def holdings() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "FOLIO_NO": ["1234567890/12", "  9/1", None, "ß€"],
            "SCHEME": ["Gilt Fund – Growth", "Liquid", "", "Zoë"],
            "UNITS": [Decimal("123.4560"), Decimal("-0.0001"), None, Decimal("99999999999.9999")],
            "COUNT": [1, -99999, None, 0],
            "NAV": [10.5, -1.25, None, 0.0],
            "REP_DATE": [dt.date(2024, 3, 31), dt.date(1900, 1, 1), None, dt.date(2099, 12, 31)],
            "ACTIVE": [True, False, None, True],
        },
        schema_overrides={"UNITS": pl.Decimal(18, 4)},
    )


def test_write_dbf_round_trips_through_dbfread_and_read_dbf(tmp_path: Path) -> None:
    path = tmp_path / "written.dbf"
    frame = holdings()
    write_dbf(path, frame, WRITE_FIELDS, deleted=[False, True, False, False])
    live = frame.filter(pl.Series([True, False, True, True]))
    expected = live.with_columns(pl.col("FOLIO_NO").fill_null(""))  # C has no null
    assert_frame_equal(read_dbf(path), expected, check_dtypes=False)
    assert read_dbf(path).rows(named=True) == reference(path)
    assert read_dbf(path).schema["COUNT"] == pl.Int64


def test_write_dbf_header(tmp_path: Path) -> None:
    path = tmp_path / "header.dbf"
    write_dbf(path, holdings().head(0), WRITE_FIELDS, "cp437", updated=dt.date(2024, 5, 6))
    table = dbfread.DBF(path)
    assert (table.header.dbversion, table.date, table.encoding) == (3, dt.date(2024, 5, 6), "cp437")
    assert [(f.name, f.type, f.length, f.decimal_count) for f in table.fields] == WRITE_FIELDS
    assert path.read_bytes()[-1:] == b"\x1a"


@pytest.mark.parametrize(
    ("frame", "fields", "words"),
    [
        (pl.DataFrame({"A": ["toolong"]}), [("A", "C", 3, 0)], "needs more than the field's 3"),
        (pl.DataFrame({"A": [123456]}), [("A", "N", 4, 0)], "row 1"),
        (
            pl.DataFrame({"A": [Decimal("1.234")]}, schema={"A": pl.Decimal(10, 3)}),
            [("A", "N", 10, 2)],
            "more than 2 decimals",
        ),
        (
            pl.DataFrame({"A": ["ok", "€"]}),
            [("A", "C", 3, 0)],
            "row 2: '€' cannot be encoded in ascii",
        ),
        (pl.DataFrame({"A": [1]}), [("B", "N", 3, 0)], "not a column"),
        (pl.DataFrame({"A": [1]}), [("A", "M", 10, 0)], "not one of C, N, F, D, L"),
        (pl.DataFrame({"A": [1]}), [("A", "N", 3, 2)], "do not fit"),
        (pl.DataFrame({"A?": [1]}), [("A?", "N", 3, 0)], "use ASCII letters"),
    ],
    ids=[
        "long-text",
        "wide-number",
        "surplus-decimals",
        "unencodable",
        "no-column",
        "memo",
        "decimals",
        "name",
    ],
)
def test_write_dbf_refuses(tmp_path: Path, frame: pl.DataFrame, fields: Any, words: str) -> None:
    encoding = "ascii" if "ascii" in words else "cp1252"
    with pytest.raises(ValueError, match=re.escape(words)):
        write_dbf(tmp_path / "bad.dbf", frame, fields, encoding)


# --- properties ------------------------------------------------------------------------------

CP1252_TEXT = st.text(
    st.characters(codec="cp1252", exclude_characters="\x00"),
    max_size=10,
)
AMOUNTS = st.decimals(min_value=-9_999_999, max_value=9_999_999, places=2, allow_nan=False)
DATES = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2199, 12, 31))
ROWS = st.lists(
    st.tuples(CP1252_TEXT, st.none() | AMOUNTS, st.none() | DATES, st.none() | st.booleans()),
    max_size=12,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS, deleted=st.sets(st.integers(0, 11), max_size=3))
def test_read_dbf_agrees_with_dbfread_on_dbf_package_files(
    rows: list[tuple[Any, ...]], deleted: set[int]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.dbf"
        spec = "TEXT C(10); AMOUNT N(11,2); DAY D; FLAG L"
        write_with_dbf(path, spec, rows, deleted=sorted(i for i in deleted if i < len(rows)))
        assert read_dbf(path).rows(named=True) == reference(path)


@settings(max_examples=60, deadline=None)
@given(rows=ROWS)
def test_write_dbf_then_read_dbf_is_identity(rows: list[tuple[Any, ...]]) -> None:
    schema = {
        "TEXT": pl.String(),
        "AMOUNT": pl.Decimal(11, 2),
        "DAY": pl.Date(),
        "FLAG": pl.Boolean(),
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    fields = [("TEXT", "C", 10, 0), ("AMOUNT", "N", 11, 2), ("DAY", "D", 8, 0), ("FLAG", "L", 1, 0)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.dbf"
        write_dbf(path, frame, fields)
        expected = frame.with_columns(pl.col("TEXT").str.strip_chars_end(" "))
        assert_frame_equal(read_dbf(path), expected)
        assert read_dbf(path).rows(named=True) == reference(path)
