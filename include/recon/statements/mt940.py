"""SWIFT MT940 customer statements, read with the ``mt-940`` package.

The package parses the tags; this module keeps what it does not: the physical line of every
tag (so a bad ``:61:`` is reported at its line), which ``:86:`` belongs to which ``:61:`` (the
package files an ``:86:`` after ``:62F:`` under the last entry), and how the ``:86:`` lines
wrap (a 65-character line is cut mid-text and joined as it is; a shorter one ended at a word).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Final

from recon.errors import StatementFileError, first_line
from recon.statements.formats import StatementFormat
from recon.statements.schema import AMOUNT_SCALE, Statement, StatementLine

_TAG: Final = re.compile(r"^:(?P<tag>\d{2}[A-Z]?|NS):(?P<rest>.*)$")
_DETAIL_WIDTH: Final = 65  # an :86: line holds 65 characters (SWIFT 6*65x)
# ING/Rabobank-style structured :86: (`/EREF/abc/NAME/Shop/REMI/invoice 7`)
_CODES: Final = ("EREF", "NAME", "REMI", "ORDP", "BENM", "IREF", "MARF", "CSID", "PREF", "CNTP")
_CODE: Final = re.compile(r"/(" + "|".join(_CODES) + r")/")
_OPENING: Final = ("60F", "60M", "60")
_CLOSING: Final = ("62F", "62M", "62")
_NO_REFERENCE: Final = {"", "NONREF"}


@dataclass
class _Tag:
    """One tag as it stands in the file: id, first physical line, and its text lines."""

    tag: str
    line: int
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def source(self) -> str:
        return f":{self.tag}:{self.text}"


class Mt940Format(StatementFormat):
    name: ClassVar[str] = "mt940"
    title: ClassVar[str] = "MT940"
    suffixes: ClassVar[tuple[str, ...]] = (".sta", ".mt940")

    def sniff(self, head: bytes) -> bool:
        text = head.decode("latin-1")
        return bool(re.search(r"(?m)^:20:", text)) and bool(re.search(r"(?m)^:(25|60[FM]?):", text))

    def read(self, path: Path) -> list[Statement]:
        return read_mt940(path)


def read_mt940(path: Path) -> list[Statement]:
    """Every statement (``:20:`` block) of an MT940 file, in file order."""
    text = _decode(path.read_bytes())
    blocks = _blocks(path, _tags(path, text))
    if not blocks:
        raise StatementFileError(
            str(path), "has no MT940 statement (no :20: tag)", line=1, hint="is it MT940?"
        )
    return [_statement(path, block) for block in blocks]


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # SWIFT text is Latin; never fail here
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _tags(path: Path, text: str) -> list[_Tag]:
    """The tags with their physical lines; SWIFT envelope lines (``{1:...}``, ``-}``) skipped."""
    tags: list[_Tag] = []
    current: _Tag | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("{") or stripped in ("-", "-}", "}"):
            current = None
            continue
        match = _TAG.match(line)
        if match:
            current = _Tag(match["tag"], number, [match["rest"]])
            tags.append(current)
        elif current is not None:
            current.lines.append(line)
        else:
            raise StatementFileError(
                str(path),
                "text outside any MT940 tag (a line must start with a tag such as :61:)",
                line=number,
                text=line,
                hint="is the file cut or two files joined?",
            )
    return tags


def _blocks(path: Path, tags: list[_Tag]) -> list[list[_Tag]]:
    blocks: list[list[_Tag]] = []
    for tag in tags:
        if tag.tag == "20":
            blocks.append([tag])
        elif not blocks:
            raise StatementFileError(
                str(path),
                f"tag :{tag.tag}: before the first :20: (a statement starts with :20:)",
                line=tag.line,
                text=tag.source(),
            )
        else:
            blocks[-1].append(tag)
    return blocks


def _options() -> Any:
    import mt940

    # the package logs each failed match at ERROR, pattern and all, on its way to raising:
    # the located StatementFileError says it once (the CLI's contract is one stderr line)
    logging.getLogger("mt940").setLevel(logging.CRITICAL)
    # signed reversals (RC is money out), lowercase marks, :86: of any length
    return mt940.Options(
        reversal_sign=True,
        case_insensitive_marks=True,
        unbounded_details=True,
        merge_keeps_values=True,
        applicant_iban=True,
    )


_PARSE_ERRORS: Final = (RuntimeError, ValueError, ArithmeticError, KeyError, TypeError, IndexError)


def _parse(path: Path, block: list[_Tag]) -> Any:
    """The package's parse of one statement; a failure is located at the tag that causes it."""
    import mt940

    try:
        return mt940.parse("\n".join(t.source() for t in block), options=_options())
    except _PARSE_ERRORS as exc:
        reason = first_line(exc)
    for tag in block:  # which tag fails on its own?
        try:
            mt940.parse(tag.source(), options=_options())
        except _PARSE_ERRORS as exc:
            raise StatementFileError(
                str(path),
                f"unreadable :{tag.tag}: ({_why(tag.tag, exc)})",
                line=tag.line,
                text=tag.source(),
                hint=_HINTS.get(tag.tag[:2], "compare it with the MT940 layout of the tag"),
            ) from None
    raise StatementFileError(
        str(path), f"unreadable statement ({reason})", line=block[0].line, text=block[0].source()
    )


_HINTS: Final = {
    "61": "a :61: reads YYMMDD[MMDD](C|D|RC|RD)amount type reference[//bank reference]",
    "60": "a balance reads (C|D)YYMMDD CCY amount, e.g. C240131EUR1000,00",
    "62": "a balance reads (C|D)YYMMDD CCY amount, e.g. C240131EUR1000,00",
    "28": "a statement number reads 5n[/5n], e.g. 00012/001",
}


