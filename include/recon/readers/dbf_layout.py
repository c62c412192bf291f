"""A DBF file's layout: its header parsed by dbfread and checked before any record is read.

The version byte, the field descriptors, the record length and the file's size must agree; a
file that is not a DBF at all (its first byte is no dBase version) is refused as such.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dbfread
import numpy as np
import polars as pl

from recon.errors import DbfError, InputFileError, Problem, SchemaError, did_you_mean

VFP_VERSIONS = frozenset({0x30, 0x31, 0x32})  # Visual FoxPro: B is a double, fields may be null
FLAG_SYSTEM, FLAG_NULLABLE = 0x01, 0x02  # VFP field flags (descriptor byte 18)
EOF_MARK = 0x1A
# version bytes of dBase II-V, FoxBASE, FoxPro and Visual FoxPro files
VERSIONS = frozenset({0x02, 0x03, 0x04, 0x05, 0x07, 0x30, 0x31, 0x32, 0x43, 0x63, 0x7B})
VERSIONS |= frozenset({0x83, 0x87, 0x8B, 0x8C, 0x8E, 0xB3, 0xCB, 0xE5, 0xF5, 0xFB})
_FIXED_TYPES: dict[str, pl.DataType] = {"C": pl.String(), "F": pl.Float64(), "D": pl.Date()}
_FIXED_TYPES |= {"L": pl.Boolean(), "I": pl.Int32(), "+": pl.Int32(), "T": pl.Datetime("ms")}
_FIXED_TYPES |= {"Y": pl.Decimal(19, 4), "O": pl.Float64()}  # VFP currency and double


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    offset: int  # computed: dBase III stores no usable offset
    length: int
    decimals: int
    flags: int  # VFP only
    null_bit: int | None  # bit in the VFP ``_NullFlags`` field, when the field is nullable


@dataclass(frozen=True)
class Layout:
    path: str
    header: Any  # dbfread's parsed header: dbversion, numrecords, headerlen, recordlen, ...
    encoding: str
    fields: tuple[Field, ...]  # user fields, in header order
    null_flags: Field | None
    encoding_option: str = "encoding"  # how the caller overrides the code page, for hints


class AnyFieldType(dbfread.FieldParser):  # which types we read is decided per column
    def field_type_supported(self, field_type: str) -> bool:
        return True


def encoding_hint(option: str, codec: str = "cp1252") -> str:
    """How the caller passes a code page: ``encoding='cp1252'`` in Python, or a CLI flag."""
    return f"{option}={codec!r}" if option == "encoding" else f"{option} {codec}"


def read_layout(
    path: str | os.PathLike[str], encoding: str | None = None, encoding_option: str = "encoding"
) -> Layout:
    """Parse the header with dbfread and refuse what is inconsistent in it.

    :param encoding_option: how the caller sets ``encoding`` (the CLI: ``--left-encoding``).
    """
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise InputFileError(name, "file not found")
    with open(name, "rb") as handle:
        first = handle.read(1)
    if first and first[0] not in VERSIONS:
        raise DbfError(
            name,
            f"not a dBase file: its first byte 0x{first[0]:02X} is no DBF version",
            hint="check that it is a DBF export, not renamed or damaged in transfer",
        )
    options = {"ignorecase": False, "parserclass": AnyFieldType, "ignore_missing_memofile": True}
    try:
        table = dbfread.DBF(name, encoding=encoding, **options)
    except LookupError:  # dbfread decodes the field names with it
        hint = f"e.g. {encoding_hint(encoding_option)}"
        raise DbfError(name, f"unknown encoding {encoding!r}", hint=hint) from None
    except UnicodeDecodeError:
        raise DbfError(
            name,
            "corrupt header: its field names are not text",
            hint="the file is damaged, or not a DBF export",
        ) from None
    except (struct.error, ValueError) as exc:  # short header, bad I/L length
        raise DbfError(name, f"corrupt header: {exc}") from None
    except OSError as exc:
        raise InputFileError(name, f"cannot read the file: {exc.strerror}") from None
    problem = header_problem(table.header, table.fields)
    if problem is not None:
        raise DbfError(name, f"corrupt header: {problem[0]}", column=problem[1])
    fields, null_flags = _fields(table.fields, table.header.dbversion in VFP_VERSIONS)
    return Layout(name, table.header, table.encoding, fields, null_flags, encoding_option)


def header_problem(header: Any, raw_fields: Sequence[Any]) -> tuple[str, str | None] | None:
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


def _fields(raw_fields: Sequence[Any], vfp: bool) -> tuple[tuple[Field, ...], Field | None]:
    fields: list[Field] = []
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
        field = Field(raw.name, raw.type, offset, raw.length, raw.decimal_count, flags, null_bit)
        offset += raw.length
        if raw.type == "0":
            null_flags = field
        elif not flags & FLAG_SYSTEM:
            fields.append(field)
    return tuple(fields), null_flags


def field_dtype(field: Field, version: int) -> pl.DataType | None:
    """The column type of a field, None when we cannot read it."""
    if field.type == "N":  # without decimals, up to 18 digits fit an Int64
        small = field.decimals == 0 and field.length <= 18
        return pl.Int64() if small else pl.Decimal(min(field.length, 38), field.decimals)
    if field.type == "B" and version in VFP_VERSIONS:  # dBase's B is a memo
        return pl.Float64()
    return _FIXED_TYPES.get(field.type)


def requested_fields(layout: Layout, columns: Sequence[str] | None) -> list[Field]:
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
        if field_dtype(f, layout.header.dbversion) is None:
            memo = f.type in "MGPB"  # B is a memo field outside Visual FoxPro
            what = "memo fields are not supported" if memo else "this field type is not supported"
            hint = "leave it out with columns=[...]"
            raise DbfError(layout.path, f"{what} (type {f.type!r})", column=f.name, hint=hint)
    return fields


def check_file_size(path: str, header: Any) -> None:
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
