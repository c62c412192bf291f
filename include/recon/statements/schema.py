"""One shape for every bank statement format: a ``Statement`` of ``StatementLine`` s, and the
polars schema its lines take as a table (credits positive, debits negative, exact decimals)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

import polars as pl

# Scale 3 holds every ISO 4217 minor unit in use (BHD, KWD, TND have three decimals); a
# reader refuses an amount with more decimals rather than round it.
AMOUNT_SCALE: Final = 3
AMOUNT: Final = pl.Decimal(18, AMOUNT_SCALE)

_COLUMNS: Final[dict[str, pl.DataType | type[pl.DataType]]] = {
    "account": pl.String,
    "statement_id": pl.String,
    "line_no": pl.Int32,  # 1-based position of the line within its statement
    "booking_date": pl.Date,
    "value_date": pl.Date,
    "amount": AMOUNT,  # signed: credit +, debit -
    "currency": pl.String,
    "reversal": pl.Boolean,  # MT940 RC/RD, camt RvslInd, a BAI2 reversal type code
    "transaction_code": pl.String,  # MT940 :61: type (NTRF), camt BkTxCd, BAI2 type code
    "bank_reference": pl.String,
    "end_to_end_id": pl.String,
    "counterparty": pl.String,
    "description": pl.String,
    "format": pl.String,  # mt940, camt053, bai2
    "source_file": pl.String,
    "source_line": pl.Int32,  # physical line in the file where the entry starts
}
LINE_SCHEMA: Final = pl.Schema(_COLUMNS)


@dataclass(frozen=True)
class StatementLine:
    """One booked entry; ``amount`` is signed (credit +, debit -)."""

    booking_date: dt.date
    value_date: dt.date
    amount: Decimal
    bank_reference: str | None = None
    end_to_end_id: str | None = None
    counterparty: str | None = None
    description: str | None = None
    reversal: bool = False
    transaction_code: str | None = None
    source_line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Statement:
    """One statement (or one page of a multi-page statement) of one account."""

    account: str
    statement_id: str
    currency: str
    opening_balance: Decimal
    closing_balance: Decimal
    opening_date: dt.date
    closing_date: dt.date
    lines: tuple[StatementLine, ...] = ()
    format: str = field(default="", compare=False)
    source: str = field(default="", compare=False)  # file it was read from
    source_line: int | None = field(default=None, compare=False)  # where it starts there

    @property
    def key(self) -> tuple[str, str]:
        return (self.account, self.statement_id)

    @property
    def lines_total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    @property
    def where(self) -> str:
        """``file, line N`` of the statement's start, for messages."""
        return f"{self.source}, line {self.source_line}" if self.source_line else self.source


def lines_frame(statements: Iterable[Statement]) -> pl.DataFrame:
    """The statements' lines as one frame of :data:`LINE_SCHEMA`, in statement order."""
    rows: list[Sequence[Any]] = [
        (
            s.account,
            s.statement_id,
            number,
            line.booking_date,
            line.value_date,
            line.amount,
            s.currency,
            line.reversal,
            line.transaction_code,
            line.bank_reference,
            line.end_to_end_id,
            line.counterparty,
            line.description,
            s.format,
            s.source,
            line.source_line,
        )
        for s in statements
        for number, line in enumerate(s.lines, start=1)
    ]
    return pl.DataFrame(rows, schema=LINE_SCHEMA, orient="row")


def statement_record(statement: Statement) -> dict[str, Any]:
    """One statement as a plain record (JSON-able apart from dates and decimals)."""
    return {
        "account": statement.account,
        "statement_id": statement.statement_id,
        "currency": statement.currency,
        "opening_date": statement.opening_date,
        "opening_balance": statement.opening_balance,
        "closing_date": statement.closing_date,
        "closing_balance": statement.closing_balance,
        "lines": len(statement.lines),
        "lines_total": statement.lines_total,
        "format": statement.format,
        "source_file": statement.source,
        "source_line": statement.source_line,
    }
