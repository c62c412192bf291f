"""Statements must add up, chain, and not repeat: opening + lines == closing for each; the
closing balance of one statement of an account is the opening of its next; an id delivered
twice is counted once when the content is the same, and an error when it is not."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from recon.errors import Problem, StatementCheckError
from recon.statements.schema import Statement


@dataclass(frozen=True)
class DuplicateStatement:
    """A statement delivered again with the same content: kept once, reported."""

    account: str
    statement_id: str
    kept: str  # where the copy that counts was read (file, line)
    repeated: str  # where the repeat was read

    def __str__(self) -> str:
        return (
            f"statement `{self.statement_id}` of account {self.account} delivered twice "
            f"({self.kept} and {self.repeated}): counted once"
        )


@dataclass(frozen=True)
class CheckedStatements:
    statements: tuple[Statement, ...]  # unique, in chain order per account
    duplicates: tuple[DuplicateStatement, ...]


def check_statements(statements: Iterable[Statement]) -> CheckedStatements:
    """The statements without repeats, in chain order; StatementCheckError with every
    problem found (balances, chains, conflicting repeats) at once."""
    unique, duplicates, problems = _unique(statements)
    problems += [p for s in unique for p in _balance_problems(s)]
    ordered = sorted(unique, key=_chain_key)
    problems += _chain_problems(ordered)
    if problems:
        raise StatementCheckError.from_problems("bank statements do not reconcile", problems)
    return CheckedStatements(tuple(ordered), tuple(duplicates))


def _unique(
    statements: Iterable[Statement],
) -> tuple[list[Statement], list[DuplicateStatement], list[Problem]]:
    seen: dict[tuple[str, str], Statement] = {}
    duplicates: list[DuplicateStatement] = []
    problems: list[Problem] = []
    for statement in statements:
        first = seen.get(statement.key)
        if first is None:
            seen[statement.key] = statement
        elif first == statement:  # dataclass equality leaves out where it was read
            duplicates.append(
                DuplicateStatement(*statement.key, kept=first.where, repeated=statement.where)
            )
        else:
            problems.append(
                Problem(
                    f"statement `{statement.statement_id}` of account {statement.account} "
                    f"delivered twice with different content ({first.where}: "
                    f"{_summary(first)}; here: {_summary(statement)})",
                    path=statement.source or None,
                    line=statement.source_line,
                    hint="a corrected statement needs a new id, or drop the wrong file",
                )
            )
    return list(seen.values()), duplicates, problems


def _summary(s: Statement) -> str:
    return (
        f"opening {s.opening_balance}, closing {s.closing_balance}, {len(s.lines)} lines "
        f"totalling {s.lines_total}"
    )


def _balance_problems(s: Statement) -> list[Problem]:
    expected = s.opening_balance + s.lines_total
    if expected == s.closing_balance:
        return []
    gap = s.closing_balance - expected
    return [
        Problem(
            f"statement `{s.statement_id}` of account {s.account} does not add up: opening "
            f"balance {s.opening_balance} + {len(s.lines)} lines {s.lines_total} = {expected}, "
            f"but the closing balance is {s.closing_balance} (gap {_signed(gap)} {s.currency})",
            path=s.source or None,
            line=s.source_line,
            hint="a line is missing or misread, or the balances are wrong",
        )
    ]


def _chain_problems(ordered: Sequence[Statement]) -> list[Problem]:
    problems = []
    for before, after in itertools.pairwise(ordered):
        if before.account != after.account or before.closing_balance == after.opening_balance:
            continue
        gap = after.opening_balance - before.closing_balance
        problems.append(
            Problem(
                f"statements of account {after.account} do not chain: `{before.statement_id}` "
                f"closes at {before.closing_balance} ({before.closing_date}) but the next, "
                f"`{after.statement_id}`, opens at {after.opening_balance} "
                f"({after.opening_date}) (gap {_signed(gap)} {after.currency})",
                path=after.source or None,
                line=after.source_line,
                hint="is a statement between them missing?",
            )
        )
    return problems


def _chain_key(s: Statement) -> tuple[object, ...]:
    # pages of one day (00012/001, 00012/002) follow their numbers, not their text
    natural = tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p)
        for p in re.split(r"(\d+)", s.statement_id)
        if p
    )
    return (s.account, s.opening_date, s.closing_date, natural)


def _signed(value: Decimal) -> str:
    return f"+{value}" if value > 0 else str(value)
