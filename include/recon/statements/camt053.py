"""ISO 20022 camt.053 (BankToCustomerStatement), versions .02 to .08.

A document that declares a DTD at all (the carrier of XML bombs and external entities) is
refused before it is parsed: defusedxml reads the prolog and stops at the root element, as
banks never send a DTD. lxml then parses with entities never resolved, no DTD loaded and no
network, and its elements keep their source line, so every error names it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar, Final

from recon.errors import StatementFileError, first_line
from recon.statements.formats import StatementFormat
from recon.statements.schema import AMOUNT_SCALE, Statement, StatementLine

NAMESPACE: Final = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.{:02d}"
VERSIONS: Final = range(2, 9)
_NS_RE: Final = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})")
_OPENING: Final = ("OPBD", "PRCD")  # opening booked, or previous closing booked
_CLOSING: Final = ("CLBD",)

Element = Any  # lxml.etree._Element: lxml ships no type hints


class Camt053Format(StatementFormat):
    name: ClassVar[str] = "camt053"
    title: ClassVar[str] = "camt.053"
    suffixes: ClassVar[tuple[str, ...]] = (".xml",)

    def sniff(self, head: bytes) -> bool:
        return bool(_NS_RE.search(head)) or b"BkToCstmrStmt" in head

    def read(self, path: Path) -> list[Statement]:
        return read_camt053(path)


def read_camt053(path: Path) -> list[Statement]:
    """Every ``Stmt`` of a camt.053 document, in document order."""
    root = _parse(path)
    namespace = root.nsmap.get(root.prefix)
    version = _version(path, root, namespace)
    ns = {"c": NAMESPACE.format(version)}
    report = root.find("c:BkToCstmrStmt", ns)
    if report is None:
        raise _error(path, root, "has no BkToCstmrStmt (is it camt.052 or camt.054?)")
    statements = report.findall("c:Stmt", ns)
    if not statements:
        raise _error(path, report, "has no Stmt (statement)")
    return [_statement(path, stmt, _Finder(ns)) for stmt in statements]


class _RootReached(Exception):
    """The prolog is over: no DTD can follow."""


class _StopAtRoot:
    """An ElementTree parser target that ends the prolog check at the root element."""

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        raise _RootReached

    def end(self, tag: str) -> None:
        return None

    def data(self, data: str) -> None:
        return None

    def close(self) -> None:
        return None


def _refuse_dtd(path: Path) -> None:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    parser = DefusedXMLParser(target=_StopAtRoot(), forbid_dtd=True)
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(64 * 1024):
                parser.feed(chunk)
    except _RootReached:
        return
    except DefusedXmlException as exc:
        expat = getattr(parser, "parser", None)
        line = getattr(expat, "CurrentLineNumber", None)
        raise StatementFileError(
            str(path),
            f"declares a DTD ({type(exc).__name__}): refused, a camt.053 has none and a DTD's "
            "entities can expand without bound or read other files",
            line=line,
            text=_line_text(path, line),
            hint="ask the bank for the plain ISO 20022 export",
        ) from None
    except ParseError:
        return  # not well-formed: lxml says where


def _parse(path: Path) -> Element:
    from lxml import etree

    _refuse_dtd(path)

    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        tree = etree.parse(str(path), parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise StatementFileError(
            str(path),
            f"not well-formed XML ({first_line(exc)})",
            line=line,
            text=_line_text(path, line),
            hint="is the file truncated?",
        ) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise StatementFileError(
            str(path),
            "declares a DTD (<!DOCTYPE ...>): refused, a camt.053 has none and a DTD's entities "
            "can expand without bound or read other files",
            line=1,
            text=tree.docinfo.doctype or None,
            hint="ask the bank for the plain ISO 20022 export",
        )
    return tree.getroot()


def _line_text(path: Path, line: int | None) -> str | None:
    if not line:
        return None
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == line:
                return raw[:200].decode("utf-8", errors="replace")
    return None


def _version(path: Path, root: Element, namespace: str | None) -> int:
    match = _NS_RE.fullmatch((namespace or "").encode())
    if match is None or int(match[1]) not in VERSIONS:
        shown = f"namespace `{namespace}`" if namespace else "no namespace"
        raise _error(
            path,
            root,
            f"is not camt.053 .02 to .08 ({shown})",
            hint=f"expected {NAMESPACE.format(2)} ... {NAMESPACE.format(8)}",
        )
    return int(match[1])


class _Finder:
    """Namespaced look-ups, tolerant of the party nesting that changed in version .08."""

    def __init__(self, ns: dict[str, str]) -> None:
        self.ns = ns

    def path(self, steps: str) -> str:
        return "/".join(f"c:{step}" for step in steps.split("/"))

    def find(self, element: Element, steps: str) -> Element | None:
        return element.find(self.path(steps), self.ns)

    def all(self, element: Element, steps: str) -> list[Element]:
        return list(element.findall(self.path(steps), self.ns))

    def text(self, element: Element, *choices: str) -> str | None:
        for steps in choices:
            found = self.find(element, steps)
            if found is not None and found.text and found.text.strip():
                return str(found.text.strip())
        return None


def _statement(path: Path, stmt: Element, f: _Finder) -> Statement:
    statement_id = f.text(stmt, "Id")
    if statement_id is None:
        raise _error(path, stmt, "Stmt has no Id")
    account = f.text(stmt, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
    if account is None:
        raise _error(path, stmt, f"statement `{statement_id}` has no Acct/Id/IBAN or Othr/Id")
    balances = {f.text(b, "Tp/CdOrPrtry/Cd", "Tp/CdOrPrtry/Prtry"): b for b in f.all(stmt, "Bal")}
    opening = next((balances[c] for c in _OPENING if c in balances), None)
    closing = next((balances[c] for c in _CLOSING if c in balances), None)
    for what, balance in (("opening (OPBD)", opening), ("closing (CLBD)", closing)):
        if balance is None:
            raise _error(
                path,
                stmt,
                f"statement `{statement_id}` has no {what} balance",
                hint=f"its balances are {', '.join(str(c) for c in balances) or 'none'}",
            )
    assert opening is not None and closing is not None
    opening_amount, currency = _signed(path, opening, f)
    closing_amount, _ = _signed(path, closing, f)
    currency = f.text(stmt, "Acct/Ccy") or currency
    lines = tuple(line for entry in f.all(stmt, "Ntry") for line in _entry(path, entry, f))
    return Statement(
        account=account,
        statement_id=statement_id,
        currency=currency,
        opening_balance=opening_amount,
        closing_balance=closing_amount,
        opening_date=_date(path, opening, f, "Dt"),
        closing_date=_date(path, closing, f, "Dt"),
        lines=lines,
        format=Camt053Format.name,
        source=str(path),
        source_line=stmt.sourceline,
    )


def _entry(path: Path, entry: Element, f: _Finder) -> list[StatementLine]:
    amount, currency = _signed(path, entry, f)
    details = f.all(entry, "NtryDtls/TxDtls")
    # a batch entry splits into its transactions when each states its own amount (in the
    # entry's currency: a foreign instructed amount does not add up to the booking)
    own = [_own_amount(tx, f) for tx in details]
    if len(details) > 1 and all(o is not None and _currency(o, f) == currency for o in own):
        lines = []
        for tx, holder in zip(details, own, strict=True):
            signed, _ = _signed(path, holder, f, sign_from=tx if _has_sign(tx, f) else entry)
            lines.append(_line(path, entry, tx, signed, f, split=True))
        total = sum((line.amount for line in lines), Decimal(0))
        if total != amount:
            raise _error(
                path,
                entry,
                f"entry of {amount} splits into transactions summing to {total}",
                hint="the TxDtls amounts of a batch entry must add up to the entry's Amt",
            )
        return lines
    return [_line(path, entry, details[0] if details else None, amount, f, split=False)]


def _line(
    path: Path, entry: Element, tx: Element | None, amount: Decimal, f: _Finder, *, split: bool
) -> StatementLine:
    """One line: an entry with its (first) transaction, or one transaction of a split batch."""
    booking = _date(path, entry, f, "BookgDt")
    entry_ref = f.text(entry, "AcctSvcrRef", "NtryRef")
    tx_ref = f.text(tx, "Refs/AcctSvcrRef") if tx is not None else None
    return StatementLine(
        booking_date=booking,
        value_date=_date(path, entry, f, "ValDt", default=booking),
        amount=amount,
        bank_reference=(tx_ref or entry_ref) if split else (entry_ref or tx_ref),
        end_to_end_id=_reference(f.text(tx, "Refs/EndToEndId")) if tx is not None else None,
        counterparty=_counterparty(tx, f, credit=amount >= 0) if tx is not None else None,
        description=_description(tx, entry, f),
        reversal=(f.text(entry, "RvslInd") or "").lower() in ("true", "1"),
        transaction_code=_bank_transaction_code(entry, f),
        source_line=(tx if split and tx is not None else entry).sourceline,
    )


def _bank_transaction_code(entry: Element, f: _Finder) -> str | None:
    """``PMNT-RCDT-ESCT`` (domain, family, sub-family), else the proprietary code."""
    domain = [
        f.text(entry, "BkTxCd/Domn/Cd"),
        f.text(entry, "BkTxCd/Domn/Fmly/Cd"),
        f.text(entry, "BkTxCd/Domn/Fmly/SubFmlyCd"),
    ]
    if all(domain):
        return "-".join(str(part) for part in domain)
    return f.text(entry, "BkTxCd/Prtry/Cd")


def _currency(holder: Element, f: _Finder) -> str:
    amt = f.find(holder, "Amt")
    return str(amt.get("Ccy") or "") if amt is not None else ""


def _own_amount(tx: Element, f: _Finder) -> Element | None:
    """The element whose ``Amt`` is the transaction's own amount, if it states one."""
    if f.find(tx, "Amt") is not None:
        return tx
    return f.find(tx, "AmtDtls/TxAmt") if f.find(tx, "AmtDtls/TxAmt/Amt") is not None else None