def _why(tag: str, exc: BaseException) -> str:
    if isinstance(exc, RuntimeError):
        return "does not match the tag's layout"
    return first_line(exc)


def _statement(path: Path, block: list[_Tag]) -> Statement:
    parsed = _parse(path, block)
    data: dict[str, Any] = parsed.data
    by_tag = {t.tag: t for t in block}
    last = block[-1]
    account = (by_tag["25"].text.strip() if "25" in by_tag else "") or None
    number = by_tag.get("28C") or by_tag.get("28")
    statement_id = number.text.strip() if number else by_tag["20"].text.strip()
    if account is None:
        raise _missing(path, block, ":25: account", "every statement names its account")
    opening = next((data.get(s) for s in _BALANCE_SLUGS[0] if data.get(s)), None)
    closing = next((data.get(s) for s in _BALANCE_SLUGS[1] if data.get(s)), None)
    if not any(t in by_tag for t in _OPENING) or opening is None:
        raise _missing(path, block, ":60F:/:60M: opening balance", "is the statement cut?")
    if not any(t in by_tag for t in _CLOSING) or closing is None:
        raise StatementFileError(
            str(path),
            f"statement `{statement_id}` (from line {block[0].line}) has no :62F:/:62M: "
            "closing balance",
            line=last.line,
            text=last.source(),
            hint="is the file truncated?",
        )
    entries = [t for t in block if t.tag == "61"]
    if len(entries) != len(parsed.transactions):
        raise StatementFileError(
            str(path),
            f"{len(entries)} :61: lines but {len(parsed.transactions)} entries read",
            line=block[0].line,
        )
    details = _details_of(block)
    lines = tuple(
        _line(path, tag, txn.data, details.get(id(tag)))
        for tag, txn in zip(entries, parsed.transactions, strict=True)
    )
    currency = opening.amount.currency or closing.amount.currency or ""
    return Statement(
        account=account,
        statement_id=statement_id,
        currency=currency.upper(),
        opening_balance=_amount(path, opening.amount.amount, block[0]),
        closing_balance=_amount(path, closing.amount.amount, last),
        opening_date=_date(opening.date),
        closing_date=_date(closing.date),
        lines=lines,
        format=Mt940Format.name,
        source=str(path),
        source_line=block[0].line,
    )


_BALANCE_SLUGS: Final = (
    ("final_opening_balance", "intermediate_opening_balance", "opening_balance"),
    ("final_closing_balance", "intermediate_closing_balance", "closing_balance"),
)


def _missing(path: Path, block: list[_Tag], what: str, hint: str) -> StatementFileError:
    return StatementFileError(
        str(path),
        f"statement from line {block[0].line} has no {what}",
        line=block[0].line,
        text=block[0].source(),
        hint=hint,
    )


def _details_of(block: list[_Tag]) -> dict[int, _Tag]:
    """The :86: that directly follows each :61: (an :86: after :62F: is about the account)."""
    found: dict[int, _Tag] = {}
    for previous, tag in itertools.pairwise(block):
        if previous.tag == "61" and tag.tag == "86":
            found[id(previous)] = tag
    return found


def _line(path: Path, tag: _Tag, data: dict[str, Any], details: _Tag | None) -> StatementLine:
    mark = str(data.get("status") or "").upper()
    value_date = _date(data["date"])
    booking = data.get("entry_date")
    customer = (data.get("customer_reference") or "").strip()
    bank = (data.get("bank_reference") or "").strip()
    end_to_end, counterparty, description = _details(details, data) if details else (None,) * 3
    if end_to_end is None and customer.upper() not in _NO_REFERENCE:
        end_to_end = customer
    return StatementLine(
        booking_date=_date(booking) if booking else value_date,
        value_date=value_date,
        amount=_amount(path, data["amount"].amount, tag),
        bank_reference=bank or None,
        end_to_end_id=end_to_end,
        counterparty=counterparty,
        description=description,
        reversal=mark.startswith("R"),
        transaction_code=(data.get("id") or "").strip() or None,
        source_line=tag.line,
    )


def _details(tag: _Tag, data: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(end-to-end id, counterparty, description) of an :86:."""
    text = joined_details(tag.lines)
    if re.match(r"^\d{3}\?\d{2}", text):  # German ?-subfields: the package read them
        name = data.get("applicant_name") or data.get("recipient_name")
        return data.get("end_to_end_reference"), name, data.get("purpose") or text
    parts = _CODE.split(text)
    if len(parts) > 1 and not parts[0].strip("/ "):
        fields = {
            code: value.strip("/ ") for code, value in zip(parts[1::2], parts[2::2], strict=True)
        }
        return (
            fields.get("EREF") or None,
            fields.get("NAME") or None,
            fields.get("REMI") or text,
        )
    return None, None, text or None


def joined_details(lines: list[str]) -> str:
    """An :86:'s lines as one text: a full 65-character line was cut mid-text."""
    text = ""
    for index, line in enumerate(lines):
        if index and len(lines[index - 1]) < _DETAIL_WIDTH:
            text = text.rstrip() + " "
        text += line
    return text.strip()


def _date(value: dt.date) -> dt.date:
    return dt.date(value.year, value.month, value.day)


def _amount(path: Path, value: Decimal, tag: _Tag) -> Decimal:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -AMOUNT_SCALE:
        raise StatementFileError(
            str(path),
            f"amount {value} has more than {AMOUNT_SCALE} decimals",
            line=tag.line,
            text=tag.source(),
        )
    return value
