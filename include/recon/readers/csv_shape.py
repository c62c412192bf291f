"""Refuse CSV rows whose field count differs from the header's.

polars reads a row with missing trailing fields as nulls, and (when it parses only some columns)
a row with an extra delimiter shifted: either way a malformed export would be compared as if it
were fine. Files without quote characters (most machine exports) are checked with numpy, 64 MiB
at a time (~0.3 s per 10M rows); files with quotes go through the csv module, which knows that a
quoted delimiter or newline is data.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy loads when a CSV is checked: a Parquet run starts without it
    import numpy as np

from recon.errors import InputFileError

CHUNK = 64 * 1024 * 1024
NEWLINE, CR, QUOTE = ord("\n"), ord("\r"), ord('"')


def check_field_counts(path: Path, data: bytes | None, delimiter: str) -> None:
    """Raise InputFileError at the first data row whose field count is not the header's.

    :param data: the file as UTF-8 bytes when it was transcoded in memory, else None (read path).
    """
    if len(delimiter.encode()) != 1:
        return  # a multi-byte delimiter: leave the checking to the parser
    import numpy as np

    buffer = np.frombuffer(data, dtype=np.uint8) if data is not None else _map(path)
    if buffer.size and not _check_quote_free(path, buffer, ord(delimiter)):
        _check_with_csv_module(path, data, delimiter)


def _map(path: Path) -> np.ndarray:
    import numpy as np

    if path.stat().st_size == 0:
        return np.zeros(0, dtype=np.uint8)
    return np.memmap(path, dtype=np.uint8, mode="r")


def _check_quote_free(path: Path, buffer: np.ndarray, delimiter: int) -> bool:
    """Check a file with no quote character; False (nothing decided) as soon as one shows."""
    import numpy as np

    width: int | None = None
    row = -1  # the header line is row 0
    start = 0
    while start < buffer.size:
        end = _line_boundary(buffer, min(start + CHUNK, buffer.size))
        chunk = np.asarray(buffer[start:end])
        if (chunk == QUOTE).any():
            return False
        ends = np.flatnonzero(chunk == NEWLINE)
        if ends.size == 0 or ends[-1] != chunk.size - 1:
            ends = np.append(ends, chunk.size)  # a last line without a newline
        begins = np.concatenate(([0], ends[:-1] + 1))
        # delimiters before each line's end, by binary search over their positions
        before_end = np.searchsorted(np.flatnonzero(chunk == delimiter), ends)
        fields = np.diff(before_end, prepend=0) + 1
        lengths = ends - begins - (chunk[np.maximum(ends - 1, 0)] == CR)
        if width is None:
            width = int(fields[0])
        blank = lengths <= 0  # polars reads a blank line as a row of nulls: reported as invalid
        bad = np.flatnonzero((fields != width) & ~blank)
        if bad.size:
            first = int(bad[0])
            raise _shape_error(path, row + first + 1, int(fields[first]), width, chr(delimiter))
        row += ends.size
        start = end
    return True


def _line_boundary(buffer: np.ndarray, end: int) -> int:
    """The first position after the last newline before ``end`` (or the end of the buffer)."""
    window = 1 << 16
    while end < buffer.size:
        tail = bytes(buffer[max(0, end - window) : end])
        found = tail.rfind(b"\n")
        if found >= 0:
            return end - len(tail) + found + 1
        if window >= end:
            break
        window *= 4
    return int(buffer.size)


def _check_with_csv_module(path: Path, data: bytes | None, delimiter: str) -> None:
    text = (
        io.StringIO(data.decode("utf-8-sig"), newline="")
        if data is not None
        else path.open(encoding="utf-8-sig", errors="replace", newline="")
    )
    with text as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        width = len(next(reader, []))
        row, first_line = 0, reader.line_num + 1
        for row, fields in enumerate(reader, start=1):
            if fields and len(fields) != width:
                error = _shape_error(path, row, len(fields), width, delimiter)
                if reader.line_num > first_line:  # a quote swallowed line ends
                    error = _unclosed_quote(path, row, first_line, reader.line_num)
                raise error
            last_start, first_line = first_line, reader.line_num + 1
        if row and reader.line_num > last_start and _open_quote_at_end(path, data, last_start):
            raise _unclosed_quote(path, row, last_start, reader.line_num, at_end=True)


def _open_quote_at_end(path: Path, data: bytes | None, line: int) -> bool:
    """Whether the text from ``line`` (1-based) to the end holds an odd number of quotes: a
    quoted value doubles the quotes inside it, so only an unclosed one leaves them odd."""
    raw = data if data is not None else path.read_bytes()
    start = 0
    for _ in range(line - 1):
        start = raw.index(b"\n", start) + 1
    return raw.count(b'"', start) % 2 == 1


def _unclosed_quote(
    path: Path, row: int, line: int, last: int, *, at_end: bool = False
) -> InputFileError:
    where = "is never closed" if at_end else f"runs on to line {last}"
    return InputFileError(
        str(path),
        f'a quote (") opened on line {line} {where}, so lines {line}-{last} read as one row',
        row=row,
        hint='close the quote, or double a quote inside a quoted value ("")',
    )


def _shape_error(path: Path, row: int, fields: int, width: int, delimiter: str) -> InputFileError:
    hint = (
        f"quote values that contain `{delimiter}`, or name the delimiter"
        if fields > width
        else "a value is missing: was the line cut or a field dropped?"
    )
    noun = "field" if fields == 1 else "fields"
    return InputFileError(
        str(path), f"has {fields} {noun} where the header has {width}", row=row, hint=hint
    )
