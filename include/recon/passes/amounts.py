"""Amounts as exact integers of minor units, the tolerance in those units, and the sum score.

Sums decide group matches, and a float sum is not exact (0.1 + 0.2 != 0.3). Decimal amounts
are exact at their dtype's scale; float amounts are read at the smallest scale (0..6 digits)
that holds every value exactly, so money in floats (cents) sums exactly too. Only the
tolerance, a float of the spec, stays a float.
"""

from __future__ import annotations

import polars as pl

from recon.spec.passes import AmountRule

MAX_FLOAT_SCALE = 6
_FLOAT_SLACK = 1e-6  # how far from an integer x * 10**scale may be and still be that integer
_TOL_DIGITS = 9  # 0.07 * 100 = 7.000000000000001: the tolerance in minor units, rounded


def minor_scale(values: pl.Series) -> int | None:
    """The number of decimal digits that make every value an integer; None: no such scale.

    Decimal: its dtype's scale. Integers: 0. Floats: the smallest of 0..6 that fits every value.
    """
    dtype = values.dtype
    if isinstance(dtype, pl.Decimal):
        return int(dtype.scale or 0)
    if dtype.is_integer():
        return 0
    finite = values.drop_nulls()
    if finite.is_empty():
        return 0
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


def tolerance_units(rule: AmountRule, scale: int | None, reference: pl.Expr) -> pl.Expr:
    """The allowed |difference| in minor units: abs_tol + rel_tol * |reference| (both scaled)."""
    absolute = round(rule.abs_tol * 10 ** (scale or 0), _TOL_DIGITS)
    if rule.rel_tol == 0:
        return pl.lit(absolute, dtype=pl.Float64)
    return absolute + rule.rel_tol * reference.abs().cast(pl.Float64)


def within(diff: pl.Expr, tolerance: pl.Expr) -> pl.Expr:
    """|diff| within the tolerance; diff exact (integers), the comparison the only float step."""
    return diff.abs().cast(pl.Float64) <= tolerance


def amount_score(diff: pl.Expr, tolerance: pl.Expr) -> pl.Expr:
    """1 at an exact sum, falling linearly to 0.5 at the tolerance's edge (0 tolerance: 1)."""
    ratio = pl.when(tolerance > 0).then(diff.abs().cast(pl.Float64) / tolerance).otherwise(0.0)
    return 1.0 - 0.5 * ratio.clip(0.0, 1.0)


def score_of(diff: float, tolerance: float) -> float:
    """``amount_score`` for one number (the subset search's found subset)."""
    if tolerance <= 0:
        return 1.0
    return 1.0 - 0.5 * min(abs(diff) / tolerance, 1.0)
