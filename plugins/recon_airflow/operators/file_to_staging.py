"""Fetch one input file from wherever it is (S3, SFTP, the staging store) and stage it as Parquet.

The file comes through the providers' hooks (``recon_airflow.locations``) and is read by the
core's readers (CSV, Parquet, XLSX or DBF, by its suffix; CSV text stays text so the engine can
report each unparsable value with its row). Checking its columns and replacing the snapshot is
the base's (``StagingOperator``). A refused file fails the task for good and leaves an earlier
snapshot as it was; a missing file or a connection failure is transient, so ``retries`` apply.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from airflow.sdk import Context

from recon.errors import first_line
from recon.files import file_digest
from recon_airflow.errors import BadInputError
from recon_airflow.operators.staging import Fetched, StagingOperator, named_as
from recon_airflow.settings import staging_root


class FileToStagingOperator(StagingOperator):
    """Fetch ``location``, check it and write it to ``snapshot_path`` as Parquet.

    :param location: ``s3://<bucket>/<key>``, ``sftp://<conn_id>/<path>`` or
        ``staging:<relative path>`` (templated).
    :param side: ``left`` or ``right`` (messages).
    :param delimiter: CSV delimiter; None sniffs it from the header.
    :param encoding: text encoding of a CSV or DBF; None = UTF-8 (CSV) or the DBF's code page.
    :param s3_conn_id: the connection for ``s3://`` locations.
    """

    template_fields: Sequence[str] = (
        "location",
        "source",
        "side",
        "snapshot_path",
        "required_columns",
        "delimiter",
        "encoding",
        "s3_conn_id",
    )

    def __init__(
        self,
        *,
        location: str,
        side: str,
        delimiter: str | None = None,
        encoding: str | None = None,
        s3_conn_id: str = "recon_s3",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.location = location
        self.side = side
        self.delimiter = delimiter
        self.encoding = encoding
        self.s3_conn_id = s3_conn_id

    def failure_prefix(self) -> str:
        return f"{self.source} {self.side}"

    @contextmanager
    def fetch(self, context: Context, workdir: Path) -> Iterator[Fetched]:
        import polars as pl

        from recon.readers.tables import ReadOptions, scan_table
        from recon_airflow.locations import fetch, parse_location

        try:
            location = parse_location(str(self.location))
        except ValueError as exc:
            raise BadInputError(str(exc)) from None
        shown = str(location)
        local = workdir / f"input{PurePosixPath(location.path).suffix.lower()}"
        self.log.info("Fetching %s (%s side of %s)", location, self.side, self.source)
        fetch(location, local, staging=staging_root(), s3_conn_id=self.s3_conn_id)
        options = ReadOptions(
            encoding=self.encoding or None,
            delimiter=self.delimiter or None,
            allow_empty=True,  # an empty side is a result (every key one-sided), not an error
            encoding_option="encoding",
        )
        sha256 = file_digest(local)
        try:
            with named_as(local, shown):  # the core names the row, the column and a hint
                frame = scan_table(local, options)
                yield Fetched(frames=frame, file=location.name, sha256=sha256, shown=shown)
        except pl.exceptions.PolarsError as exc:
            raise BadInputError(f"{shown} is not a readable table: {first_line(exc)}") from None


__all__ = ["FileToStagingOperator"]
