"""Exact sums of amounts: a group's total is exact in integers of minor units, never a float sum.

A float sum is not exact (0.1 + 0.2 != 0.3). Decimal amounts sum exactly as they are; float
amounts are read at the smallest scale (0..6 digits) that holds every value exactly, summed as
integers and turned back into the float nearest the exact total, so cents in floats balance.
"""

from __future__ import annotations

import polars as pl

MAX_FLOAT_SCALE = 6
_FLOAT_SLACK = 1e-6  # how far from an integer x * 10**scale may be and still be that integer


def minor_scale(values: pl.Series) -> int | None:
    """The number of decimal digits that make every value an integer; None: no such scale.

    Decimal: its dtype's scale. Integers: 0. Floats: the smallest of 0..6 that fits every value.
    """
    dtype = values.dtype
    if isinstance(dtype, pl.Decimal):
        return int(dtype.scale or 0)
    if dtype.is_integer():
        return 0
    finite = values.cast(pl.Float64).drop_nulls()
    finite = finite.filter(finite.is_finite())
    for scale in range(MAX_FLOAT_SCALE + 1):
        scaled = finite * 10**scale
        if ((scaled - scaled.round()).abs() <= _FLOAT_SLACK).all():
            return scale
    return None


def common_scale(*values: pl.Series) -> int | None:
    """The scale that makes every value of every series an integer (None: floats it is)."""
    scales = [minor_scale(v) for v in values]
    return None if None in scales else max((s for s in scales if s is not None), default=0)


def minor_units(column: str, dtype: pl.DataType, scale: int | None) -> pl.Expr:
    """``column`` as Int64 minor units at ``scale`` (exact for Decimal and integer input).

    ``scale`` None (floats with more digits than any scale holds): the values as Float64.
    """
    expr = pl.col(column)
    if scale is None:
        return expr.cast(pl.Float64)
    if isinstance(dtype, pl.Decimal):
        return (expr * pl.lit(10**scale)).cast(pl.Int64)
    return (expr.cast(pl.Float64) * 10**scale).round().cast(pl.Int64)


def exact_sum(column: str, dtype: pl.DataType, scale: int | None) -> pl.Expr:
    """The sum of ``column`` in its own dtype, exact (floats: nearest the exact total)."""
    if isinstance(dtype, pl.Decimal) or dtype.is_integer() or scale is None:
        return pl.col(column).sum()
    return (minor_units(column, dtype, scale).sum() / 10**scale).cast(dtype)
