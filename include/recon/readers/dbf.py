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
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dbfread
import numpy as np
import polars as pl
import pyarrow as pa
from dbfread.codepages import codepages as _CODEPAGES

from recon.errors import DbfError, InputFileError, Problem, SchemaError, did_you_mean

VFP_VERSIONS = frozenset({0x30, 0x31, 0x32})  # Visual FoxPro: B is a double, fields may be null
FLAG_SYSTEM, FLAG_NULLABLE = 0x01, 0x02  # VFP field flags (descriptor byte 18)
LIVE, DELETED, EOF_MARK = 0x20, 0x2A, 0x1A
VFP_EPOCH_JULIAN_DAY, MS_PER_DAY = 2440588, 86_400_000  # the Julian day of 1970-01-01
# Codecs whose text can be checked byte by byte. Multi-byte codecs qualify: their lead bytes
# never decode alone, which sends a column holding one to the exact, per-value path. Stateful
# codecs (iso2022, utf-7, ...) do not, and always take that path.
_BYTEWISE_CODECS = frozenset(
    [codecs.lookup(name).name for name, _ in _CODEPAGES.values()] + ["iso8859-1", "utf-8"]
)
_FIXED_TYPES: dict[str, pl.DataType] = {"C": pl.String(), "F": pl.Float64(), "D": pl.Date()}
_FIXED_TYPES |= {"L": pl.Boolean(), "I": pl.Int32(), "+": pl.Int32(), "T": pl.Datetime("ms")}
_FIXED_TYPES |= {"Y": pl.Decimal(19, 4), "O": pl.Float64()}  # VFP currency and double
_FIX_HINT = "fix the value at the source or re-export the file"


@dataclass(frozen=True)
class _Field:
    name: str
    type: str
    offset: int  # computed: dBase III stores no usable offset
    length: int
    decimals: int
    flags: int  # VFP only
    null_bit: int | None  # bit in the VFP ``_NullFlags`` field, when the field is nullable


@dataclass(frozen=True)
class _Layout:
    path: str
    header: Any  # dbfread's parsed header: dbversion, numrecords, headerlen, recordlen, ...
    encoding: str
    fields: tuple[_Field, ...]  # user fields, in header order
    null_flags: _Field | None


class _AnyFieldType(dbfread.FieldParser):  # which types we read is decided per column
    def field_type_supported(self, field_type: str) -> bool:
        return True


def dbf_schema(path: str | os.PathLike[str]) -> dict[str, pl.DataType]:
    """Columns and types ``read_dbf`` returns, from the header (unreadable fields left out)."""
    layout = _read_layout(path)
    types = {f.name: _dtype(f, layout.header.dbversion) for f in layout.fields}
    return {name: dtype for name, dtype in types.items() if dtype is not None}


def read_dbf(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    encoding: str | None = None,
) -> pl.DataFrame:
    """Read the live (not deleted) records of a DBF file.

    :param columns: fields to read, in this order (default: all, in header order).
    :param encoding: Python codec overriding the header's code page (language driver byte).
    """
    layout = _read_layout(path, encoding)
    fields = _requested(layout, columns)
    return _Records.load(layout).frame(fields)


def _read_layout(path: str | os.PathLike[str], encoding: str | None = None) -> _Layout:
    """Parse the header with dbfread and refuse what is inconsistent in it."""
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise InputFileError(name, "file not found")
    options = {"ignorecase": False, "parserclass": _AnyFieldType, "ignore_missing_memofile": True}
    try:
        table = dbfread.DBF(name, encoding=encoding, **options)
    except LookupError:  # dbfread decodes the field names with it
        raise DbfError(name, f"unknown encoding {encoding!r}", hint="e.g. 'cp1252'") from None
    except (struct.error, ValueError) as exc:  # short header, bad I/L length, undecodable name
        raise DbfError(name, f"corrupt header: {exc}") from None
    except OSError as exc:
        raise InputFileError(name, f"cannot read the file: {exc.strerror}") from None
    problem = _header_problem(table.header, table.fields)
    if problem is not None:
        raise DbfError(name, f"corrupt header: {problem[0]}", column=problem[1])
    fields, null_flags = _fields(table.fields, table.header.dbversion in VFP_VERSIONS)
    return _Layout(name, table.header, table.encoding, fields, null_flags)


