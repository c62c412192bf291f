"""Read dBase / FoxPro DBF files into polars frames, column by column, without a record loop.

dbfread parses the header; the record area is read once into a (records x bytes) array whose
field slices become columns, parsed and checked in one polars query. Anything irregular is
refused with a ``DbfError`` naming the 1-based physical record and the column: a reconciliation
must not run on silently shortened or garbled input.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from dbfread.codepages import codepages as _CODEPAGES

from recon.errors import DbfError
from recon.readers.dbf_layout import (
    FLAG_NULLABLE,
    Field,
    Layout,
    check_file_size,
    encoding_hint,
    field_dtype,
    read_layout,
    requested_fields,
)

LIVE, DELETED = 0x20, 0x2A
SCAN_BATCH = 250_000  # records a lazy scan decodes at a time
SCAN_CACHE_BYTES = 64 * 2**20  # decoded columns a lazy scan keeps for its next query
VFP_EPOCH_JULIAN_DAY, MS_PER_DAY = 2440588, 86_400_000  # the Julian day of 1970-01-01
# Codecs whose text can be checked byte by byte. Multi-byte codecs qualify: their lead bytes
# never decode alone, which sends a column holding one to the exact, per-value path. Stateful
# codecs (iso2022, utf-7, ...) do not, and always take that path.
_BYTEWISE_CODECS = frozenset(
    [codecs.lookup(name).name for name, _ in _CODEPAGES.values()] + ["iso8859-1", "utf-8"]
)
_FIX_HINT = "fix the value at the source or re-export the file"


def dbf_schema(path: str | os.PathLike[str]) -> dict[str, pl.DataType]:
    """Columns and types ``read_dbf`` returns, from the header (unreadable fields left out)."""
    layout = read_layout(path)
    types = {f.name: field_dtype(f, layout.header.dbversion) for f in layout.fields}
    return {name: dtype for name, dtype in types.items() if dtype is not None}


def read_dbf(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    encoding: str | None = None,
    encoding_option: str = "encoding",
) -> pl.DataFrame:
    """Read the live (not deleted) records of a DBF file.

    :param columns: fields to read, in this order (default: all, in header order).
    :param encoding: Python codec overriding the header's code page (language driver byte).
    :param encoding_option: how the caller sets ``encoding``, named in hints (``--encoding``).
    """
    layout = read_layout(path, encoding, encoding_option)
    fields = requested_fields(layout, columns)
    return _Records.load(layout).frame(fields)


def scan_dbf(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    encoding_option: str = "encoding",
) -> pl.LazyFrame:
    """``read_dbf`` as a lazy scan: a query decodes only the fields it selects.

    The header is read and checked now (unsupported fields refused as ``read_dbf`` does); the
    record area when a query first runs, and it is kept for the scan's next queries (a
    reconciliation reads the keys first, then the fields it compares).
    """
    from polars.io.plugins import register_io_source

    layout = read_layout(path, encoding, encoding_option)
    fields = requested_fields(layout, None)
    check_file_size(layout.path, layout.header)
    types = {f.name: field_dtype(f, layout.header.dbversion) for f in fields}
    schema = {name: dtype for name, dtype in types.items() if dtype is not None}  # all, checked
    scan = _Scan(layout, fields)

    def source(
        with_columns: list[str] | None, predicate: Any, n_rows: int | None, batch_size: int | None
    ) -> Iterator[pl.DataFrame]:
        wanted = fields if with_columns is None else requested_fields(layout, with_columns)
        left = n_rows
        for frame in scan.batches(wanted):
            if predicate is not None:
                frame = frame.filter(predicate)
            if left is not None:
                frame = frame.head(left)
                left -= frame.height
            yield frame
            if left == 0:
                return

    return register_io_source(io_source=source, schema=schema)


class _Scan:
    """A lazy scan's state: the record area, read on the first query, and the columns decoded
    by earlier queries, handed once to a later query that selects them too (a reconciliation
    counts the rows, reads the keys, then reads the keys and the fields it compares), up to
    SCAN_CACHE_BYTES."""

    def __init__(self, layout: Layout, fields: list[Field]) -> None:
        self.layout, self.fields = layout, fields
        self.records: _Records | None = None
        self.decoded: dict[tuple[int, str], pl.Series] = {}  # (batch start, field) -> values
        self.cached_bytes = 0.0

    def batches(self, wanted: Sequence[Field]) -> Iterator[pl.DataFrame]:
        if self.records is None:
            self.records = _Records.load(self.layout)
        # a row count selects nothing: the narrowest field still says how many records are live
        needed = list(wanted) or [min(self.fields, key=lambda f: f.length)]
        for start in range(0, len(self.records.raw), SCAN_BATCH):  # bounded memory: in batches
            columns = {f.name: self.take(start, f.name) for f in needed}
            missing = [f for f in needed if columns[f.name] is None]
            if missing:
                fresh = self.records.part(start, start + SCAN_BATCH).frame(missing)
                self.keep(start, fresh)
                columns.update({series.name: series for series in fresh.iter_columns()})
            yield pl.DataFrame([columns[f.name] for f in needed])

    def take(self, start: int, name: str) -> pl.Series | None:
        series = self.decoded.pop((start, name), None)
        if series is not None:
            self.cached_bytes -= series.estimated_size()
        return series

    def keep(self, start: int, frame: pl.DataFrame) -> None:
        for series in frame.iter_columns():
            size = series.estimated_size()
            if self.cached_bytes + size <= SCAN_CACHE_BYTES:
                self.decoded[(start, series.name)] = series
                self.cached_bytes += size


@functools.lru_cache(maxsize=32)
def _utf8_growth(encoding: str) -> np.ndarray | None:
    """Bytes each byte's character adds in UTF-8 (-1: it does not decode alone), or None when
    the codec cannot be checked byte by byte (stateful, or ASCII not mapped to itself)."""
    if codecs.lookup(encoding).name not in _BYTEWISE_CODECS:
        return None
    growth = np.full(256, -1, np.int8)
    for byte in range(256):
        with contextlib.suppress(UnicodeDecodeError):
            growth[byte] = len(bytes([byte]).decode(encoding).encode("utf-8")) - 1
    ascii_identity = bytes(range(128)).decode(encoding) == "".join(map(chr, range(128)))
    return growth if ascii_identity else None


@dataclass
class _Records:
    """The record area as a (records x record length) byte matrix; deleted records skipped."""

    layout: Layout
    raw: np.ndarray
    live: np.ndarray | None  # physical indices of live records; None when none is deleted

    @classmethod
    def load(cls, layout: Layout) -> _Records:
        header = layout.header
        check_file_size(layout.path, header)
        shape = (header.numrecords, header.recordlen)
        raw = np.fromfile(layout.path, np.uint8, shape[0] * shape[1], offset=header.headerlen)
        raw = raw.reshape(shape)
        flags = raw[:, 0]
        corrupt = (flags != LIVE) & (flags != DELETED)
        if corrupt.any():
            first = int(np.argmax(corrupt))
            reason = f"corrupt record: deletion flag {bytes([flags[first]])!r} is not ' ' or '*'"
            hint = "the file is damaged or its header's record length is wrong"
            raise DbfError(layout.path, reason, row=first + 1, hint=hint)
        if not (deleted := flags == DELETED).any():
            return cls(layout, raw, None)
        live = np.flatnonzero(~deleted)
        return cls(layout, raw[live], live)  # one gather here beats one per field

    def part(self, start: int, stop: int) -> _Records:
        """Records ``[start, stop)`` (live ones), still naming their physical record in errors."""
        if self.live is None:
            live = np.arange(start, min(stop, len(self.raw)))
        else:
            live = self.live[start:stop]
        return _Records(self.layout, self.raw[start:stop], live)

    def block(self, field: Field) -> np.ndarray:
        return np.ascontiguousarray(self.raw[:, field.offset : field.offset + field.length])

    def fail(self, index: int, field: Field, reason: str, hint: str | None = None) -> DbfError:
        record = index if self.live is None else int(self.live[index])
        return DbfError(self.layout.path, reason, row=record + 1, column=field.name, hint=hint)

    def frame(self, fields: Sequence[Field]) -> pl.DataFrame:
        """Convert all fields in one (parallel) query, then refuse the first invalid value."""
        columns = {f.name: self.column(f) for f in fields}
        raw = pl.DataFrame([series for series, _, _ in columns.values()])
        self.raw = np.empty((0, 0), np.uint8)  # the columns hold all we need: free the records
        values = [value.alias(name) for name, (_, value, _) in columns.items()]
        flags = [bad.alias(f"{name}\0") for name, (_, _, bad) in columns.items() if bad is not None]
        out = raw.lazy().select(*values, *flags).collect()  # lazy: shared subexpressions
        for field in fields:
            flag = f"{field.name}\0"  # dbfread cuts field names at the first NUL
            if flag in out.columns and out[flag].any():
                first = int(out[flag].arg_true()[0])
                text = raw[field.name][first].encode("latin-1")  # N, F, D: the bytes as read
                raise self.fail(first, field, _bad_value_reason(field, text), _FIX_HINT)
        return out.select(list(columns))

    def column(self, field: Field) -> tuple[pl.Series, pl.Expr, pl.Expr | None]:
        """The field as a series (text or typed), its finishing expression, its validity check."""
        block = self.block(field)
        if field.type == "C":
            series = self.text(block, field, self.layout.encoding)
        elif field.type in "NFD":  # ASCII by definition; latin-1 shows any stray byte as is
            series = self.text(block, field, "latin-1")
        elif field.type == "L":
            series = self.logical(block, field)
        else:
            series = _binary_column(block, field)
        series = self.with_nulls(field, series.rename(field.name))
        return (series, *_parsed(field, self.layout.header.dbversion))

    def with_nulls(self, field: Field, series: pl.Series) -> pl.Series:
        """VFP marks nulls in the hidden ``_NullFlags`` field, one bit per nullable field."""
        if not field.flags & FLAG_NULLABLE or self.layout.null_flags is None:
            return series
        if field.null_bit is None or field.null_bit >= 8 * self.layout.null_flags.length:
            reason = "cannot locate the field's null flag (varchar fields, or a short _NullFlags)"
            raise DbfError(self.layout.path, reason, column=field.name)
        flags = self.block(self.layout.null_flags)[:, field.null_bit // 8]
        return series.set(pl.Series((flags >> (field.null_bit % 8)) & 1).cast(pl.Boolean), None)

    def text(self, block: np.ndarray, field: Field, encoding: str) -> pl.Series:
        """Fixed-width bytes -> fixed-width strings (still padded), decoded with ``encoding``."""
        growth = _utf8_growth(encoding)
        if growth is None:
            return self.exact_text(block, field, encoding)
        if block.max(initial=0) < 0x80:  # ASCII is already UTF-8: the bytes are the strings
            return _strings(block)
        is_high = block.max(axis=1) >= 0x80
        high_rows, ascii_rows = np.flatnonzero(is_high), np.flatnonzero(~is_high)
        high = block[high_rows]
        high_growth = growth[high]
        if (high_growth < 0).any():  # a byte decoding only with its neighbours, or not at all
            return self.exact_text(block, field, encoding)
        # Each byte is one character here, so one codec call over all those rows is exact.
        utf8 = np.frombuffer(high.tobytes().decode(encoding).encode("utf-8"), np.uint8)
        lengths = block.shape[1] + high_growth.sum(axis=1, dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        order = np.empty(len(block), np.int64)  # back from [ASCII rows, other rows] to the file's
        order[np.concatenate([ascii_rows, high_rows])] = np.arange(len(block))
        return pl.concat([_strings(block[ascii_rows]), _strings(high, utf8, offsets)]).gather(order)

    def exact_text(self, block: np.ndarray, field: Field, encoding: str) -> pl.Series:
        """Decode each distinct value with the codec: multi-byte text, and to locate errors."""
        distinct, inverse = np.unique(block.view(f"S{block.shape[1]}").ravel(), return_inverse=True)
        decoded: list[str | None] = []
        for value in distinct.tolist():
            try:
                decoded.append(value.rstrip(b"\0 ").decode(encoding))
            except UnicodeDecodeError:
                decoded.append(None)
        bad = [k for k, value in enumerate(decoded) if value is None]
        if bad:
            first = int(np.argmax(np.isin(inverse, bad)))
            raw = bytes(block[first]).rstrip(b"\0 ")
            hint = "pass the file's real code page, e.g. " + encoding_hint(
                self.layout.encoding_option
            )
            raise self.fail(first, field, f"text {raw!r} is not valid {encoding}", hint)
        return pl.Series(field.name, decoded, pl.String).gather(pl.Series(inverse.ravel()))

    def logical(self, block: np.ndarray, field: Field) -> pl.Series:
        codes = _LOGICAL_CODES[block[:, 0]]
        if (codes == 3).any():
            first = int(np.argmax(codes == 3))
            reason = f"invalid logical value {bytes(block[first])!r} (expected T/F/Y/N/?)"
            raise self.fail(first, field, reason, _FIX_HINT)
        return pl.Series(field.name, pa.array(codes == 1, mask=codes == 2))


def _strings(block: np.ndarray, utf8: np.ndarray | None = None, offsets: Any = None) -> pl.Series:
    """A block's rows (or UTF-8 bytes cut at ``offsets``) as a string series, without a copy."""
    if utf8 is None:
        utf8, offsets = block.ravel(), np.arange(0, block.size + 1, max(block.shape[1], 1))
    buffers = [pa.py_buffer(offsets.astype(np.int64)), pa.py_buffer(utf8)]
    return pl.Series(pa.LargeStringArray.from_buffers(len(block), *buffers))


