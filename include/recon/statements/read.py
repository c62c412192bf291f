"""Read bank statement files of any registered format into one table of lines, with the
statements checked across all the files together."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from recon.errors import StatementFileError
from recon.statements.checks import DuplicateStatement, check_statements
from recon.statements.formats import format_for
from recon.statements.schema import Statement, lines_frame, statement_record


@dataclass(frozen=True)
class StatementRead:
    """What ``read_statements`` returns: the lines, the statements and the repeats."""

    lines: pl.DataFrame
    statements: tuple[Statement, ...]
    duplicates: tuple[DuplicateStatement, ...]

    @property
    def records(self) -> list[dict[str, Any]]:
        return [statement_record(s) for s in self.statements]


def read_statement_file(path: str | os.PathLike[str]) -> list[Statement]:
    """The statements of one file, unchecked, in file order."""
    path = Path(path)
    if not path.is_file():
        reason = "is a directory, not a file" if path.is_dir() else "file not found"
        raise StatementFileError(str(path), reason, hint="check the path")
    if path.stat().st_size == 0:
        raise StatementFileError(str(path), "file is empty (0 bytes)", hint="was it complete?")
    return format_for(path).read(path)


def read_statements(paths: Iterable[str | os.PathLike[str]]) -> StatementRead:
    """Every statement of every file, checked together (balances, chains, repeats)."""
    statements = [s for path in paths for s in read_statement_file(path)]
    checked = check_statements(statements)
    return StatementRead(lines_frame(checked.statements), checked.statements, checked.duplicates)


def scan_statements(path: str | os.PathLike[str], *, allow_empty: bool = False) -> pl.LazyFrame:
    """A statement file as a table of its lines (``recon compare`` on a statement side)."""
    read = read_statements([path])
    if read.lines.height == 0 and not allow_empty:
        raise StatementFileError(
            str(path),
            f"has {len(read.statements)} bank statement(s) but no statement lines",
            hint="pass allow_empty (--allow-empty) to reconcile an empty side on purpose",
        )
    return read.lines.lazy()
