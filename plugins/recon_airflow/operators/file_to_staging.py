"""Fetch one input file from wherever it is (S3, SFTP, the staging store) and stage it as Parquet.

The file comes through the providers' hooks (``recon_airflow.locations``), is read by the core's
readers (CSV, Parquet, XLSX or DBF, by its suffix; CSV text stays text so the engine can report
each unparsable value with its row), its required columns are checked, and only then does its
Parquet snapshot replace the previous one. A refused file fails the task for good
(``AirflowFailException``) and leaves an earlier snapshot as it was; a missing file or a
connection failure is transient, so ``retries`` apply.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from recon.errors import ReconError, SchemaError, first_line
from recon.files import file_digest, replaced_atomically
from recon_airflow.outcome import Snapshot
from recon_airflow.settings import staging_root


class FileToStagingOperator(BaseOperator):
    """Fetch ``location``, check it and write it to ``snapshot_path`` as Parquet.

    :param location: ``s3://<bucket>/<key>``, ``sftp://<conn_id>/<path>`` or
        ``staging:<relative path>`` (templated).
    :param source: the partition's source (names the snapshot in XCom and messages).
    :param side: ``left`` or ``right`` (messages).
    :param required_columns: columns the reconciliation needs (every missing one is reported).
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
        source: str,
        side: str,
        snapshot_path: str,
        required_columns: Sequence[str] = (),
        delimiter: str | None = None,
        encoding: str | None = None,
        s3_conn_id: str = "recon_s3",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.location = location
        self.source = source
        self.side = side
        self.snapshot_path = snapshot_path
        self.required_columns = required_columns
        self.delimiter = delimiter
        self.encoding = encoding
        self.s3_conn_id = s3_conn_id

    def execute(self, context: Context) -> Snapshot:
        from recon_airflow.locations import fetch, parse_location

        try:
            location = parse_location(str(self.location))
        except ValueError as exc:
            raise AirflowFailException(f"{self.source} {self.side}: {exc}") from None
        target = Path(self.snapshot_path).absolute()
        suffix = PurePosixPath(location.path).suffix.lower()
        local = target.parent / f".{target.stem}.{secrets.token_hex(6)}.input{suffix}"
        self.log.info("Fetching %s (%s side of %s)", location, self.side, self.source)
        try:
            fetch(location, local, staging=staging_root(), s3_conn_id=self.s3_conn_id)
            sha256 = file_digest(local)
            rows = self._stage(local, target, shown=str(location))
        finally:
            local.unlink(missing_ok=True)
        self.log.info("Staged %d rows of %s at %s", rows, location, target)
        return Snapshot(
            source=str(self.source), path=str(target), rows=rows, sha256=sha256, file=location.name
        )

    def _stage(self, local: Path, target: Path, *, shown: str) -> int:
        """Read ``local``, check its columns and write the snapshot; the row count."""
        import polars as pl

        from recon.readers.tables import ReadOptions, scan_table
        from recon_airflow.operators.sftp_dbf_to_staging import missing_columns

        options = ReadOptions(
            encoding=self.encoding or None,
            delimiter=self.delimiter or None,
            allow_empty=True,  # an empty side is a result (every key one-sided), not an error
            encoding_option="encoding",
        )
        try:
            frame = scan_table(local, options)
            columns = frame.collect_schema().names()
            named = self.required_columns  # a template may render one name as a string
            required = [named] if isinstance(named, str) else list(named or ())
            if problems := missing_columns(columns, required, shown):
                raise SchemaError.from_problems(f"cannot stage {shown}", problems)
            with replaced_atomically(target) as staged:
                frame.sink_parquet(staged)
            return int(pl.scan_parquet(target).select(pl.len()).collect().item())
        except ReconError as exc:  # the core names the row, the column and a hint
            message = str(exc).replace(str(local), shown)
            raise AirflowFailException(f"{self.source} {self.side}: {message}") from None
        except pl.exceptions.PolarsError as exc:
            raise AirflowFailException(
                f"{self.source} {self.side}: {shown} is not a readable table: {first_line(exc)}"
            ) from None


__all__ = ["FileToStagingOperator"]
