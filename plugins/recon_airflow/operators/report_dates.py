"""The registrar file's report-date check: every record is dated the business date.

A day's DBF names its report date in one column (text in the registrar's own format, or a D
field). :func:`report_date_problems` reads it once per distinct value and says what is wrong
the way people find it: how many records, which dates, the first record (numbered as the file
counts records, deleted ones included: :func:`live_record_numbers`) and what to ask for.
"""

from __future__ import annotations

import datetime as dt
import os
import struct
from typing import TYPE_CHECKING, Any

from recon.errors import Problem

if TYPE_CHECKING:  # polars and numpy load at run time: DAG files import the operator
    import numpy as np
    import polars as pl

DELETED = 0x2A  # a DBF record's deletion flag
MAX_DATES_LISTED = 5


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


__all__ = ["live_record_numbers", "parsed_date", "report_date_problems"]