def _header_problem(header: Any, raw_fields: Sequence[Any]) -> tuple[str, str | None] | None:
    """The first inconsistency in a parsed header, as (reason, field name)."""
    vfp = header.dbversion in VFP_VERSIONS  # only VFP stores the fields' offsets
    for f in raw_fields:
        if f.length == 0 or (vfp and f.address + f.length > header.recordlen):
            return f"field of length {f.length} at offset {f.address} is outside the record", f.name
        if f.type in "NF" and f.decimal_count > min(f.length, 38):
            return f"{f.decimal_count} decimals in a {f.length}-byte number", f.name
    if not raw_fields:
        return "it declares no fields", None
    if header.recordlen != 1 + sum(f.length for f in raw_fields):
        return f"record length {header.recordlen} is not 1 + the sum of field lengths", None
    if header.headerlen < 32 + 32 * len(raw_fields) + 1:  # (VFP adds 263 bytes to that)
        return f"header length {header.headerlen} is too short for {len(raw_fields)} fields", None
    return None


def _fields(raw_fields: Sequence[Any], vfp: bool) -> tuple[tuple[_Field, ...], _Field | None]:
    fields: list[_Field] = []
    null_flags = None
    offset, null_bits = 1, 0
    # VFP also gives varchar fields bits in _NullFlags, in an order we cannot verify: with one
    # present, nullable fields get no bit and reading them is refused.
    has_varlength = any(f.type in "VQ" for f in raw_fields)
    for raw in raw_fields:
        # VFP keeps field flags in descriptor byte 18; dBase III leaves it reserved (maybe junk).
        flags = raw.reserved1 & 0xFF if vfp else 0
        nullable = bool(flags & FLAG_NULLABLE) and not has_varlength
        null_bit, null_bits = (null_bits, null_bits + 1) if nullable else (None, null_bits)
        field = _Field(raw.name, raw.type, offset, raw.length, raw.decimal_count, flags, null_bit)
        offset += raw.length
        if raw.type == "0":
            null_flags = field
        elif not flags & FLAG_SYSTEM:
            fields.append(field)
    return tuple(fields), null_flags


def _dtype(field: _Field, version: int) -> pl.DataType | None:
    """The column type of a field, None when we cannot read it."""
    if field.type == "N":  # without decimals, up to 18 digits fit an Int64
        small = field.decimals == 0 and field.length <= 18
        return pl.Int64() if small else pl.Decimal(min(field.length, 38), field.decimals)
    if field.type == "B" and version in VFP_VERSIONS:  # dBase's B is a memo
        return pl.Float64()
    return _FIXED_TYPES.get(field.type)


def _requested(layout: _Layout, columns: Sequence[str] | None) -> list[_Field]:
    by_name = {f.name: f for f in layout.fields}
    names = list(by_name) if columns is None else list(columns)
    problems = [
        Problem("no such column in the file", layout.path, column=c, hint=did_you_mean(c, by_name))
        for c in names
        if c not in by_name
    ]
    problems += [
        Problem("column requested twice", layout.path, column=c)
        for c in sorted({c for c in names if names.count(c) > 1})
    ]
    if problems:
        raise SchemaError.from_problems(f"cannot read {layout.path}", problems)
    fields = [by_name[c] for c in names]
    for f in fields:
        if _dtype(f, layout.header.dbversion) is None:
            memo = f.type in "MGPB"  # B is a memo field outside Visual FoxPro
            what = "memo fields are not supported" if memo else "this field type is not supported"
            hint = "leave it out with columns=[...]"
            raise DbfError(layout.path, f"{what} (type {f.type!r})", column=f.name, hint=hint)
    return fields


