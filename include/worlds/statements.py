"""Bank statements written to each format's published layout, with the truth kept.

``sample_statements`` draws several accounts with chained daily statements;
``write_mt940`` / ``write_camt053`` / ``write_bai2`` lay them out as a bank would (MT940
with :86: wrapped at 65 characters, camt.053 in the version's namespace, BAI2 with 88
continuations and the control totals and record counts of 49, 98 and 99), and
``expected_statements`` says what a reader must get back from each format.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Final
from xml.sax.saxutils import escape

from recon.statements.bai2 import minor_units
from recon.statements.schema import Statement, StatementLine

__all__ = [
    "BankLine",
    "BankStatement",
    "StatementSample",
    "expected_statements",
    "sample_statements",
    "write_bai2",
    "write_camt053",
    "write_mt940",
]

CAMT_NAMESPACE: Final = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.{:02d}"
MT940_WIDTH: Final = 65
BAI2_WIDTH: Final = 80  # physical record length


@dataclass(frozen=True)
class BankLine:
    """One entry; ``amount`` signed (credit +, debit -); ``reversal`` marks RC/RD."""

    booking_date: dt.date
    value_date: dt.date
    amount: Decimal
    bank_reference: str
    end_to_end_id: str | None = None
    counterparty: str | None = None
    description: str | None = None
    reversal: bool = False


@dataclass(frozen=True)
class BankStatement:
    """One statement; ``closing_balance`` is opening + lines unless set (to break it)."""

    account: str
    statement_id: str  # MT940 :28C: layout (00012/001) so every format can carry it
    currency: str
    opening_balance: Decimal
    opening_date: dt.date
    closing_date: dt.date
    lines: tuple[BankLine, ...] = ()
    closing_override: Decimal | None = field(default=None, repr=False)

    @property
    def closing_balance(self) -> Decimal:
        if self.closing_override is not None:
            return self.closing_override
        return self.opening_balance + sum((line.amount for line in self.lines), Decimal(0))


# -- MT940 -------------------------------------------------------------------------------


def _mt_date(day: dt.date) -> str:
    return day.strftime("%y%m%d")


def _mt_amount(value: Decimal) -> str:
    return f"{abs(value):.2f}".replace(".", ",")


def _mt_balance(value: Decimal, day: dt.date, currency: str) -> str:
    return f"{'C' if value >= 0 else 'D'}{_mt_date(day)}{currency}{_mt_amount(value)}"


def _wrapped(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def write_mt940(statements: Sequence[BankStatement], *, envelope: bool = False) -> str:
    """MT940 text: one :20: block per statement, CRLF line ends as SWIFT sends them."""
    out: list[str] = []
    for number, s in enumerate(statements, start=1):
        if envelope:
            out += ["{1:F01BANKDEFFXXXX0000000000}{2:O9400000000000BANKDEFFXXXX00000000000000N}{4:"]
        out += [
            f":20:STMT{number:06d}",
            f":25:{s.account}",
            f":28C:{s.statement_id}",
            f":60F:{_mt_balance(s.opening_balance, s.opening_date, s.currency)}",
        ]
        for line in s.lines:
            mark = ("R" if line.reversal else "") + ("C" if line.amount >= 0 else "D")
            if line.reversal:  # RC takes money out, RD puts it back
                mark = "RD" if line.amount >= 0 else "RC"
            e2e = line.end_to_end_id
            customer = e2e if e2e and len(e2e) <= 16 else "NONREF"
            out.append(
                f":61:{_mt_date(line.value_date)}{line.booking_date:%m%d}{mark}"
                f"{_mt_amount(line.amount)}NTRF{customer}//{line.bank_reference}"
            )
            details = "".join(
                f"/{code}/{value}"
                for code, value in (
                    ("EREF", e2e),
                    ("NAME", line.counterparty),
                    ("REMI", line.description),
                )
                if value
            )
            if details:
                chunks = _wrapped(details, MT940_WIDTH)
                out += [f":86:{chunks[0]}", *chunks[1:]]
        out.append(f":62F:{_mt_balance(s.closing_balance, s.closing_date, s.currency)}")
        if envelope:
            out.append("-}")
    return "\r\n".join(out) + "\r\n"


# -- camt.053 ----------------------------------------------------------------------------


def _camt_amount(value: Decimal, currency: str) -> str:
    return f'<Amt Ccy="{currency}">{abs(value):.2f}</Amt>'


def _camt_sign(value: Decimal) -> str:
    return f"<CdtDbtInd>{'CRDT' if value >= 0 else 'DBIT'}</CdtDbtInd>"


def _camt_balance(code: str, value: Decimal, day: dt.date, currency: str) -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>{_camt_amount(value, currency)}"
        f"{_camt_sign(value)}<Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>"
    )


def _party(name: str, version: int) -> str:
    inner = f"<Nm>{escape(name)}</Nm>"
    return f"<Pty>{inner}</Pty>" if version >= 8 else inner


def write_camt053(statements: Sequence[BankStatement], *, version: int = 2) -> bytes:
    """A camt.053.001.<version> document holding every statement as one Stmt."""
    body: list[str] = []
    for number, s in enumerate(statements, start=1):
        entries = []
        for line in s.lines:
            party = ""
            if line.counterparty:
                role = "Dbtr" if line.amount >= 0 else "Cdtr"
                party = (
                    f"<RltdPties><{role}>{_party(line.counterparty, version)}</{role}></RltdPties>"
                )
            remittance = (
                f"<RmtInf><Ustrd>{escape(line.description)}</Ustrd></RmtInf>"
                if line.description
                else ""
            )
            e2e = escape(line.end_to_end_id or "NOTPROVIDED")
            entries.append(
                f"<Ntry>{_camt_amount(line.amount, s.currency)}{_camt_sign(line.amount)}"
                + ("<RvslInd>true</RvslInd>" if line.reversal else "")
                + "<Sts>BOOK</Sts>"
                f"<BookgDt><Dt>{line.booking_date.isoformat()}</Dt></BookgDt>"
                f"<ValDt><Dt>{line.value_date.isoformat()}</Dt></ValDt>"
                f"<AcctSvcrRef>{escape(line.bank_reference)}</AcctSvcrRef>"
                "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd>"
                "</Fmly></Domn></BkTxCd>"
                f"<NtryDtls><TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>"
                f"{party}{remittance}</TxDtls></NtryDtls></Ntry>"
            )
        body.append(
            f"<Stmt><Id>{escape(s.statement_id)}</Id><ElctrncSeqNb>{number}</ElctrncSeqNb>"
            f"<CreDtTm>{s.closing_date.isoformat()}T18:00:00</CreDtTm>"
            f"<Acct><Id><IBAN>{escape(s.account)}</IBAN></Id><Ccy>{s.currency}</Ccy></Acct>"
            + _camt_balance("OPBD", s.opening_balance, s.opening_date, s.currency)
            + _camt_balance("CLBD", s.closing_balance, s.closing_date, s.currency)
            + "\n".join(entries)
            + "</Stmt>"
        )
    namespace = CAMT_NAMESPACE.format(version)
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="{namespace}">\n<BkToCstmrStmt>\n'
        "<GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2024-01-01T00:00:00</CreDtTm></GrpHdr>\n"
        + "\n".join(body)
        + "\n</BkToCstmrStmt>\n</Document>\n"
    )
    return document.encode("utf-8")


# -- BAI2 --------------------------------------------------------------------------------

_BAI_CREDIT: Final = ("195", "165", "142")
_BAI_DEBIT: Final = ("495", "455", "475")
_BAI_REVERSAL: Final = {True: "252", False: "552"}  # debit reversal (money in), credit reversal
_FUNDS: Final = ("0", "1", "2", "Z", "S", "D")


def _bai_fields(units: list[list[str]], *, text: str | None = None) -> list[str]:
    """A record's physical lines: a record ends in '/', a long one continues on 88 lines,
    cut only between units (an 03 summary's four fields stay together, as readers expect);
    a free-text last field is cut only at spaces (the reader joins its pieces with one)."""
    lines: list[str] = []
    current = ",".join(units[0])
    for unit in units[1:]:
        piece = "," + ",".join(unit)
        if len(current) + len(piece) + 1 > BAI2_WIDTH:
            lines.append(current + "/")
            current = "88" + piece
        else:
            current += piece
    if text is None:
        return [*lines, current + "/"]
    current += ","
    first = True
    for word in text.split(" "):
        piece = word if first else f" {word}"
        if not first and len(current) + len(piece) > BAI2_WIDTH:
            lines.append(current)
            current, piece = "88,", word
        current += piece
        first = False
    return [*lines, current]


def write_bai2(statements: Sequence[BankStatement], *, seed: int = 0) -> str:
    """A BAI2 file: one group per as-of date (the statement's closing date), one account
    section per statement; amounts in minor units, signs in the type codes."""
    rng = random.Random(seed)
    by_day: dict[dt.date, list[BankStatement]] = {}
    for s in statements:
        by_day.setdefault(s.closing_date, []).append(s)
    out = ["01,BANKUS33,CUSTOMER1,240101,0600,1,80,,2/"]
    file_total = 0
    for day, group in by_day.items():
        group_lines = [f"02,CUSTOMER1,BANKUS33,1,{day:%y%m%d},2400,USD,2/"]
        group_total = 0
        for s in group:
            ccy = s.currency
            credits = [line for line in s.lines if line.amount >= 0]
            debits = [line for line in s.lines if line.amount < 0]
            summaries = [
                (
                    "010",
                    minor_units(s.opening_balance, ccy),
                    "",
                ),
                ("015", minor_units(s.closing_balance, ccy), ""),
                ("100", sum(minor_units(x.amount, ccy) for x in credits), str(len(credits))),
                ("400", -sum(minor_units(x.amount, ccy) for x in debits), str(len(debits))),
            ]
            units = [["03", s.account, ccy]]
            units += [[code, str(amount), count, ""] for code, amount, count in summaries]
            account_lines = _bai_fields(units)
            account_total = sum(amount for _, amount, _ in summaries)
            for line in s.lines:
                amount = abs(minor_units(line.amount, ccy))
                account_total += amount
                if line.reversal:
                    code = _BAI_REVERSAL[line.amount >= 0]
                else:
                    code = rng.choice(_BAI_CREDIT if line.amount >= 0 else _BAI_DEBIT)
                if line.value_date != line.booking_date:
                    funds = ["V", f"{line.value_date:%y%m%d}", ""]
                else:
                    kind = rng.choice(_FUNDS)
                    funds = {
                        "S": ["S", str(amount), "0", "0"],
                        "D": ["D", "1", "0", str(amount)],
                    }.get(kind, [kind])
                detail = ["16", code, str(amount), *funds]
                refs = [line.bank_reference, line.end_to_end_id or ""]
                account_lines += _bai_fields([detail, refs], text=line.description or "")
            account_lines.append(f"49,{account_total},{len(account_lines) + 1}/")
            group_lines += account_lines
            group_total += account_total
        group_lines.append(f"98,{group_total},{len(group)},{len(group_lines) + 1}/")
        out += group_lines
        file_total += group_total
    out.append(f"99,{file_total},{len(by_day)},{len(out) + 1}/")
    return "\n".join(out) + "\n"


# -- samples -----------------------------------------------------------------------------

_NAMES: Final = (
    "ACME Trading GmbH",
    "Globex Corporation",
    "Initech Ltd",
    "Umbrella Pharma",
    "Stark Industries",
    "Wayne Enterprises",
)
_WORDS: Final = ("invoice", "salary", "rent", "refund", "fees", "order", "subscription")


@dataclass(frozen=True)
class StatementSample:
    """Statements as written, and what every reader must return for them."""

    statements: tuple[BankStatement, ...]

    def expected_statements(self, fmt: str, source: str = "") -> list[Statement]:
        return expected_statements(self.statements, fmt, source)

    def expected_lines(self, fmt: str) -> list[StatementLine]:
        return [line for s in self.expected_statements(fmt) for line in s.lines]


def sample_statements(
    seed: int,
    *,
    accounts: int = 2,
    days: int = 3,
    lines_per_statement: tuple[int, int] = (1, 5),
    start: dt.date = dt.date(2024, 3, 4),
    currency: str = "EUR",
) -> StatementSample:
    """Daily chained statements for ``accounts`` accounts over ``days`` days."""
    rng = random.Random(seed)
    statements: list[BankStatement] = []
    for a in range(accounts):
        account = f"DE{rng.randrange(10**19, 10**20)}"
        balance = Decimal(rng.randrange(-50_000, 500_000)) / 100
        for d in range(days):
            day = start + dt.timedelta(days=d)
            lines = tuple(
                _sample_line(rng, day, f"{a}{d}{n}")
                for n in range(rng.randint(*lines_per_statement))
            )
            s = BankStatement(
                account=account,
                statement_id=f"{d + 1:05d}/001",
                currency=currency,
                opening_balance=balance,
                opening_date=day - dt.timedelta(days=1),
                closing_date=day,
                lines=lines,
            )
            statements.append(s)
            balance = s.closing_balance
    return StatementSample(tuple(statements))


def _sample_line(rng: random.Random, day: dt.date, tag: str) -> BankLine:
    amount = Decimal(rng.randrange(1, 2_500_000)) / 100 * rng.choice((1, -1))
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 14)))
    return BankLine(
        booking_date=day,
        value_date=day + dt.timedelta(days=rng.choice((0, 0, 0, 1, -1))),
        amount=amount,
        bank_reference=f"BR{tag}{rng.randrange(10**6):06d}",
        end_to_end_id=rng.choice((None, f"E2E-{tag}-{rng.randrange(10**8)}", f"E{tag}")),
        counterparty=rng.choice((None, *_NAMES)),
        description=f"{words} {rng.randrange(10**5)}",
        reversal=rng.random() < 0.1,
    )


def expected_statements(
    statements: Sequence[BankStatement], fmt: str, source: str = ""
) -> list[Statement]:
    """What a reader of ``fmt`` returns for ``statements`` (each format carries less)."""
    out = []
    for s in statements:
        lines = tuple(_expected_line(line, fmt, s.closing_date) for line in s.lines)
        statement = Statement(
            account=s.account,
            statement_id=s.closing_date.isoformat() if fmt == "bai2" else s.statement_id,
            currency=s.currency,
            opening_balance=s.opening_balance,
            closing_balance=s.closing_balance,
            opening_date=s.closing_date if fmt == "bai2" else s.opening_date,
            closing_date=s.closing_date,
            lines=lines,
            format=fmt,
            source=source,
        )
        out.append(statement)
    return out


def _expected_line(line: BankLine, fmt: str, day: dt.date) -> StatementLine:
    code = {"mt940": "NTRF", "camt053": "PMNT-RCDT-ESCT"}.get(fmt)
    expected = StatementLine(
        booking_date=line.booking_date,
        value_date=line.value_date,
        amount=line.amount,
        bank_reference=line.bank_reference,
        end_to_end_id=line.end_to_end_id,
        counterparty=line.counterparty,
        description=line.description,
        reversal=line.reversal,
        transaction_code=code,
    )
    if fmt == "bai2":  # no counterparty field; the type code is drawn per line
        expected = replace(expected, counterparty=None, transaction_code=None, booking_date=day)
    return expected
