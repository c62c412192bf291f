"""The one error tree of the core: every error says what, where (file, row, column) and a hint."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_LISTED = 20
MAX_QUOTED = 60  # characters of one name or value a message quotes
MAX_PART = 1000  # characters of a message or a hint: a header line can be megabytes


def shown(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` as a message quotes it: at most ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def listed(names: Iterable[str], limit: int = 12) -> str:
    """Names for a message, each :func:`shown`, at most ``limit`` of them."""
    names = list(names)
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(shown(n) for n in names[:limit]) + more


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    """Return a ``did you mean `x`?`` hint for the closest choice, if any is close."""
    choices = list(choices)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f"did you mean `{shown(close[0])}`?" if close else None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    message: str
    path: str | None = None  # spec path such as ``compare.units.abs_tol`` or a file name
    line: int | None = None  # line in the spec file, or in a text input (a bank statement)
    row: int | None = None  # 1-based data row (or DBF record number)
    column: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column `{shown(self.column)}`")
        message = shown(self.message, MAX_PART)
        text = f"{', '.join(where)}: {message}" if where else message
        return f"{text} ({shown(self.hint, MAX_PART)})" if self.hint else text


def summarize_problems(problems: Sequence[Problem], limit: int = MAX_LISTED) -> str:
    shown = "; ".join(str(p) for p in problems[:limit])
    more = len(problems) - limit
    return f"{shown}; ... and {more} more" if more > 0 else shown


class ReconError(Exception):
    """Base of every error the core raises on purpose; the CLI turns it into exit code 2."""

    def __init__(self, message: str, *, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[Problem, ...] = tuple(problems)

    @classmethod
    def from_problems(cls, what: str, problems: Sequence[Problem]) -> ReconError:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        return cls(f"{what}: {count} {noun}: {summarize_problems(problems)}", problems=problems)


class SpecError(ReconError):
    """The recon spec (YAML) is invalid; ``problems`` lists every mistake with its path."""


class SchemaError(ReconError):
    """An input lacks a column the spec needs, or a column has an unusable type."""


class InputFileError(ReconError):
    """An input file is missing, unreadable, empty, truncated or corrupt."""

    def __init__(
        self,
        path: str,
        reason: str,
        *,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
        line: int | None = None,
    ) -> None:
        self.path = str(path)
        self.reason = reason
        self.row = row
        self.column = column
        self.hint = hint
        self.line = line  # a physical line of a text file (statements), where rows do not apply
        problem = Problem(reason, path=self.path, line=line, row=row, column=column, hint=hint)
        super().__init__(str(problem), problems=[problem])


class DbfError(InputFileError):
    """A DBF file is truncated, corrupt, or uses a field type we cannot read."""


class StatementFileError(InputFileError):
    """A bank statement file (MT940, camt.053, BAI2) is truncated, corrupt or not what its name
    says: names the file, the physical line and the offending text (capped)."""

    def __init__(
        self,
        path: str,
        reason: str,
        *,
        line: int | None = None,
        text: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.text = None if text is None else shown(text.strip(), MAX_QUOTED)
        quoted = f": `{self.text}`" if self.text else ""
        super().__init__(path, f"{reason}{quoted}", line=line, hint=hint)
        self.reason = reason


class StatementCheckError(ReconError):
    """Bank statements that do not add up (opening + lines != closing), do not chain (one
    closing balance is not the next opening balance), or repeat an id with other content;
    ``problems`` names every statement at fault, both balances and the gap."""


class RowConservationError(ReconError):
    """Some input row did not land in exactly one status: a bug, never silently ignored."""


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (polars' run on for pages), or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
