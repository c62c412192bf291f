"""BAI2: written files read back; a literal sample as bank guides print them (88 lines, funds
types, two groups, a zero-decimal currency); control totals, record counts and truncation."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from recon.errors import StatementFileError
from recon.statements import Statement, read_statement_file
from worlds.statements import sample_statements, write_bai2

LITERAL = """\
01,122099999,123456789,240301,0200,1,80,10,2/
02,123456789,122099999,1,240229,2400,USD,2/
03,0123456789,USD,010,500000,,,015,440000,,/
16,195,100000,V,240228,,WIRE123,CUST1,INCOMING WIRE FROM
88,ACME CORP
16,475,60000,0,CHK1001,,CHECK PAID
16,455,100000,S,50000,50000,0,ACH77,,PREAUTHORIZED DEBIT
49,1200000,6/
98,1200000,1,8/
02,123456789,122099999,1,240301,2400,USD,2/
03,9876543210,JPY,010,1000000,,,015,1050000,,/
16,142,50000,Z,ACH1,,ACH CREDIT
49,2100000,3/
98,2100000,1,5/
99,3300000,2,15/
"""


def write(tmp_path: Path, text: str, name: str = "cash.bai") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="ascii")
    return path


def comparable(statements: list[Statement]) -> list[Statement]:
    """Sorted by key, without the drawn type codes (the writer picks one per line)."""
    return sorted(
        (
            replace(s, lines=tuple(replace(x, transaction_code=None) for x in s.lines))
            for s in statements
        ),
        key=lambda s: s.key,
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_written_files_read_back_as_written(tmp_path: Path, seed: int) -> None:
    sample = sample_statements(seed, accounts=3, days=3, currency="USD")
    text = write_bai2(sample.statements, seed=seed)
    assert any(line.startswith("88,") for line in text.splitlines())
    path = write(tmp_path, text)
    assert comparable(read_statement_file(path)) == comparable(
        sample.expected_statements("bai2", str(path))
    )


def test_literal_sample(tmp_path: Path) -> None:
    usd, jpy = read_statement_file(write(tmp_path, LITERAL))
    assert (usd.account, usd.statement_id, usd.currency) == ("0123456789", "2024-02-29", "USD")
    assert (usd.opening_balance, usd.closing_balance) == (Decimal("5000.00"), Decimal("4400.00"))
    assert usd.opening_date == usd.closing_date == dt.date(2024, 2, 29)
    wire, check, ach = usd.lines
    assert (wire.amount, wire.transaction_code, wire.source_line) == (Decimal("1000.00"), "195", 4)
    assert wire.description == "INCOMING WIRE FROM ACME CORP"  # the 88 line joined
    assert (wire.bank_reference, wire.end_to_end_id) == ("WIRE123", "CUST1")
    assert (wire.booking_date, wire.value_date) == (dt.date(2024, 2, 29), dt.date(2024, 2, 28))
    assert (check.amount, check.bank_reference, check.description) == (
        Decimal("-600.00"),
        "CHK1001",
        "CHECK PAID",
    )
    assert (ach.amount, ach.value_date) == (Decimal("-1000.00"), dt.date(2024, 2, 29))
    # JPY has no minor unit: 1000000 is a million yen
    assert (jpy.opening_balance, jpy.closing_balance) == (Decimal(1000000), Decimal(1050000))
    assert jpy.lines[0].amount == Decimal(50000)
    assert jpy.statement_id == "2024-03-01"


def test_reversal_type_codes_are_flagged(tmp_path: Path) -> None:
    text = LITERAL.replace("16,475,60000,0,CHK1001", "16,552,60000,0,CHK1001")
    check = read_statement_file(write(tmp_path, text))[0].lines[1]
    assert (check.amount, check.reversal) == (Decimal("-600.00"), True)


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("49,1200000,6/", "49,1200001,6/", 8, "account control total"),
        ("49,1200000,6/", "49,1200000,7/", 8, "number of records"),
        ("98,1200000,1,8/", "98,1200000,1,9/", 9, "number of records"),
        ("99,3300000,2,15/", "99,3300000,3,15/", 15, "number of groups"),
        ("16,142,50000,Z", "16,142,5OOOO,Z", 12, "unreadable transaction detail"),
        ("16,142,50000,Z", "16,010,50000,Z", 12, "010 (Opening Ledger) is not a credit or a debit"),
        ("16,142,50000,Z", "16,777,50000,Z", 12, "Type code '777'"),
        ("88,ACME CORP", "XX,ACME CORP", 5, "not a BAI2 record"),
        ("49,2100000,3/\n", "", 13, "group trailer (98) where transaction detail (16)"),
    ],
    ids=[
        "account-total",
        "account-records",
        "group-records",
        "file-groups",
        "bad-amount",
        "status-code-as-detail",
        "unknown-type-code",
        "bad-record-code",
        "missing-account-trailer",
    ],
)
def test_corrupt_file_names_file_and_line(
    tmp_path: Path, old: str, new: str, line: int, words: str
) -> None:
    assert old in LITERAL
    path = write(tmp_path, LITERAL.replace(old, new, 1))
    with pytest.raises(StatementFileError) as caught:
        read_statement_file(path)
    assert (caught.value.path, caught.value.line) == (str(path), line), str(caught.value)
    assert words in str(caught.value)
    assert f"cash.bai, line {line}" in str(caught.value)


def test_truncated_file_is_refused_without_hanging(tmp_path: Path) -> None:
    # the package loops for ever on a file cut after a 16 record: the grammar check stops it
    cut = "".join(LITERAL.splitlines(keepends=True)[:7])
    with pytest.raises(StatementFileError) as caught:
        read_statement_file(write(tmp_path, cut))
    assert caught.value.line == 7
    assert "without the 99 file trailer" in str(caught.value)
    assert "truncated" in str(caught.value)


def test_missing_closing_balance_names_the_account(tmp_path: Path) -> None:
    text = LITERAL.replace(",015,440000,,/", "/").replace("1200000,", "760000,")
    text = text.replace("99,3300000", "99,2860000")
    with pytest.raises(StatementFileError) as caught:
        read_statement_file(write(tmp_path, text))
    assert caught.value.line == 3
    assert "account `0123456789` has no closing ledger balance (015)" in str(caught.value)
