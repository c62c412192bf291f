"""The two sides of a recon definition, and the registry of source kinds they may read.

:class:`Side` is a label and exactly one reader; its fields are the registry, one optional field
per kind (a ``recon.definitions.sources.SourceReader`` subclass) named by its YAML key. A new
kind is its class and one field line here; ``SOURCE_KINDS`` (and so the one-reader check, the
loader's located problems and the DAG's plan, extract and docs) follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, get_args

from pydantic import BaseModel, Field, model_validator

from recon.definitions.http_source import HttpReader
from recon.definitions.sources import (
    MongoReader,
    S3Reader,
    SftpReader,
    SourceReader,
    SqlReader,
    Strict,
)


class Side(Strict):
    """One side: its label in reports and exactly one reader."""

    label: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\- ]+$")
    # The registry of source kinds: one optional field per kind, named by its YAML key.
    s3: S3Reader | None = None
    sftp: SftpReader | None = None
    sql: SqlReader | None = None
    mongo: MongoReader | None = None
    http: HttpReader | None = None

    @model_validator(mode="after")
    def _one_reader(self) -> Side:
        problem = reader_problem(self.model_dump(exclude_none=True))
        if problem:
            raise ValueError(problem)
        return self

    @property
    def kind(self) -> str:
        return next(name for name in READERS if getattr(self, name) is not None)

    @property
    def reader(self) -> SourceReader:
        found: SourceReader = getattr(self, self.kind)
        return found


def source_kinds(side: type[BaseModel]) -> dict[str, type[SourceReader]]:
    """The reader class of each kind field of ``side``, by its YAML key."""
    kinds: dict[str, type[SourceReader]] = {}
    for name, field in side.model_fields.items():
        readers = [t for t in get_args(field.annotation) if _is_reader(t)]
        if readers:
            kinds[name] = readers[0]
    return kinds


def _is_reader(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, SourceReader)


SOURCE_KINDS: Final = source_kinds(Side)
READERS: Final = tuple(SOURCE_KINDS)


def reader_problem(side: Mapping[str, Any]) -> str | None:
    """Unless ``side`` names exactly one reader: what it names instead."""
    given = [name for name in READERS if side.get(name) is not None]
    if len(given) == 1:
        return None
    found = " and ".join(f"`{g}`" for g in given) if given else "none"
    return f"needs exactly one reader of {', '.join(READERS)}; found {found}"


__all__ = ["READERS", "SOURCE_KINDS", "Side", "reader_problem", "source_kinds"]