def _check_file_size(path: str, header: Any) -> None:
    size, n, width = os.path.getsize(path), header.numrecords, header.recordlen
    complete = max(size - header.headerlen, 0) // width
    if complete < n:
        reason = f"truncated: the header declares {n} records but only {complete} are complete"
        reason += f" ({size} bytes); record {complete + 1} is the first incomplete one"
        hint = "the file was cut short (interrupted transfer or export); fetch it again"
        raise DbfError(path, reason, row=complete + 1, hint=hint)
    if complete > n:
        after = np.fromfile(path, np.uint8, 1, offset=header.headerlen + n * width)
        if after[0] != EOF_MARK:  # whole records follow the declared ones
            reason = f"the header declares {n} records but {complete - n} more follow them"
            raise DbfError(path, reason, hint="the header's record count is stale; re-export")


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

    layout: _Layout
    raw: np.ndarray
    live: np.ndarray | None  # physical indices of live records; None when none is deleted

    @classmethod
    def load(cls, layout: _Layout) -> _Records:
        header = layout.header
        _check_file_size(layout.path, header)
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

    def block(self, field: _Field) -> np.ndarray:
        return np.ascontiguousarray(self.raw[:, field.offset : field.offset + field.length])

    def fail(self, index: int, field: _Field, reason: str, hint: str | None = None) -> DbfError:
        record = index if self.live is None else int(self.live[index])
        return DbfError(self.layout.path, reason, row=record + 1, column=field.name, hint=hint)

    def frame(self, fields: Sequence[_Field]) -> pl.DataFrame:
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

    def column(self, field: _Field) -> tuple[pl.Series, pl.Expr, pl.Expr | None]:
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

    def with_nulls(self, field: _Field, series: pl.Series) -> pl.Series:
        """VFP marks nulls in the hidden ``_NullFlags`` field, one bit per nullable field."""
        if not field.flags & FLAG_NULLABLE or self.layout.null_flags is None:
            return series
        if field.null_bit is None or field.null_bit >= 8 * self.layout.null_flags.length:
            reason = "cannot locate the field's null flag (varchar fields, or a short _NullFlags)"
            raise DbfError(self.layout.path, reason, column=field.name)
        flags = self.block(self.layout.null_flags)[:, field.null_bit // 8]
        return series.set(pl.Series((flags >> (field.null_bit % 8)) & 1).cast(pl.Boolean), None)

    def text(self, block: np.ndarray, field: _Field, encoding: str) -> pl.Series:
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

    def exact_text(self, block: np.ndarray, field: _Field, encoding: str) -> pl.Series:
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
            hint = "pass the file's real code page, e.g. encoding='cp1252'"
            raise self.fail(first, field, f"text {raw!r} is not valid {encoding}", hint)
        return pl.Series(field.name, decoded, pl.String).gather(pl.Series(inverse.ravel()))

    def logical(self, block: np.ndarray, field: _Field) -> pl.Series:
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


def _parsed(field: _Field, version: int) -> tuple[pl.Expr, pl.Expr | None]:
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
        value = text.cast(_dtype(field, version) or pl.Float64(), strict=False)
    # Blanks become nulls. The form check matters: polars' cast rounds surplus decimals and
    # accepts exponents.
    return value, ~blank & (value.is_null() | ~text.str.contains(form))


def _number_form(decimals: int) -> str:
    if decimals == 0:
        return r"^[+-]?\d+$"
    return rf"^[+-]?(\d+(\.\d{{0,{decimals}}})?|\.\d{{1,{decimals}}})$"


def _bad_value_reason(field: _Field, raw: bytes) -> str:
    spec = f"N({field.length},{field.decimals})" if field.type == "N" else field.type
    if field.type == "D":
        return f"invalid date {raw!r} in date field (expected YYYYMMDD)"
    if raw.strip(b" ") and not raw.strip(b"* "):
        return f"numeric overflow marker {raw!r} in {spec} field: the value did not fit"
    fraction = raw.partition(b".")[2].strip()
    if field.type == "N" and fraction.isdigit() and len(fraction) > field.decimals:
        return f"value {raw!r} has more decimals than its {spec} field declares"
    return f"value {raw!r} in numeric field {spec} is not a number"


def _binary_column(block: np.ndarray, field: _Field) -> pl.Series:
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
