"""The statement formats, registered in one place: a new format is one ``StatementFormat``
subclass added to :func:`statement_formats`."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from recon.errors import StatementFileError
from recon.statements.schema import Statement

SNIFF_BYTES = 4096  # how much of a file's start sniff() sees


class StatementFormat(ABC):
    """How one bank statement format is recognised and read."""

    name: ClassVar[str]  # as tables and messages name it: mt940, camt053, bai2
    title: ClassVar[str]  # as people name it: MT940, camt.053, BAI2
    suffixes: ClassVar[tuple[str, ...]]

    @abstractmethod
    def sniff(self, head: bytes) -> bool:
        """Whether a file starting with ``head`` (up to SNIFF_BYTES) looks like this format."""

    @abstractmethod
    def read(self, path: Path) -> list[Statement]:
        """Every statement in ``path``, in file order; StatementFileError if it is corrupt."""


@functools.cache
def statement_formats() -> tuple[StatementFormat, ...]:
    """The registered formats (the one place a new format is added)."""
    from recon.statements.bai2 import Bai2Format
    from recon.statements.camt053 import Camt053Format
    from recon.statements.mt940 import Mt940Format

    return (Mt940Format(), Camt053Format(), Bai2Format())


def statement_suffixes() -> dict[str, str]:
    """``{suffix: format name}`` of every registered format, for the table readers."""
    return {suffix: f.name for f in statement_formats() for suffix in f.suffixes}


def format_named(name: str) -> StatementFormat:
    return next(f for f in statement_formats() if f.name == name)


def format_for(path: Path) -> StatementFormat:
    """The format of ``path``: the one its suffix names if the content agrees, else the one
    the content looks like (banks name files loosely), else a located error."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    by_suffix = statement_suffixes().get(path.suffix.lower())
    named = format_named(by_suffix) if by_suffix else None
    if named is not None and named.sniff(head):
        return named
    found = next((f for f in statement_formats() if f.sniff(head)), None)
    if found is not None:
        return found
    first = head.decode("latin-1").lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    expected = named.title if named else "a bank statement"
    known = ", ".join(f.title for f in statement_formats())
    raise StatementFileError(
        str(path),
        f"does not look like {expected} ({known} are read)",
        line=1,
        text=first,
        hint="is it the right file, or an export in another format?",
    )
