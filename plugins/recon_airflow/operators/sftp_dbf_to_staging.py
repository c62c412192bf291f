"""Fetch a registrar's DBF file over SFTP and stage it, once checked, as a Parquet snapshot.

One task per (source, business date). The file is downloaded into the task's work folder, read
with the core's DBF reader and checked: the required columns exist (from the header, before a
record is read: the base's check) and every record's report date is the business date
(``report_dates``). Only then does the base replace the snapshot, atomically; a refused file
leaves an earlier snapshot as it was. Bad data fails the task for good; a missing file or an
SFTP/SSH failure is transient, so ``retries`` apply.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import Context

from recon.errors import Problem
from recon.files import file_digest
from recon_airflow.dates import as_date
from recon_airflow.errors import BadInputError
from recon_airflow.operators.staging import Fetched, StagingOperator, named_as

if TYPE_CHECKING:  # polars and the SFTP client load at run time: DAG files import this
    import polars as pl


class SftpDbfToStagingOperator(StagingOperator):
    """Download ``remote_path``, check it and write it to ``snapshot_path`` as Parquet.

    :param source: the registrar (e.g. ``"CAMS"``); names the snapshot in XCom and messages.
    :param business_date: the date (or an ISO date) every record's report date must equal.
    :param report_date_field: the column holding each record's report date (text or D field).
    :param report_date_format: ``strptime`` format of that column's text, e.g. ``"%m/%d/%Y"``.
    :param encoding: Python codec for text fields, overriding the code page the file declares
        (for a registrar whose header names the wrong one).
    :param conn_retry_attempts: SSH connection attempts within one try (the hook waits 3-5 s
        between them); task ``retries`` are the outer loop.
    """

    template_fields: Sequence[str] = (
        "source",
        "remote_path",
        "business_date",
        "report_date_field",
        "report_date_format",
        "snapshot_path",
        "required_columns",
        "encoding",
        "sftp_conn_id",
    )

    def __init__(
        self,
        *,
        remote_path: str,
        business_date: dt.date | str,
        report_date_field: str,
        report_date_format: str,
        encoding: str | None = None,
        sftp_conn_id: str = "recon_sftp",
        conn_retry_attempts: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.remote_path = remote_path
        self.business_date = business_date
        self.report_date_field = report_date_field
        self.report_date_format = report_date_format
        self.encoding = encoding
        self.sftp_conn_id = sftp_conn_id
        self.conn_retry_attempts = conn_retry_attempts

    def failure_prefix(self) -> str:
        day = self._business_date()
        return f"{self.source} {day}" if day else str(self.source)

    def required(self) -> list[str]:
        return [*super().required(), str(self.report_date_field)]

    def refused(self, problems: list[Problem], columns: Sequence[str], shown: str) -> Exception:
        """One problem said as it is; several listed (missing columns, report dates alike)."""
        if len(problems) == 1:
            return BadInputError(str(problems[0]))
        return super().refused(problems, columns, shown)

    @contextmanager
    def fetch(self, context: Context, workdir: Path) -> Iterator[Fetched]:
        from recon.readers.dbf import dbf_schema

        business_date = self._business_date()
        if business_date is None:
            reason = f"business_date {self.business_date!r} is not an ISO date (YYYY-MM-DD)"
            raise BadInputError(reason)
        local = workdir / "input.dbf"
        self._download(local)
        sha256 = file_digest(local)
        with named_as(local, self.remote_path):  # the core names record, column and a hint
            columns = list(dbf_schema(local))
            self.check_columns(columns, self.remote_path)  # from the header, before any record
            yield Fetched(
                frames=self._checked_records(local, columns, business_date),
                file=posixpath.basename(self.remote_path),
                sha256=sha256,
                shown=self.remote_path,
            )

    def _business_date(self) -> dt.date | None:
        try:
            return as_date(self.business_date)
        except BadInputError:
            return None

    def _download(self, local: Path) -> None:
        """Fetch the remote file; a missing file or an SSH failure is left to ``retries``."""
        from recon_airflow.locations import sftp_download

        conn_id, remote = self.sftp_conn_id, self.remote_path
        self.log.info("Fetching %s over SFTP connection %s", remote, conn_id)
        try:
            sftp_download(conn_id, remote, local, conn_retry_attempts=self.conn_retry_attempts)
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"{exc}; the registrar may not have sent it yet") from exc

    def _checked_records(
        self, local: Path, columns: list[str], business_date: dt.date
    ) -> pl.DataFrame:
        """The file's records, once every report date is the business date."""
        from recon.readers.dbf import read_dbf
        from recon_airflow.operators.report_dates import live_record_numbers, report_date_problems

        frame = read_dbf(local, columns=columns, encoding=self.encoding or None)
        if frame.height == 0:
            self.log.warning("%s holds no records: nothing to check the date of", self.remote_path)
        problems = report_date_problems(
            frame,
            field=self.report_date_field,
            date_format=self.report_date_format,
            business_date=business_date,
            file=self.remote_path,
            records=live_record_numbers(local, frame.height),
        )
        if problems:
            raise self.refused(problems, columns, self.remote_path)
        return frame


__all__ = ["SftpDbfToStagingOperator"]
