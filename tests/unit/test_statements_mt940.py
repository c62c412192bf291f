"""MT940: files written to the SWIFT layout read back as written; a published-style literal
sample; debit/credit marks incl. reversals; :86: continuations; corrupt files located."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from recon.errors import StatementFileError
from recon.statements import read_statement_file
from recon.statements.mt940 import joined_details
from worlds.statements import BankLine, BankStatement, sample_statements, write_mt940

# As the published examples look (SWIFT for corporates / a Dutch bank's export): two
# statements of one account, an entry date, a reversal, a multi-line :86:, an :86: about
# the account after :62F:.
LITERAL = """\
:20:STARTUMS
:25:NL69INGB0123456789
:28C:00049/001
:60F:C230101EUR12345,67
:61:2301020102D100,00NTRFNONREF//PAY-0001
:86:/EREF/INV-2023-001/NAME/Acme Office Supplies B.V./REMI/Invoice 20
23-0001 paper and toner
:61:2301030102C1250,50NMSCE2E-77//PAY-0002
/supplementary details
:86:Salary January
:61:2301030103RC50,00NCHGNONREF//PAY-0003
:86:Reversal of
incoming payment
:62F:C230103EUR13446,17
:86:Account holder information, not an entry
:20:STARTUMS
:25:NL69INGB0123456789
:28C:00050/001
:60F:C230103EUR13446,17
:61:230104RD10,00NTRFNONREF//PAY-0004
:62F:C230104EUR13456,17
"""


def write(tmp_path: Path, text: str, name: str = "bank.sta") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("envelope", [False, True], ids=["bare", "swift-envelope"])
def test_written_statements_read_back_as_written(tmp_path: Path, seed: int, envelope: bool) -> None:
    sample = sample_statements(seed, accounts=3, days=4)
    path = write(tmp_path, write_mt940(sample.statements, envelope=envelope))
    assert read_statement_file(path) == sample.expected_statements("mt940", str(path))


def test_published_style_literal_sample(tmp_path: Path) -> None:
    first, second = read_statement_file(write(tmp_path, LITERAL))
    assert (first.account, first.statement_id, first.currency) == (
        "NL69INGB0123456789",
        "00049/001",
        "EUR",
    )
    assert (first.opening_balance, first.closing_balance) == (
        Decimal("12345.67"),
        Decimal("13446.17"),
    )
    assert (first.opening_date, first.closing_date) == (dt.date(2023, 1, 1), dt.date(2023, 1, 3))
    paper, salary, reversal = first.lines
    assert paper.amount == Decimal("-100.00")
    assert (paper.booking_date, paper.value_date) == (dt.date(2023, 1, 2), dt.date(2023, 1, 2))
    assert paper.bank_reference == "PAY-0001"
    assert paper.end_to_end_id == "INV-2023-001"
    assert paper.counterparty == "Acme Office Supplies B.V."
    # a full 65-character :86: line is joined as it is: "20" + "23-0001"
    assert paper.description == "Invoice 2023-0001 paper and toner"
    assert paper.source_line == 5
    assert (salary.amount, salary.end_to_end_id, salary.description) == (
        Decimal("1250.50"),
        "E2E-77",
        "Salary January",
    )
    assert (salary.value_date, salary.booking_date) == (dt.date(2023, 1, 3), dt.date(2023, 1, 2))
    assert salary.transaction_code == "NMSC"
    # RC: a credit reversed takes money out; a short :86: line ended at a word
    assert (reversal.amount, reversal.reversal) == (Decimal("-50.00"), True)
    assert reversal.description == "Reversal of incoming payment"
    # the :86: after :62F: is about the account, not the last entry
    assert (second.statement_id, second.source_line) == ("00050/001", 16)
    (back,) = second.lines
    assert (back.amount, back.reversal, back.booking_date) == (
        Decimal("10.00"),
        True,
        dt.date(2023, 1, 4),
    )


def test_german_structured_details_are_read_by_the_package(tmp_path: Path) -> None:
    text = (
        ":20:STARTUMSE\n:25:10020030/1234567\n:28C:00001/001\n:60F:C240102EUR100,00\n"
        ":61:2401020102DR25,00NDDTNONREF\n"
        ":86:105?00SEPA-LASTSCHRIFT?20EREF+E2E-4711?21SVWZ+Strom Januar?30GENODEF1\n"
        "?31DE02100100109307118603?32Stadtwerke Musterstadt\n"
        ":62F:C240102EUR75,00\n"
    )
    (statement,) = read_statement_file(write(tmp_path, text))
    (line,) = statement.lines
    assert line.amount == Decimal("-25.00")
    assert line.end_to_end_id == "E2E-4711"
    assert line.counterparty == "Stadtwerke Musterstadt"
    assert line.description == "Strom Januar"


@pytest.mark.parametrize(
    ("mark", "amount", "reversal"),
    [("C", "12.34", False), ("D", "-12.34", False), ("RC", "-12.34", True), ("RD", "12.34", True)],
    ids=["credit", "debit", "reversal-of-credit", "reversal-of-debit"],
)
def test_debit_credit_marks_sign_the_amount(
    tmp_path: Path, mark: str, amount: str, reversal: bool
) -> None:
    closing = Decimal("100") + Decimal(amount)
    text = (
        ":20:REF\n:25:ACC1\n:28C:1/1\n:60F:C240102EUR100,00\n"
        f":61:240102{mark}12,34NTRFNONREF//B1\n"
        f":62F:{'C' if closing >= 0 else 'D'}240102EUR{abs(closing):.2f}\n".replace(".", ",")
    )
    (statement,) = read_statement_file(write(tmp_path, text))
    (line,) = statement.lines
    assert (line.amount, line.reversal) == (Decimal(amount), reversal)


def test_long_details_wrap_at_65_characters_and_join_back(tmp_path: Path) -> None:
    description = "x" * 64 + " " + "word " * 30 + "end"
    day = dt.date(2024, 5, 2)
    statement = BankStatement(
        account="ACC9",
        statement_id="00007/001",
        currency="EUR",
        opening_balance=Decimal("0"),
        opening_date=day,
        closing_date=day,
        lines=(BankLine(day, day, Decimal("1.00"), "B1", description=description),),
    )
    text = write_mt940([statement])
    details = [line for line in text.split("\r\n") if line and not line.startswith(":6")]
    assert all(len(line.removeprefix(":86:")) <= 65 for line in details)
    assert len(details) > 3  # :20:, :25:, :28C: and a wrapped :86:
    (read,) = read_statement_file(write(tmp_path, text))
    assert read.lines[0].description == description


def test_joined_details_rule() -> None:
    assert joined_details(["a" * 65, "b"]) == "a" * 65 + "b"
    assert joined_details(["short line", "next"]) == "short line next"


def test_corrupt_entry_names_file_line_and_text(tmp_path: Path) -> None:
    text = LITERAL.replace(":61:2301030102C1250,50", ":61:23010X0102C1250,50")
    path = write(tmp_path, text)
    with pytest.raises(StatementFileError) as caught:
        read_statement_file(path)
    error = caught.value
    assert (error.path, error.line) == (str(path), 8)
    message = str(error)
    assert "line 8" in message and "bank.sta" in message
    assert ":61:23010X0102C1250,50" in message
    assert "YYMMDD" in message  # the hint shows the layout


def test_corrupt_balance_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, LITERAL.replace(":60F:C230103EUR13446,17", ":60F:X230103EUR13446,17"))
    with pytest.raises(StatementFileError, match=r"line 19.*:60F:"):
        read_statement_file(path)


def test_truncated_file_says_closing_balance_missing(tmp_path: Path) -> None:
    cut = LITERAL[: LITERAL.index(":62F:C230104")]
    with pytest.raises(StatementFileError) as caught:
        read_statement_file(write(tmp_path, cut))
    assert caught.value.line == 20
    assert "00050/001" in str(caught.value)
    assert ":62F:" in str(caught.value) and "truncated" in str(caught.value)


def test_text_before_the_first_tag_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StatementFileError, match=r"line 1: text outside any MT940 tag"):
        read_statement_file(write(tmp_path, "hello\n" + LITERAL))


def test_cp1252_bytes_are_read(tmp_path: Path) -> None:
    path = tmp_path / "latin.sta"
    path.write_bytes(LITERAL.replace("Salary January", "Gehalt März").encode("cp1252"))
    first, _ = read_statement_file(path)
    assert first.lines[1].description == "Gehalt März"
