"""BAI2 cash-management files, read with the ``bai2`` package.

The record grammar (01 (02 (03 16* 49)+ 98)+ 99, each record continued by 88 lines) is checked
here first, with the line of every record: the package would loop for ever on a file cut after
a 16 record, and it names no line. The package then reads the fields and checks the control
totals and record counts of 49, 98 and 99. One account (03 ... 49) of one group is one
statement: its id is the group's as-of date, opening is the 010 ledger, closing the 015.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Final

from recon.errors import StatementFileError, first_line
from recon.statements.formats import StatementFormat
from recon.statements.schema import Statement, StatementLine

OPENING_LEDGER: Final = "010"
CLOSING_LEDGER: Final = "015"
_RECORD: Final = re.compile(r"^(01|02|03|16|49|88|98|99),")
_NAMES: Final = {
    "01": "file header",
    "02": "group header",
    "03": "account identifier",
    "16": "transaction detail",
    "49": "account trailer",
    "98": "group trailer",
    "99": "file trailer",
}
# what may follow each record (88 continuations are folded into their record first)
_NEXT: Final = {
    None: ("01",),
    "01": ("02",),
    "02": ("03",),
    "03": ("16", "49"),
    "16": ("16", "49"),
    "49": ("03", "98"),
    "98": ("02", "99"),
    "99": (),
}
# minor units of the amounts (implied decimals): ISO 4217, 2 unless listed
_DECIMALS: Final = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"), 0),
    **dict.fromkeys(("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
_REVERSAL: Final = re.compile(r"\breversal\b", re.IGNORECASE)


@dataclass(frozen=True)
class _Record:
    code: str
    line: int
    text: str  # its first physical line


class Bai2Format(StatementFormat):
    name: ClassVar[str] = "bai2"
    title: ClassVar[str] = "BAI2"
    suffixes: ClassVar[tuple[str, ...]] = (".bai", ".bai2")

    def sniff(self, head: bytes) -> bool:
        first = head.decode("latin-1").lstrip("\ufeff \r\n")
        return first.startswith("01,") and "\n02," in first.replace("\r\n", "\n")

    def read(self, path: Path) -> list[Statement]:
        return read_bai2(path)


def read_bai2(path: Path) -> list[Statement]:
    """Every account section of every group of a BAI2 file, in file order."""
    lines = _lines(path)
    records = _records(path, lines)
    parsed = _parse(path, [text for _, text in lines], records)
    details = iter([r for r in records if r.code == "16"])
    accounts = iter([r for r in records if r.code == "03"])
    statements = []
    for group in parsed.children:
        for account in group.children:
            statements.append(_statement(path, group.header, account, next(accounts), details))
    return statements


def _lines(path: Path) -> list[tuple[int, str]]:
    text = path.read_bytes().decode("latin-1").removeprefix("\ufeff")
    return [
        (number, line.strip())
        for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1)
        if line.strip()
    ]


def _records(path: Path, lines: list[tuple[int, str]]) -> list[_Record]:
    """The records in grammar order, or a located error naming what was expected."""
    records: list[_Record] = []
    previous: str | None = None
    for number, text in lines:
        match = _RECORD.match(text)
        if match is None:
            raise StatementFileError(
                str(path),
                "not a BAI2 record (a record starts with 01, 02, 03, 16, 49, 88, 98 or 99 and a "
                "comma)",
                line=number,
                text=text,
            )
        code = match[1]
        if code == "88":
            if previous is None or previous == "99":
                raise StatementFileError(
                    str(path), "88 continuation with no record to continue", line=number, text=text
                )
            continue
        if code not in _NEXT[previous]:
            raise StatementFileError(
                str(path),
                f"{_NAMES[code]} ({code}) where {_expected(previous)} belongs",
                line=number,
                text=text,
                hint="is a record missing, or two files joined?",
            )
        records.append(_Record(code, number, text))
        previous = code
    if previous != "99":
        last = records[-1] if records else None
        raise StatementFileError(
            str(path),
            f"ends without the 99 file trailer (after {_expected(previous)} was expected)",
            line=last.line if last else 1,
            text=last.text if last else None,
            hint="is the file truncated?",
        )
    return records


def _expected(previous: str | None) -> str:
    return " or ".join(f"{_NAMES[c]} ({c})" for c in _NEXT[previous]) or "nothing"


class _Count:
    """Which record the package is on, so its errors can be located."""

    index = -1


def _parse(path: Path, lines: list[str], records: list[_Record]) -> Any:
    from bai2.exceptions import IntegrityException, NotSupportedYetException, ParsingException
    from bai2.helpers import IteratorHelper
    from bai2.parsers import Bai2FileParser

    count = _Count()

    class CountingHelper(IteratorHelper):
        def advance(self) -> None:
            super().advance()
            count.index += 1

    try:
        return Bai2FileParser(CountingHelper(lines), check_integrity=True).parse()
    except IntegrityException as exc:
        reason = first_line(exc)
        trailer = {"Account": "49", "Group": "98", "Bai2File": "99"}
        code = next((c for word, c in trailer.items() if f"for {word}" in reason), "99")
        index = min(count.index, len(records) - 1)
        record = next(r for r in reversed(records[: index + 1]) if r.code == code)
        raise StatementFileError(
            str(path),
            f"{_NAMES[code]} does not agree with its records ({reason})",
            line=record.line,
            text=record.text,
            hint="control totals sum every amount, record counts include 88 lines",
        ) from None
    except (ParsingException, NotSupportedYetException, ValueError, IndexError) as exc:
        record = records[max(0, min(count.index, len(records) - 1))]
        raise StatementFileError(
            str(path),
            f"unreadable {_NAMES[record.code]} ({first_line(exc)})",
            line=record.line,
            text=record.text,
        ) from None


def _statement(
    path: Path, group: Any, account: Any, record: _Record, details: Iterator[_Record]
) -> Statement:
    header = account.header
    currency = (header.currency or group.currency or "USD").upper()
    as_of: dt.date = group.as_of_date
    balances = {s.type_code.code: s.amount for s in header.summary_items if s.type_code}
    number = header.customer_account_number
    for code, what in ((OPENING_LEDGER, "opening"), (CLOSING_LEDGER, "closing")):
        if balances.get(code) is None:
            raise StatementFileError(
                str(path),
                f"account `{number}` has no {what} ledger balance ({code})",
                line=record.line,
                text=record.text,
                hint="the 03 record carries 010 (opening) and 015 (closing) ledger balances",
            )
    lines = tuple(_line(path, d, next(details), as_of, currency) for d in account.children)
    return Statement(
        account=str(number),
        statement_id=as_of.isoformat(),
        currency=currency,
        opening_balance=_money(balances[OPENING_LEDGER], currency),
        closing_balance=_money(balances[CLOSING_LEDGER], currency),
        opening_date=as_of,
        closing_date=as_of,
        lines=lines,
        format=Bai2Format.name,
        source=str(path),
        source_line=record.line,
    )


def _line(path: Path, detail: Any, record: _Record, as_of: dt.date, currency: str) -> StatementLine:
    from bai2.constants import FundsType, TypeCodeTransaction

    code = detail.type_code
    if code.transaction not in (TypeCodeTransaction.credit, TypeCodeTransaction.debit):
        raise StatementFileError(
            str(path),
            f"type code {code.code} ({code.description}) is not a credit or a debit",
            line=record.line,
            text=record.text,
            hint="a 16 record books money: use a detail code of 100-399 (credit) or 400-699",
        )
    if detail.amount is None:
        raise StatementFileError(str(path), "16 record has no amount", line=record.line)
    amount = _money(detail.amount, currency)
    value_date = as_of
    if detail.funds_type == FundsType.value_dated and detail.availability:
        value_date = detail.availability.get("date") or as_of
    return StatementLine(
        booking_date=as_of,
        value_date=value_date,
        amount=amount if code.transaction == TypeCodeTransaction.credit else -amount,
        bank_reference=detail.bank_reference or None,
        end_to_end_id=detail.customer_reference or None,
        counterparty=None,
        description=(detail.text or "").strip() or None,
        reversal=bool(_REVERSAL.search(code.description)),
        transaction_code=code.code,
        source_line=record.line,
    )


def _money(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-_DECIMALS.get(currency, 2))


def minor_units(amount: Decimal, currency: str) -> int:
    """``amount`` in the currency's minor units, as BAI2 writes it."""
    return int(amount.scaleb(_DECIMALS.get(currency, 2)))
