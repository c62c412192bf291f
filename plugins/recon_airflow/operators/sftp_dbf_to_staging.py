"""Fetch a registrar's DBF file over SFTP and stage it, once checked, as a Parquet snapshot.

One task per (source, business date). The file is downloaded beside its snapshot, read with the
core's DBF reader and checked: the required columns exist and every record's report date is the
business date. Only then is the snapshot replaced, atomically; a refused file leaves an earlier
snapshot as it was. Bad data fails the task for good (``AirflowFailException``); a missing file
or an SFTP/SSH failure is transient, so ``retries`` apply.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import secrets
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from recon.errors import DbfError, Problem, SchemaError, did_you_mean
from recon.files import file_digest, replaced_atomically
from recon_airflow.outcome import Snapshot

if TYPE_CHECKING:  # polars, numpy and the SFTP client load at run time: DAG files import this
    import numpy as np
    import polars as pl

DELETED = 0x2A  # a DBF record's deletion flag
MAX_DATES_LISTED = 5


class SftpDbfToStagingOperator(BaseOperator):
    """Download ``remote_path``, check it and write it to ``snapshot_path`` as Parquet.

    :param source: the registrar (e.g. ``"CAMS"``); names the snapshot in XCom and messages.
    :param business_date: ISO date every record's report date must equal.
    :param report_date_field: the column holding each record's report date (text or D field).
    :param report_date_format: ``strptime`` format of that column's text, e.g. ``"%m/%d/%Y"``.
    :param required_columns: columns the reconciliation needs (all missing ones are reported).
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
        source: str,
        remote_path: str,
        business_date: str,
        report_date_field: str,
        report_date_format: str,
        snapshot_path: str,
        required_columns: Sequence[str] = (),
        encoding: str | None = None,
        sftp_conn_id: str = "recon_sftp",
        conn_retry_attempts: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.remote_path = remote_path
        self.business_date = business_date
        self.report_date_field = report_date_field
        self.report_date_format = report_date_format
        self.snapshot_path = snapshot_path
        self.required_columns = required_columns
        self.encoding = encoding
        self.sftp_conn_id = sftp_conn_id
        self.conn_retry_attempts = conn_retry_attempts

    def execute(self, context: Context) -> Snapshot:
        business_date = self._business_date()
        target = Path(self.snapshot_path).absolute()
        target.parent.mkdir(parents=True, exist_ok=True)
        local = target.parent / f".{target.stem}.{secrets.token_hex(6)}.dbf.part"
        try:
            self._download(local)
            sha256 = file_digest(local)
            frame = self._checked_frame(local, business_date)
            with replaced_atomically(target) as staged:
                frame.write_parquet(staged)
        finally:
            local.unlink(missing_ok=True)
        self.log.info("Staged %d records of %s at %s", frame.height, self.remote_path, target)
        return Snapshot(
            source=self.source,
            path=str(target),
            rows=frame.height,
            sha256=sha256,
            file=posixpath.basename(self.remote_path),
        )

    def _business_date(self) -> dt.date:
        try:
            return dt.date.fromisoformat(str(self.business_date))
        except ValueError:
            reason = f"business_date {self.business_date!r} is not an ISO date (YYYY-MM-DD)"
            raise AirflowFailException(f"{self.source}: {reason}") from None

    def _download(self, local: Path) -> None:
        """Fetch the remote file; a missing file or an SSH failure is left to ``retries``."""
        from recon_airflow.locations import sftp_download

        conn_id, remote = self.sftp_conn_id, self.remote_path
        self.log.info("Fetching %s over SFTP connection %s", remote, conn_id)
        try:
            sftp_download(conn_id, remote, local, conn_retry_attempts=self.conn_retry_attempts)
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"{exc}; the registrar may not have sent it yet") from exc

    def _checked_frame(self, local: Path, business_date: dt.date) -> pl.DataFrame:
        """Read the downloaded file and check it; bad data raises ``AirflowFailException``."""
        from recon.readers.dbf import dbf_schema, read_dbf

        try:
            schema = dbf_schema(local)
            named = self.required_columns  # a template may render one name as a string
            required = [*([named] if isinstance(named, str) else named), self.report_date_field]
            if problems := missing_columns(list(schema), required, self.remote_path):
                raise self._refused(business_date, problems)
            frame = read_dbf(local, columns=list(schema), encoding=self.encoding or None)
        except (DbfError, SchemaError) as exc:  # the core names record, column and a hint
            message = str(exc).replace(str(local), self.remote_path)
            raise AirflowFailException(f"{self.source} {business_date}: {message}") from exc
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
            raise self._refused(business_date, problems)
        return frame

    def _refused(self, day: dt.date, problems: Sequence[Problem]) -> AirflowFailException:
        if len(problems) == 1:
            detail = str(problems[0])
        else:
            detail = str(SchemaError.from_problems(f"cannot stage {self.remote_path}", problems))
        return AirflowFailException(f"{self.source} {day}: {detail}")


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


