"""What a side of a recon definition reads: :class:`SourceReader`, one subclass per kind.

The kinds here: S3 and SFTP files, a SQL query file, a MongoDB aggregation (each kind may as
well live in a module of its own beside this one). A kind of source owns:

- its settings and their validation, without I/O beyond the file system (a query file must
  exist in ``include/sql``; patterns must use known placeholders; a file's suffix must be
  readable); ``located_problems`` for what pydantic cannot place (a placeholder deep inside
  a pipeline);
- its ``{date}`` planning: ``plan(day)`` is what its extract reads that business date (a
  location, query parameters, a rendered pipeline), JSON-able as it travels by XCom;
- its description for messages and the DAG's docs: ``describe()``;
- its extract, named by ``operator``, a key: the plugin layer maps each key to one operator
  class and its arguments (``recon_airflow.pipelines.config_recons.EXTRACTS``), so the core
  never imports Airflow.

The registry is ``recon.definitions.sides.Side``: one optional field per kind, named by its
YAML key. A new kind is a new class and one field line there; ``SOURCE_KINDS``, the one-reader
check, the loader's located problems and the DAG's plan, extract and docs follow from it.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from abc import abstractmethod
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from recon.definitions.patterns import (
    check_pattern,
    render_pattern,
    render_strings,
    string_problems,
)
from recon.errors import did_you_mean

SQL_DIR: Final = Path(__file__).resolve().parents[2] / "sql"  # include/sql, beside the core
# The reader picks the format by the file's suffix (recon.readers.tables.FORMATS, which imports
# polars: too heavy for a DAG parse; a unit test keeps the two in step).
FILE_SUFFIXES: Final = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".dbf": "dbf",
    ".sta": "mt940",
    ".mt940": "mt940",
    ".xml": "camt053",
    ".bai": "bai2",
    ".bai2": "bai2",
}
# Pipeline stages that write: an extract only reads.
WRITING_STAGES: Final = ("$out", "$merge")
_CONN_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,250}$")


def _conn_id(value: str) -> str:
    if not _CONN_ID.match(value):
        raise ValueError(f"`{value}` is not a connection id (letters, digits, `_`, `.`, `-`)")
    return value


ConnId = Annotated[str, AfterValidator(_conn_id)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Located = list[tuple[tuple[Any, ...], str]]  # (path inside the reader's settings, problem)


class SourceReader(Strict):
    """One kind of source: its settings, its plan for a day, its description, its extract.

    :cvar operator: the key of its extract in the plugin layer's mapping.
    :cvar planned: what ``plan`` gives, naming it in XCom (``left_location``).
    """

    operator: ClassVar[str]
    planned: ClassVar[str]
    conn_id: ConnId  # every kind reads through one Airflow connection

    @abstractmethod
    def plan(self, day: dt.date) -> Any:
        """What the extract reads for the business date ``day`` (JSON-able)."""

    @abstractmethod
    def describe(self) -> str:
        """What it reads, in Markdown, for messages and the DAG's docs."""

    @classmethod
    def located_problems(cls, settings: Mapping[str, Any]) -> Located:
        """Problems of the raw settings that pydantic cannot locate (none unless overridden)."""
        return []


class FileOptions(SourceReader):
    """How an S3 or SFTP file is read; its format goes by its suffix; planned: its location."""

    planned = "location"

    format: Literal["csv", "parquet", "xlsx", "dbf"] | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    encoding: str | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown text encoding `{value}` (e.g. utf-8, cp1252)") from None
        return value

    @abstractmethod
    def location(self, day: dt.date) -> str:
        """The file of the business date ``day`` (``s3://...``, ``sftp://...``)."""

    def plan(self, day: dt.date) -> str:
        return self.location(day)

    def _check_suffix(self, pattern: str) -> None:
        suffix = PurePosixPath(pattern).suffix.lower()
        found = FILE_SUFFIXES.get(suffix)
        if found is None:
            known = ", ".join(FILE_SUFFIXES)
            raise ValueError(
                f"`{pattern}`: cannot read `{suffix or '(no suffix)'}` files ({known})"
            )
        if self.format is not None and self.format != found:
            raise ValueError(
                f"format `{self.format}` but `{pattern}` ends in `{suffix}`, read as {found}: "
                "the file is read by its suffix; drop `format` or fix the name"
            )