def _has_sign(tx: Element, f: _Finder) -> bool:
    return f.find(tx, "CdtDbtInd") is not None


def _reference(value: str | None) -> str | None:
    return None if value is None or value.upper() == "NOTPROVIDED" else value


def _counterparty(tx: Element, f: _Finder, *, credit: bool) -> str | None:
    # money in comes from the debtor, money out goes to the creditor; .08 nests them in Pty
    party = "Dbtr" if credit else "Cdtr"
    return f.text(tx, f"RltdPties/{party}/Nm", f"RltdPties/{party}/Pty/Nm")


def _description(tx: Element | None, entry: Element, f: _Finder) -> str | None:
    if tx is not None:
        unstructured = [u.text.strip() for u in f.all(tx, "RmtInf/Ustrd") if u.text]
        if unstructured:
            return " ".join(unstructured)
        structured = f.text(tx, "RmtInf/Strd/CdtrRefInf/Ref", "AddtlTxInf")
        if structured:
            return structured
    return f.text(entry, "AddtlNtryInf")


def _signed(
    path: Path, holder: Element, f: _Finder, *, sign_from: Element | None = None
) -> tuple[Decimal, str]:
    """The holder's ``Amt``, signed by its ``CdtDbtInd`` (CRDT +, DBIT -), and its currency."""
    amt = f.find(holder, "Amt")
    if amt is None or not (amt.text or "").strip():
        raise _error(path, holder, f"{_tag(holder)} has no Amt")
    try:
        value = Decimal(amt.text.strip())
    except InvalidOperation:
        raise _error(path, amt, f"Amt `{amt.text.strip()}` is not a number") from None
    exponent = value.as_tuple().exponent
    if (
        not value.is_finite()
        or value < 0
        or (isinstance(exponent, int) and exponent < -AMOUNT_SCALE)
    ):
        raise _error(path, amt, f"Amt `{amt.text.strip()}` is not a positive amount")
    indicator = f.text(sign_from if sign_from is not None else holder, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise _error(
            path, holder, f"{_tag(holder)} has CdtDbtInd `{indicator}`", hint="CRDT or DBIT"
        )
    return (value if indicator == "CRDT" else -value), str(amt.get("Ccy") or "")


def _date(
    path: Path, holder: Element, f: _Finder, steps: str, default: dt.date | None = None
) -> dt.date:
    text = f.text(holder, f"{steps}/Dt", f"{steps}/DtTm", steps)
    if text is None:
        if default is not None:
            return default
        raise _error(path, holder, f"{_tag(holder)} has no {steps} date")
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise _error(path, holder, f"{_tag(holder)} {steps} `{text}` is not a date") from None


def _tag(element: Element) -> str:
    return str(element.tag).rpartition("}")[2]


def _error(
    path: Path, element: Element, reason: str, hint: str | None = None
) -> StatementFileError:
    return StatementFileError(str(path), reason, line=element.sourceline, hint=hint)
