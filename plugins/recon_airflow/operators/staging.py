"""The base of every extract: the subclass fetches; the snapshot is written here, once.

An extract task turns one side of one source into ``{staging}/.../{side}.parquet``. What
differs between sources is only how the rows are fetched (a file over SFTP or S3, a query, an
aggregation, an API's pages). What they share lives in :class:`StagingOperator`:

- the required columns are checked before anything is written, every missing one named with a
  did-you-mean hint;
- the Parquet snapshot replaces the previous one atomically, a frame (row group) at a time, so
  a refused or interrupted fetch leaves the earlier snapshot as it was;
- the checksum: of the input as received when the subclass has one (a downloaded file), of the
  snapshot otherwise;
- the XCom summary (``recon_airflow.outcome.Snapshot``: source, path, rows, checksum, input);
- retry semantics: bad input (``recon_airflow.errors.BadInputError`` or the core's
  ``ReconError``) fails the task for good; anything else (I/O) is left to ``retries``.

A subclass implements :meth:`StagingOperator.fetch`, a context manager yielding a
:class:`Fetched`, so that a client or a cursor stays open while the base writes its frames.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, Context

from recon.errors import Problem, SchemaError, did_you_mean
from recon.files import replaced_atomically
from recon_airflow.errors import BadInputError, failing_for_good
from recon_airflow.outcome import Snapshot

if TYPE_CHECKING:  # polars loads at run time: DAG files import the operators at every parse
    import polars as pl


@dataclass
class Fetched:
    """What a subclass fetched, for the base to check and stage.

    :ivar frames: the rows: a LazyFrame, a DataFrame, or frames (one row group each, e.g. a
        cursor's batches) consumed while the fetch's context is open.
    :ivar file: the input as people name it (a file name, ``db.collection``, a query file).
    :ivar sha256: checksum of the input as received; None: the snapshot's.
    :ivar schema: a fixed snapshot schema (a frame with other columns is refused); None: the
        frames' own, a field first seen in a later frame included.
    :ivar shown: how messages name the input (default ``file``).
    """

    frames: pl.LazyFrame | pl.DataFrame | Iterable[pl.DataFrame]
    file: str
    sha256: str | None = None
    schema: pl.Schema | None = None
    shown: str | None = None


class StagingOperator(BaseOperator):
    """Fetch one side of one source (the subclass) and stage it as a Parquet snapshot.

    :param source: the partition's source (e.g. ``CAMS``, ``ledger``), as XCom says it.
    :param snapshot_path: where the snapshot goes (replaced atomically).
    :param required_columns: columns the reconciliation needs (every missing one reported).
    """

    template_fields: Sequence[str] = ("source", "snapshot_path", "required_columns")

    def __init__(
        self,
        *,
        source: str,
        snapshot_path: str,
        required_columns: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.snapshot_path = snapshot_path
        self.required_columns = required_columns

    # what a subclass provides ------------------------------------------------------------

    def fetch(self, context: Context, workdir: Path) -> AbstractContextManager[Fetched]:
        """Fetch the rows; ``workdir`` (beside the snapshot, removed afterwards) holds any
        downloaded file. Raise ``BadInputError`` for bad data, let I/O errors propagate."""
        raise NotImplementedError

    def failure_prefix(self) -> str:
        """What a bad-input message is about (e.g. ``"CAMS 2026-11-20"``)."""
        return str(self.source)

    # what every extract shares -----------------------------------------------------------

    def required(self) -> list[str]:
        named = self.required_columns  # a template may render one name as a string
        return [named] if isinstance(named, str) else [str(n) for n in named or ()]

    def execute(self, context: Context) -> Snapshot:
        from recon.files import file_digest

        target = Path(self.snapshot_path).absolute()
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            failing_for_good(self.failure_prefix()),
            tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.stem}.fetch-") as work,
            self.fetch(context, Path(work)) as fetched,
        ):
            rows = write_snapshot(checked_frames(fetched, self.required()), target, fetched.schema)
            sha256 = fetched.sha256 or file_digest(target)
        self.log.info("%s: staged %d rows of %s at %s", self.source, rows, fetched.file, target)
        return Snapshot(
            source=str(self.source), path=str(target), rows=rows, sha256=sha256, file=fetched.file
        )


def missing_columns(available: Sequence[str], required: Sequence[str], file: str) -> list[Problem]:
    """One problem per required column the file lacks, with a did-you-mean where one is close."""
    listing = f"the file's columns are {', '.join(available)}"
    return [
        Problem(
            "required column missing",
            path=file,
            column=name,
            hint=did_you_mean(name, available) or listing,
        )
        for name in dict.fromkeys(required)
        if name not in available
    ]


def checked_frames(fetched: Fetched, required: Sequence[str]) -> Iterator[pl.DataFrame]:
    """The fetched rows as frames, once the first shows every required column.

    A lazy input is checked from its schema before it is read; a stream of frames from its
    first frame (an empty stream has nothing to check).
    """
    import polars as pl

    shown = fetched.shown or fetched.file
    frames = fetched.frames
    if isinstance(frames, pl.LazyFrame):
        _check(frames.collect_schema().names(), required, shown)
        yield from frames.collect_batches()  # streamed, a row group per batch
        return
    if isinstance(frames, pl.DataFrame):
        _check(frames.columns, required, shown)
        yield frames
        return
    first = True
    for frame in frames:
        if first:
            _check(frame.columns, required, shown)
            first = False
        yield frame


def _check(columns: Sequence[str], required: Sequence[str], shown: str) -> None:
    if problems := missing_columns(columns, required, shown):
        raise SchemaError.from_problems(f"cannot stage {shown}", problems)


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def write_snapshot(
    frames: Iterable[pl.DataFrame], path: Path, schema: pl.Schema | None = None
) -> int:
    """Write ``frames`` to ``path`` as Parquet (a row group each), atomically; the row count.

    :param schema: the snapshot's columns and types (a frame with other columns is refused);
        None: the frames' own, a field first seen in a later frame included (documents of a
        collection need not all have every field), earlier rows null there. An empty input
        then gives a file without columns.
    """
    import polars as pl

    rows = 0
    with (
        replaced_atomically(path) as staged,
        tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as folder,
    ):
        parts: list[Path] = []
        writer: _PartWriter | None = None
        for frame in frames:
            if writer is not None and not writer.fits(frame):
                if schema is not None:
                    extra = [name for name in frame.columns if name not in schema]
                    raise BadInputError(f"unexpected field(s) {extra} after row {rows}")
                writer.close()  # new fields: a wider part; the parts are stacked at the end
                writer = _PartWriter(Path(folder) / f"{len(parts)}.parquet", writer.widened(frame))
                parts.append(writer.path)
            if writer is None:
                writer = _PartWriter(Path(folder) / "0.parquet", schema or frame.schema)
                parts.append(writer.path)
            writer.write(frame)
            rows += frame.height
        if writer is None:  # no frame at all: still a valid (empty) snapshot
            pl.DataFrame(schema=schema or {}).write_parquet(staged)
            return 0
        writer.close()
        if len(parts) == 1:
            os.replace(parts[0], staged)
        else:
            scans = [pl.scan_parquet(part) for part in parts]
            pl.concat(scans, how="diagonal").sink_parquet(staged)
    return rows


class _PartWriter:
    """One Parquet file of a fixed schema, written a frame (row group) at a time."""

    def __init__(self, path: Path, schema: pl.Schema) -> None:
        import polars as pl
        import pyarrow.parquet as pq

        self.path = path
        self.schema = schema
        self.arrow = pl.DataFrame(schema=schema).to_arrow().schema
        self._writer = pq.ParquetWriter(path, self.arrow)

    def fits(self, frame: pl.DataFrame) -> bool:
        return all(name in self.schema for name in frame.columns)

    def widened(self, frame: pl.DataFrame) -> pl.Schema:
        import polars as pl

        added = {n: t for n, t in frame.schema.items() if n not in self.schema}
        return pl.Schema({**self.schema, **added})

    def write(self, frame: pl.DataFrame) -> None:
        import polars as pl

        absent = [pl.lit(None).alias(n) for n in self.schema if n not in frame.columns]
        table = frame.with_columns(absent).select(list(self.schema)).to_arrow()
        self._writer.write_table(table.cast(self.arrow))

    def close(self) -> None:
        self._writer.close()


__all__ = [
    "Fetched",
    "StagingOperator",
    "batched",
    "checked_frames",
    "missing_columns",
    "write_snapshot",
]
