"""Worksheet rows as XML, built by polars expressions: no Python object per cell.

Each cell is what xlsxwriter (``constant_memory``) writes for the same value, so that the
reference writer and this one give the same workbook: inline strings escaped the way Excel
expects (``_x0001_`` for control characters, ``_x005F`` before a literal ``_xHHHH_``,
``xml:space="preserve"`` at edge whitespace, at most 32,767 characters), numbers in the column's
number format, integers of 2**53 and more as text, NaN and infinities as Excel errors, dates and
times as Excel serials, booleans as ``t="b"``. A null is no cell at all.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Final

import polars as pl
from xlsxwriter.utility import xl_col_to_name

EXCEL_MAX_CHARS: Final = 32_767  # characters a cell holds; xlsxwriter truncates longer strings
EXACT_INT_LIMIT: Final = 2**53  # larger integers lose digits as Excel numbers: keep them as text
_EPOCH_DAYS: Final = 25_568  # 1899-12-31 (Excel's day 0) to 1970-01-01
_LEAP_BUG_DAY: Final = 59  # Excel counts a 1900-02-29: serials after it are one day later
_DAY_US: Final = 86_400_000_000
_CONTROL: Final = [chr(c) for c in (*range(0x09), *range(0x0B, 0x20))]
_ESCAPED_FROM: Final = ["&", "<", ">", *_CONTROL, "\ufffe", "\uffff"]
_ESCAPED_TO: Final = [
    "&amp;",
    "&lt;",
    "&gt;",
    *(f"_x{ord(c):04X}_" for c in (*_CONTROL, "\ufffe", "\uffff")),
]
# (formula, cached value) xlsxwriter's nan_inf_to_errors writes
_NAN_CELL: Final = ("#NUM!", "#NUM!")
_INF_CELL: Final = ("1/0", "#DIV/0!")
_NEG_INF_CELL: Final = ("-1/0", "#DIV/0!")
ROW_NUMBER: Final = "__recon_row__"  # the String column of Excel row numbers cells read
_WIDE_INTEGERS: Final = (pl.Int64, pl.UInt64, pl.Int128, pl.UInt128)


_SPECIAL: Final = r"_x[0-9a-fA-F]{4}_|[&<>\x00-\x08\x0b-\x1f\x{fffe}\x{ffff}]"
_EDGE_SPACE: Final = r"^\s|\s$"


def rows_xml(batch: pl.DataFrame, styles: Mapping[str, int | None], first_row: int) -> pl.Series:
    """The batch's rows as ``<row>`` XML, the first numbered ``first_row``; ``styles`` is each
    column's xf index (``None``: no number format).

    The escaping, truncation and error cells a value may need cost more than the rest of the
    row: one pass over the batch finds the columns that need them, and only those pay.
    """
    schema = batch.schema
    needs = _needs(batch)
    cells = [
        cell_xml(name, dtype, xl_col_to_name(index), styles.get(name), needs.get(name, set()))
        for index, (name, dtype) in enumerate(schema.items())
        if dtype != pl.Null
    ]
    row = pl.col(ROW_NUMBER)
    xml = pl.concat_str(
        [pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>")], ignore_nulls=True
    )
    numbers = pl.int_range(first_row, first_row + batch.height, dtype=pl.Int64)
    return batch.with_columns(numbers.cast(pl.String).alias(ROW_NUMBER)).select(xml).to_series()


def _needs(batch: pl.DataFrame) -> dict[str, set[str]]:
    """Per column, which of "escape", "edges" (whitespace), "errors" (NaN, infinities) and
    "text" (integers too large for a number) some value in the batch needs."""
    checks: list[pl.Expr] = []
    for name, dtype in batch.schema.items():
        value = pl.col(name)
        if dtype == pl.String:
            long = value.str.len_bytes() > EXCEL_MAX_CHARS  # bytes >= characters
            checks.append((value.str.contains(_SPECIAL) | long).any().alias(f"escape {name}"))
            checks.append(value.str.contains(_EDGE_SPACE).any().alias(f"edges {name}"))
        elif dtype.is_float():
            checks.append((~value.is_finite()).any().alias(f"errors {name}"))
        elif dtype in _WIDE_INTEGERS:
            big = (value >= EXACT_INT_LIMIT) | (value <= -EXACT_INT_LIMIT)
            checks.append(big.any().alias(f"text {name}"))
    needs: dict[str, set[str]] = {}
    if checks:
        for label, needed in batch.select(checks).row(0, named=True).items():
            if needed:
                need, name = label.split(" ", 1)
                needs.setdefault(name, set()).add(need)
    return needs


def cell_xml(
    name: str, dtype: pl.DataType, letter: str, style: int | None, needs: Container[str] = ()
) -> pl.Expr:
    """One column's ``<c>`` elements; null where the value is null. ``needs`` (from the data)
    says which of the slower forms some value needs; without it every form is allowed for."""
    value = pl.col(name)
    if dtype == pl.String:
        return string_cell(value, letter, escape="escape" in needs, edges="edges" in needs)
    if dtype == pl.Boolean:
        return _cell(letter, ' t="b"', value.cast(pl.UInt8).cast(pl.String))
    if dtype.is_integer():
        number = _cell(letter, _style(style), value.cast(pl.String))
        if dtype not in _WIDE_INTEGERS or "text" not in needs:
            return number
        exact = (value < EXACT_INT_LIMIT) & (value > -EXACT_INT_LIMIT)
        text = string_cell(value.cast(pl.String), letter, style)
        return pl.when(exact).then(number).otherwise(text)
    if dtype.is_float():
        return float_cell(value.cast(pl.Float64), letter, style, errors="errors" in needs)
    if dtype == pl.Decimal:
        return float_cell(value.cast(pl.Float64), letter, style, errors=False)
    if dtype == pl.Date:
        serial = value.cast(pl.Int32) + _EPOCH_DAYS
        serial = serial + (serial > _LEAP_BUG_DAY).cast(pl.Int32)
        return _cell(letter, _style(style), serial.cast(pl.String))
    if isinstance(dtype, pl.Datetime):
        return _cell(letter, _style(style), datetime_serial(value, dtype).cast(pl.String))
    if dtype == pl.Time:
        return _cell(letter, _style(style), _day_fraction(value.cast(pl.Int64) // 1000))
    if dtype == pl.Duration:
        days = value.dt.total_microseconds() / _DAY_US
        return float_cell(days, letter, style, errors=False)
    if dtype == pl.Binary:
        return string_cell(value.bin.encode("hex"), letter)
    return string_cell(value.cast(pl.String, strict=False), letter)


def string_cell(
    text: pl.Expr,
    letter: str,
    style: int | None = None,
    *,
    escape: bool = True,
    edges: bool = True,
) -> pl.Expr:
    """An inline string, as xlsxwriter writes one in ``constant_memory`` mode (``style``: the
    column's, which xlsxwriter gives a cell written without a format of its own).

    :param escape: some value may be too long, hold ``&<>``, a control character or ``_xHHHH_``.
    :param edges: some value may start or end with whitespace.
    """
    if escape:
        text = (
            text.str.slice(0, EXCEL_MAX_CHARS)
            .str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F${1}")
            .str.replace_many(_ESCAPED_FROM, _ESCAPED_TO)
        )
    preserve = (
        pl.when(text.str.contains(_EDGE_SPACE))
        .then(pl.lit(' xml:space="preserve"'))
        .otherwise(pl.lit(""))
        if edges
        else pl.lit("")
    )
    return pl.concat_str(
        [
            pl.lit(f'<c r="{letter}'),
            pl.col(ROW_NUMBER),
            pl.lit(f'"{_style(style)} t="inlineStr"><is><t'),
            preserve,
            pl.lit(">"),
            text,
            pl.lit("</t></is></c>"),
        ]
    )


def float_cell(value: pl.Expr, letter: str, style: int | None, *, errors: bool = True) -> pl.Expr:
    """A number, or (``errors``: some value may be NaN or infinite) the Excel error
    xlsxwriter's ``nan_inf_to_errors`` writes for it."""
    attributes = _style(style)
    finite = _cell(letter, attributes, value.cast(pl.String))
    if not errors:
        return finite
    return (
        pl.when(value.is_nan())
        .then(_error_cell(letter, attributes, _NAN_CELL))
        .when(value == float("inf"))
        .then(_error_cell(letter, attributes, _INF_CELL))
        .when(value == float("-inf"))
        .then(_error_cell(letter, attributes, _NEG_INF_CELL))
        .otherwise(finite)
    )


def datetime_serial(value: pl.Expr, dtype: pl.Datetime) -> pl.Expr:
    """Excel's serial of a datetime's wall-clock time, computed as xlsxwriter computes it."""
    if dtype.time_zone is not None:  # remove_timezone: the time as shown where it was taken
        value = value.dt.replace_time_zone(None)
    micros = value.dt.cast_time_unit("us").cast(pl.Int64)
    days = micros // _DAY_US
    serial = (days + _EPOCH_DAYS).cast(pl.Float64) + _day_fraction_number(micros - days * _DAY_US)
    serial = pl.when(value.dt.date() == pl.date(1900, 1, 1)).then(serial - 1).otherwise(serial)
    return pl.when(serial > _LEAP_BUG_DAY).then(serial + 1).otherwise(serial)


def _day_fraction_number(micros: pl.Expr) -> pl.Expr:
    """(seconds + microseconds / 1e6) / 86400, in xlsxwriter's order of operations."""
    seconds = (micros // 1_000_000).cast(pl.Float64)
    return (seconds + (micros % 1_000_000).cast(pl.Float64) / 1e6) / 86_400.0


def _day_fraction(micros: pl.Expr) -> pl.Expr:
    return _day_fraction_number(micros).cast(pl.String)


def _style(style: int | None) -> str:
    return f' s="{style}"' if style else ""


def _cell(letter: str, attributes: str, text: pl.Expr) -> pl.Expr:
    return pl.concat_str(
        [
            pl.lit(f'<c r="{letter}'),
            pl.col(ROW_NUMBER),
            pl.lit(f'"{attributes}><v>'),
            text,
            pl.lit("</v></c>"),
        ]
    )


def _error_cell(letter: str, attributes: str, error: tuple[str, str]) -> pl.Expr:
    formula, cached = error
    return pl.concat_str(
        [
            pl.lit(f'<c r="{letter}'),
            pl.col(ROW_NUMBER),
            pl.lit(f'"{attributes} t="e"><f>{formula}</f><v>{cached}</v></c>'),
        ]
    )
