"""Write dBase III DBF files from polars frames, laid out with numpy (test data, benchmarks).

The ``dbf`` package writes about 5k records/s; this writes a million in seconds. It writes the
types registrar exports use (C, N, F, D, L) and refuses values that do not fit their field
rather than truncating them: a test file must hold exactly what the test meant.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import struct
from collections.abc import Sequence

import numpy as np
import polars as pl
from dbfread.codepages import codepages as _CODEPAGES

FieldSpec = tuple[str, str, int, int]  # (name, type, length, decimals), as in a DBF header

DBASE3 = 0x03
FIXED_LENGTHS = {"D": 8, "L": 1}
MAX_LENGTH = 254


def write_dbf(
    path: str | os.PathLike[str],
    frame: pl.DataFrame,
    fields: Sequence[FieldSpec],
    encoding: str = "cp1252",
    *,
    deleted: Sequence[bool] | np.ndarray | pl.Series | None = None,
    updated: dt.date | None = None,
) -> None:
    """Write ``frame`` as a dBase III table whose language byte declares ``encoding``.

    :param fields: one ``(name, type, length, decimals)`` per column written, in file order;
        ``name`` is a column of ``frame``. Types: C, N, F (text numbers), D, L.
    :param deleted: per-row flags: True rows are written as deleted records.
    :param updated: the header's last-update date (default: today).
    """
    language = _language_byte(encoding)
    for spec in fields:
        _check_spec(spec, frame)
    n = frame.height
    record_len = 1 + sum(length for _, _, length, _ in fields)
    records = np.full((n, record_len), 0x20, np.uint8)
    if deleted is not None:
        flags = np.asarray(deleted, dtype=bool)
        if flags.shape != (n,):
            raise ValueError(f"deleted has {flags.size} flags for {n} rows")
        records[flags, 0] = ord("*")
    offset = 1
    for name, kind, length, decimals in fields:
        text = _as_text(frame[name], kind, length, decimals)
        records[:, offset : offset + length] = _fixed_width(text.rename(name), length, encoding)
        offset += length
    header = _header(fields, n, record_len, language, updated or dt.date.today())
    with open(path, "wb") as handle:
        handle.write(header)
        handle.write(records.tobytes())
        handle.write(b"\x1a")


def _language_byte(encoding: str) -> int:
    wanted = codecs.lookup(encoding).name
    for byte, (name, _) in sorted(_CODEPAGES.items()):
        if codecs.lookup(name).name == wanted:
            return byte
    raise ValueError(f"no DBF language byte declares encoding {encoding!r}")


def _check_spec(spec: FieldSpec, frame: pl.DataFrame) -> None:
    name, kind, length, decimals = spec
    if name not in frame.columns:
        raise ValueError(f"field {name!r} is not a column of the frame")
    if not (name.isascii() and name[:1].isalpha() and name.replace("_", "").isalnum()):
        raise ValueError(f"field name {name!r}: use ASCII letters, digits and _ after a letter")
    if len(name) > 10:
        raise ValueError(f"field name {name!r} is longer than 10 characters")
    if kind not in "CNFDL" or len(kind) != 1:
        raise ValueError(f"field {name}: type {kind!r} is not one of C, N, F, D, L")
    if kind in FIXED_LENGTHS and (length, decimals) != (FIXED_LENGTHS[kind], 0):
        raise ValueError(
            f"field {name}: type {kind} has length {FIXED_LENGTHS[kind]} and no decimals"
        )
    if not 0 < length <= MAX_LENGTH:
        raise ValueError(f"field {name}: length {length} is not within 1..{MAX_LENGTH}")
    if decimals and (kind not in "NF" or decimals > length - 2):
        raise ValueError(f"field {name}: {decimals} decimals do not fit a {kind}({length}) field")


def _as_text(values: pl.Series, kind: str, length: int, decimals: int) -> pl.Series:
    """The field's text per row (numbers right-aligned, blanks for nulls)."""
    if kind == "C":
        return values.cast(pl.String).fill_null("")
    if kind == "D":
        return values.cast(pl.Date).dt.strftime("%Y%m%d").fill_null("")
    if kind == "L":
        logical = pl.col("v").cast(pl.Boolean)
        text = (
            pl.when(logical)
            .then(pl.lit("T"))
            .when(~logical)
            .then(pl.lit("F"))
            .otherwise(pl.lit("?"))
        )
        return values.to_frame("v").select(text).to_series()
    if values.dtype.is_integer() and decimals == 0:
        digits = values.cast(pl.String)
    else:  # through a decimal: exact for decimals, rounded to the field's scale for floats
        scaled = values.cast(pl.Decimal(38, decimals))
        if isinstance(values.dtype, pl.Decimal) and values.dtype.scale > decimals:
            _refuse_first(values, scaled != values, f"has more than {decimals} decimals")
        digits = scaled.cast(pl.String)
    return digits.str.pad_start(length).fill_null("")


def _refuse_first(values: pl.Series, wrong: pl.Series, what: str) -> None:
    if wrong.any():
        row = int(wrong.arg_true()[0])
        raise ValueError(f"field {values.name}, row {row + 1}: {values[row]!r} {what}")


def _fixed_width(text: pl.Series, length: int, encoding: str) -> np.ndarray:
    """Encode each value and place it left-aligned in a (rows x length) space-filled block."""
    array = text.to_arrow()
    _, offsets_buffer, data_buffer = array.buffers()
    data = (
        np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    )
    offsets = np.frombuffer(offsets_buffer, np.int64)[array.offset : array.offset + len(text) + 1]
    data = data[offsets[0] : offsets[-1]]
    if data.size and data.max() >= 0x80:  # ASCII bytes are the same in every DBF code page
        encoded = [_encoded(value, encoding, text.name, row) for row, value in enumerate(text)]
        data = np.frombuffer(b"".join(encoded), np.uint8)
        offsets = np.concatenate([[0], np.cumsum([len(e) for e in encoded])])
    sizes = np.diff(offsets)
    _refuse_first(text, pl.Series(sizes > length), f"needs more than the field's {length} bytes")
    block = np.full((len(text), length), 0x20, np.uint8)
    rows = np.repeat(np.arange(len(text)), sizes)
    block[rows, np.arange(data.size) - np.repeat(offsets[:-1] - offsets[0], sizes)] = data
    return block


def _encoded(value: str, encoding: str, name: str, row: int) -> bytes:
    try:
        return value.encode(encoding)
    except UnicodeEncodeError:
        raise ValueError(
            f"field {name}, row {row + 1}: {value!r} cannot be encoded in {encoding}"
        ) from None


def _header(
    fields: Sequence[FieldSpec], n: int, record_len: int, language: int, updated: dt.date
) -> bytes:
    header_len = 32 + 32 * len(fields) + 1
    head = bytearray(
        struct.pack(
            "<BBBBLHH",
            DBASE3,
            updated.year - 1900,
            updated.month,
            updated.day,
            n,
            header_len,
            record_len,
        )
    )
    head += bytes(32 - len(head))
    head[29] = language
    offset = 1
    for name, kind, length, decimals in fields:
        # The offset is what FoxPro stores at bytes 12-15; dBase III readers ignore it.
        head += struct.pack(
            "<11scLBB14x", name.encode("ascii"), kind.encode("ascii"), offset, length, decimals
        )
        offset += length
    return bytes(head + b"\r")