class S3Reader(FileOptions):
    """``s3://{bucket}/{key}``; ``key`` is a pattern (``exports/orders/{date}.csv``)."""

    operator = "s3_file"
    conn_id: ConnId = "recon_s3"
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
    key: Name

    @field_validator("key")
    @classmethod
    def _key(cls, key: str) -> str:
        if key.startswith("/"):
            raise ValueError(f"`{key}`: an S3 key does not start with `/`")
        return check_pattern(key)

    @model_validator(mode="after")
    def _suffix(self) -> S3Reader:
        self._check_suffix(self.key)
        return self

    def location(self, day: dt.date) -> str:
        return f"s3://{self.bucket}/{render_pattern(self.key, day)}"

    def describe(self) -> str:
        return f"`s3://{self.bucket}/{self.key}`"


class SftpReader(FileOptions):
    """``sftp://{conn_id}{path}``; ``path`` is an absolute pattern (``/out/orders_{date}.csv``)."""

    operator = "sftp_file"
    conn_id: ConnId = "recon_sftp"
    path: Name

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        if not path.startswith("/") or path.endswith("/"):
            raise ValueError(f"`{path}`: an SFTP path is absolute and names a file")
        return check_pattern(path)

    @model_validator(mode="after")
    def _suffix(self) -> SftpReader:
        self._check_suffix(self.path)
        return self

    def location(self, day: dt.date) -> str:
        return f"sftp://{self.conn_id}{render_pattern(self.path, day)}"

    def describe(self) -> str:
        return f"`sftp://{self.conn_id}{self.path}`"


class SqlReader(SourceReader):
    """A query file of ``include/sql``, its parameter ``%(business_date)s`` bound (ISO date)."""

    operator = "sql_query"
    planned = "parameters"
    conn_id: ConnId = "recon_postgres"
    query: Name

    @field_validator("query")
    @classmethod
    def _query_file(cls, name: str, info: ValidationInfo) -> str:
        folder: Path = (info.context or {}).get("sql_dir", SQL_DIR)
        path = (folder / name).resolve()
        if path.suffix != ".sql" or not path.is_relative_to(folder.resolve()):
            raise ValueError(f"`{name}` is not a .sql file name in include/sql")
        if not path.is_file():
            known = sorted(p.name for p in folder.glob("*.sql"))
            hint = did_you_mean(name, known) or f"there are: {', '.join(known)}"
            raise ValueError(f"no query file include/sql/{name} ({hint})")
        return name

    def parameters(self, day: dt.date) -> dict[str, str]:
        return {"business_date": day.isoformat()}

    def plan(self, day: dt.date) -> dict[str, str]:
        return self.parameters(day)

    def describe(self) -> str:
        return f"`include/sql/{self.query}` on `{self.conn_id}`"


class MongoReader(SourceReader):
    """An aggregation of ``database.collection``; ``{date}`` is replaced in its string values."""

    operator = "mongo_aggregation"
    planned = "pipeline"
    conn_id: ConnId = "recon_mongo"
    database: Name
    collection: Name
    pipeline: list[dict[str, Any]] = []

    @field_validator("pipeline")
    @classmethod
    def _stages(cls, stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, stage in enumerate(stages):
            names = list(stage)
            if len(names) != 1 or not str(names[0]).startswith("$"):
                raise ValueError(f"stage {i} must be one `$stage: ...` mapping, got {names}")
            if names[0] in WRITING_STAGES:
                raise ValueError(f"stage {i}: `{names[0]}` writes to MongoDB; an extract reads")
        return stages

    def rendered_pipeline(self, day: dt.date) -> list[dict[str, Any]]:
        rendered: list[dict[str, Any]] = render_strings(self.pipeline, day)
        return rendered

    def plan(self, day: dt.date) -> list[dict[str, Any]]:
        return self.rendered_pipeline(day)

    def describe(self) -> str:
        return f"aggregation of `{self.database}.{self.collection}` on `{self.conn_id}`"

    @classmethod
    def located_problems(cls, settings: Mapping[str, Any]) -> Located:
        """Placeholders inside the pipeline's string values, each at its own path."""
        return string_problems(settings.get("pipeline"), ("pipeline",))


__all__ = [
    "SQL_DIR",
    "ConnId",
    "FileOptions",
    "Located",
    "MongoReader",
    "Name",
    "S3Reader",
    "SftpReader",
    "SourceReader",
    "SqlReader",
    "Strict",
]