def _parsed(field: Field, version: int) -> tuple[pl.Expr, pl.Expr | None]:
    """Expressions for a raw column's value and, for parsed text, a flag on invalid values."""
    column = pl.col(field.name)
    if field.type == "C":
        return column.str.strip_chars_end(" \x00"), None
    if field.type not in "NFD":
        return column, None
    text = column.str.strip_chars(" \x00")
    blank = (text.str.strip_chars("0") if field.type == "D" else text) == ""
    if field.type == "D":
        value, form = text.str.to_date("%Y%m%d", strict=False), r"^\d{8}$"
    else:
        form = _number_form(field.decimals) if field.type == "N" else r"^[^*]*$"
        value = text.cast(field_dtype(field, version) or pl.Float64(), strict=False)
    # Blanks become nulls. The form check matters: polars' cast rounds surplus decimals and
    # accepts exponents.
    return value, ~blank & (value.is_null() | ~text.str.contains(form))


def _number_form(decimals: int) -> str:
    if decimals == 0:
        return r"^[+-]?\d+$"
    return rf"^[+-]?(\d+(\.\d{{0,{decimals}}})?|\.\d{{1,{decimals}}})$"


def _bad_value_reason(field: Field, raw: bytes) -> str:
    spec = f"N({field.length},{field.decimals})" if field.type == "N" else field.type
    if field.type == "D":
        return f"invalid date {raw!r} in date field (expected YYYYMMDD)"
    if raw.strip(b" ") and not raw.strip(b"* "):
        return f"numeric overflow marker {raw!r} in {spec} field: the value did not fit"
    fraction = raw.partition(b".")[2].strip()
    if field.type == "N" and fraction.isdigit() and len(fraction) > field.decimals:
        return f"value {raw!r} has more decimals than its {spec} field declares"
    return f"value {raw!r} in numeric field {spec} is not a number"