def report_date_problems(
    frame: pl.DataFrame,
    *,
    field: str,
    date_format: str,
    business_date: dt.date,
    file: str,
    records: np.ndarray | None = None,
) -> list[Problem]:
    """Problems with ``field``: values that are not dates, and dates other than the business date.

    :param records: 1-based record numbers of the frame's rows in the file (default: 1..n); they
        differ when the file holds deleted records.
    """
    import polars as pl

    dtype = frame.schema[field]
    if not (dtype == pl.String or dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        hint = "report_date_field must name the report date column"
        return [
            Problem(f"column type {dtype} is not text or a date", file, column=field, hint=hint)
        ]
    # One row per distinct value (a day's file holds one or a few), in file order.
    values = (
        frame.lazy()
        .select(pl.col(field).alias("value"))
        .with_row_index("position")
        .group_by("value")
        .agg(pl.len().alias("count"), pl.col("position").min().alias("first"))
        .sort("first")
        .collect()
    )

    def record(position: int) -> int:
        return position + 1 if records is None else int(records[position])

    total = frame.height
    unparsed: list[tuple[int, Any, int]] = []  # (first position, raw value, records)
    others: dict[dt.date, tuple[int, Any, int]] = {}
    for raw, count, first in values.select("value", "count", "first").iter_rows():
        day = parsed_date(raw, date_format)
        if day is None:
            unparsed.append((first, raw, count))
        elif day != business_date:
            earlier = others.get(day)  # another spelling of a day already seen
            others[day] = (
                (earlier[0], earlier[1], earlier[2] + count) if earlier else (first, raw, count)
            )
    problems = []
    if unparsed:
        first, raw, _ = unparsed[0]
        count = sum(n for _, _, n in unparsed)
        form = f" in the format {date_format!r}" if dtype == pl.String else ""
        problems.append(
            Problem(
                f"unreadable report date: {_records(count, total)} hold no date{form}; "
                f"record {record(first)} holds {_shown(raw)}",
                file,
                column=field,
                hint="the file is damaged or the registrar changed its date format; "
                "check report_date_format",
            )
        )
    if others:
        count = sum(n for _, _, n in others.values())
        first, raw, _ = min(others.values(), key=lambda entry: entry[0])
        days = sorted(others)
        found = ", ".join(f"{day} in {_records(others[day][2])}" for day in days[:MAX_DATES_LISTED])
        if len(days) > MAX_DATES_LISTED:
            found += f" and {len(days) - MAX_DATES_LISTED} more dates"
        if len(days) == 1 and count == total:
            hint = (
                "the registrar sent another day's file; ask for the "
                f"{business_date} file or re-run for {days[0]}, the date it holds"
            )
        else:
            hint = (
                f"the file mixes report dates; ask the registrar for a clean {business_date} file"
            )
        problems.append(
            Problem(
                f"wrong report date: {_records(count, total)} differ from the business date "
                f"{business_date} (found {found}); record {record(first)} holds {_shown(raw)}",
                file,
                column=field,
                hint=hint,
            )
        )
    return problems


def parsed_date(value: object, date_format: str) -> dt.date | None:
    """``value`` as a date (text parsed with ``date_format``), None when it is not one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.strptime(value.strip(), date_format).date()
    except ValueError:
        return None


def _shown(raw: object) -> str:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "no report date"
    return repr(raw) if isinstance(raw, str) else str(raw)


def _records(count: int, total: int | None = None) -> str:
    if total is not None:
        return f"{count} of {total} records"
    return f"{count} record" if count == 1 else f"{count} records"


def live_record_numbers(path: str | os.PathLike[str], height: int) -> np.ndarray | None:
    """1-based record numbers (what a DBF viewer shows) of the live records, when some are
    deleted; None when the file holds ``height`` records, all live."""
    import numpy as np

    with open(path, "rb") as handle:
        count, header_len, record_len = struct.unpack("<4xLHH", handle.read(12))
    if count == height:
        return None
    records = np.memmap(path, np.uint8, "r", offset=header_len, shape=(count, record_len))
    flags = np.array(records[:, 0])
    del records
    return np.flatnonzero(flags != DELETED) + 1
