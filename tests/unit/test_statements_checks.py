"""Statement checks: each adds up, each account's statements chain, a repeat counts once."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from decimal import Decimal

import pytest

from recon.errors import StatementCheckError
from recon.statements import Statement, StatementLine, check_statements

DAY = dt.date(2024, 3, 4)


def statement(
    statement_id: str,
    opening: str,
    amounts: tuple[str, ...],
    *,
    closing: str | None = None,
    account: str = "NL01BANK0001",
    day: int = 0,
    source: str = "a.sta",
) -> Statement:
    lines = tuple(
        StatementLine(DAY, DAY, Decimal(a), bank_reference=f"{statement_id}-{i}")
        for i, a in enumerate(amounts)
    )
    total = Decimal(opening) + sum((x.amount for x in lines), Decimal(0))
    return Statement(
        account=account,
        statement_id=statement_id,
        currency="EUR",
        opening_balance=Decimal(opening),
        closing_balance=Decimal(closing) if closing is not None else total,
        opening_date=DAY + dt.timedelta(days=day - 1),
        closing_date=DAY + dt.timedelta(days=day),
        lines=lines,
        format="mt940",
        source=source,
        source_line=1,
    )


def chain() -> list[Statement]:
    return [
        statement("00001/001", "100.00", ("10.00", "-5.50")),
        statement("00002/001", "104.50", ("-4.50",), day=1),
        statement("00003/001", "100.00", (), day=2),
    ]


def test_a_good_chain_passes_in_chain_order_whatever_the_input_order() -> None:
    statements = chain()
    shuffled = statements[:]
    random.Random(3).shuffle(shuffled)
    checked = check_statements(shuffled)
    assert list(checked.statements) == statements
    assert checked.duplicates == ()


def test_balance_that_does_not_add_up_names_statement_balances_and_gap() -> None:
    bad = statement("00002/001", "104.50", ("-4.50",), closing="110.00", day=1)
    with pytest.raises(StatementCheckError) as caught:
        check_statements([chain()[0], bad])
    message = str(caught.value)
    for words in (
        "`00002/001`",
        "NL01BANK0001",
        "opening balance 104.50",
        "closing balance is 110.00",
        "gap +10.00 EUR",
        "a.sta, line 1",
    ):
        assert words in message, message
    (problem,) = caught.value.problems
    assert problem.path == "a.sta"


def test_chain_gap_names_both_statements_and_the_gap() -> None:
    first, _, third = chain()
    with pytest.raises(StatementCheckError) as caught:
        check_statements([first, third])  # 00002 missing: 104.50 -> 100.00
    message = str(caught.value)
    assert "do not chain" in message
    assert "`00001/001` closes at 104.50" in message
    assert "`00003/001`, opens at 100.00" in message
    assert "gap -4.50 EUR" in message
    assert "missing" in message  # the hint


def test_accounts_chain_separately() -> None:
    other = statement("00001/001", "0", ("1",), account="NL02BANK0002")
    checked = check_statements([*chain(), other])
    assert len(checked.statements) == 4


def test_duplicate_statement_is_counted_once_and_reported() -> None:
    statements = chain()
    again = replace(statements[1], source="b.sta", source_line=9)
    checked = check_statements([*statements, again])
    assert list(checked.statements) == statements
    (duplicate,) = checked.duplicates
    assert (duplicate.account, duplicate.statement_id) == ("NL01BANK0001", "00002/001")
    assert (duplicate.kept, duplicate.repeated) == ("a.sta, line 1", "b.sta, line 9")
    assert "delivered twice" in str(duplicate) and "counted once" in str(duplicate)


def test_same_id_with_other_content_is_an_error() -> None:
    statements = chain()
    changed = statement("00002/001", "104.50", ("-4.00", "-0.50"), day=1, source="b.sta")
    with pytest.raises(StatementCheckError) as caught:
        check_statements([*statements, changed])
    message = str(caught.value)
    assert "`00002/001`" in message and "different content" in message
    assert "a.sta, line 1" in message and "b.sta" in message


def test_every_problem_is_reported_at_once() -> None:
    first, _, third = chain()
    bad = replace(first, closing_balance=Decimal("1.00"))
    with pytest.raises(StatementCheckError) as caught:
        check_statements([bad, third])
    assert "2 problems" in str(caught.value)
    assert len(caught.value.problems) == 2


def test_pages_of_one_day_chain_by_number() -> None:
    pages = [statement(f"12/{page}", str(page * 10), ("10",), day=0) for page in range(1, 12)]
    checked = check_statements(list(reversed(pages)))
    assert [s.statement_id for s in checked.statements] == [s.statement_id for s in pages]