def _binary_column(block: np.ndarray, field: Field) -> pl.Series:
    """Visual FoxPro's little-endian binary fields: I/+, Y, T, B/O."""
    if field.type in "I+":
        return pl.Series(field.name, block.view("<i4").ravel())
    if field.type == "Y":  # int64 in units of 1/10000: reinterpret as decimal128 with scale 4
        units = block.view("<i8").ravel()
        pairs = np.column_stack([units, units >> 63])  # sign-extended to 128 bits
        array = pa.Array.from_buffers(pa.decimal128(19, 4), len(units), [None, pa.py_buffer(pairs)])
        return pl.Series(field.name, array)
    if field.type == "T":  # Julian day and milliseconds since midnight
        day_ms = block.view("<u4").astype(np.int64)
        days, ms = day_ms[:, 0], day_ms[:, 1]
        blank = (days == 0) | (block == 0x20).all(axis=1)
        epoch_ms = np.where(blank, 0, (days - VFP_EPOCH_JULIAN_DAY) * MS_PER_DAY + ms)
        return pl.Series(field.name, pa.array(epoch_ms, mask=blank)).cast(pl.Datetime("ms"))
    return pl.Series(field.name, block.view("<f8").ravel())


_LOGICAL_CODES = np.full(256, 3, np.int8)  # 3: invalid, 2: null, 1: true, 0: false
for _chars, _code in ((b"TtYy", 1), (b"FfNn", 0), (b"? ", 2)):
    _LOGICAL_CODES[list(_chars)] = _code
