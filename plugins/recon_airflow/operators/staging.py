"""The base of every extract: the subclass fetches; the snapshot is written here, once.

An extract task turns one side of one source into ``{staging}/.../{side}.parquet``. What
differs between sources is only how the rows are fetched (a file over SFTP or S3, a query, an
aggregation, an API's pages). What they share lives in :class:`StagingOperator`:

- the required columns are checked before anything is written, every missing one named with a
  did-you-mean hint;
- the Parquet snapshot (zstd) replaces the previous one atomically, so a refused or
  interrupted fetch leaves the earlier snapshot as it was: a frame is written by polars (a lazy
  one streamed), a stream of frames (a cursor's batches) a row group at a time;
- the checksum: of the input as received when the subclass has one (a downloaded file), of the
  snapshot otherwise;
- the XCom summary (``recon_airflow.outcome.Snapshot``: source, path, rows, checksum, input);
- retry semantics: bad input (``recon_airflow.errors.BadInputError`` or the core's
  ``ReconError``) fails the task for good; anything else (I/O) is left to ``retries``.

A subclass implements :meth:`StagingOperator.fetch`, a context manager yielding a
:class:`Fetched`, so that a client or a cursor stays open while the base writes its frames.
An error raised while the base consumes the frames is raised again inside ``fetch`` at its
``yield``: that is where a subclass says which input it was about (:func:`named_as` for a
downloaded file). Two hooks shape messages: :meth:`StagingOperator.failure_prefix` and
:meth:`StagingOperator.refused`; a subclass that knows the columns before it reads the rows (a
file's header) checks them there with :meth:`StagingOperator.check_columns`, the base's check.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, Context

from recon.errors import Problem, ReconError, SchemaError, did_you_mean, listed
from recon.files import file_digest, replaced_atomically
from recon_airflow.errors import BadInputError, failing_for_good
from recon_airflow.outcome import Snapshot
from recon_airflow.timeouts import EXTRACT_EXECUTION_TIMEOUT, with_execution_timeout

if TYPE_CHECKING:  # polars loads at run time: DAG files import the operators at every parse
    import polars as pl


@dataclass
class Fetched:
    """What a subclass fetched, for the base to check and stage.

    :ivar frames: the rows: a LazyFrame, a DataFrame, or frames (one row group each, e.g. a
        cursor's batches) consumed while the fetch's context is open.
    :ivar file: the input as people name it (a file name, ``db.collection``, a query file).
    :ivar sha256: checksum of the input as received; None: the snapshot's.
    :ivar schema: a stream's fixed snapshot schema (a frame with other columns is refused);
        None: the frames' own, a field first seen in a later frame included. A LazyFrame or a
        DataFrame brings its own.
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
        super().__init__(**with_execution_timeout(kwargs, EXTRACT_EXECUTION_TIMEOUT))
        self.source = source
        self.snapshot_path = snapshot_path
        self.required_columns = required_columns

    # what a subclass provides ------------------------------------------------------------

    def fetch(self, context: Context, workdir: Path) -> AbstractContextManager[Fetched]:
        """Fetch the rows; ``workdir`` (beside the snapshot, removed afterwards) holds any
        downloaded file. Raise ``BadInputError`` for bad data, let I/O errors propagate."""
        raise NotImplementedError

    def failure_prefix(self) -> str:
        """What every bad-input message is about (e.g. ``"CAMS 2026-11-20"``), put before it;
        none by default: the messages name their input (a query file, a collection)."""
        return ""

    def refused(self, problems: list[Problem], columns: Sequence[str], shown: str) -> Exception:
        """The error that refuses the input ``shown`` for ``problems``: the base's are the
        required columns it lacks (one each, with a hint; ``columns``: the input's)."""
        return SchemaError.from_problems(f"cannot stage {shown}", problems)

    # what every extract shares -----------------------------------------------------------

    def required(self) -> list[str]:
        """The columns the input must have: ``required_columns`` (a subclass may add its own)."""
        named = self.required_columns  # a template may render one name as a string
        return [named] if isinstance(named, str) else [str(n) for n in named or ()]

    def execute(self, context: Context) -> Snapshot:
        target = Path(self.snapshot_path).absolute()
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            failing_for_good(self.failure_prefix()),
            tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.stem}.fetch-") as work,
            self.fetch(context, Path(work)) as fetched,
        ):
            rows = self._stage(fetched, target)
            sha256 = fetched.sha256 or file_digest(target)
        self.log.info("%s: staged %d rows of %s at %s", self.source, rows, fetched.file, target)
        return Snapshot(
            source=str(self.source), path=str(target), rows=rows, sha256=sha256, file=fetched.file
        )

    def check_columns(self, columns: Sequence[str], shown: str) -> None:
        """Refuse the input ``shown`` unless ``columns`` hold every required one (``refused``
        says how). The base checks what was fetched; a subclass may check earlier too (a
        file's header before its records are read)."""
        if problems := missing_columns(columns, self.required(), shown):
            raise self.refused(problems, columns, shown)

    def _stage(self, fetched: Fetched, target: Path) -> int:
        """Check ``fetched`` and write it to ``target``, atomically; the row count."""
        import polars as pl

        frames = fetched.frames
        if not isinstance(frames, pl.LazyFrame | pl.DataFrame):
            return write_snapshot(self._checked(frames, fetched), target, fetched.schema)
        self.check_columns(frames.collect_schema().names(), fetched.shown or fetched.file)
        with replaced_atomically(target) as temporary:
            if isinstance(frames, pl.DataFrame):
                frames.write_parquet(temporary)
                return frames.height
            frames.sink_parquet(temporary)  # streamed: a lazy input is never whole in memory
        return int(pl.scan_parquet(target).select(pl.len()).collect().item())

    def _checked(self, frames: Iterable[pl.DataFrame], fetched: Fetched) -> Iterator[pl.DataFrame]:
        """A stream's frames, once the first holds every required column; with no frame and
        no fixed schema, an empty frame of the required columns as text (what a reader of an
        empty answer expects to find)."""
        import polars as pl

        empty = True
        for frame in frames:
            if empty:
                self.check_columns(frame.columns, fetched.shown or fetched.file)
            empty = False
            yield frame
        if empty and fetched.schema is None:
            yield pl.DataFrame(schema=dict.fromkeys(self.required(), pl.String()))


def missing_columns(available: Sequence[str], required: Sequence[str], file: str) -> list[Problem]:
    """One problem per required column the file lacks, with a did-you-mean where one is close."""
    listing = f"the file's columns are {listed(available)}"  # capped: a header can be huge
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


@contextmanager
def named_as(local: Path, shown: str) -> Iterator[None]:
    """Inside the block, the core's errors about the downloaded file ``local`` name it as
    people know it (``shown``: the remote path, the location), never the temporary copy."""
    try:
        yield
    except ReconError as exc:
        raise BadInputError(str(exc).replace(str(local), shown)) from None


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
        self._writer = pq.ParquetWriter(path, self.arrow, compression="zstd")  # polars' default

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
    "missing_columns",
    "named_as",
    "write_snapshot",
]
