"""Normalisation rules as polars expressions; parse failures become nulls flagged as invalid."""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

from recon.spec import NormalizeStep, NumberFormat

NUMERIC_DTYPES = (
    pl.Decimal,
    pl.Float32,
    pl.Float64,
    pl.Int8,
    pl.Int16,
    pl.Int32,
    pl.Int64,
    pl.UInt8,
    pl.UInt16,
    pl.UInt32,
    pl.UInt64,
)
TEMPORAL_DTYPES = (pl.Date, pl.Datetime)
# tried in order when a date field has no date_formats; the last two read spreadsheet datetimes.
# None of them can read a day as a month: 01/02/2026 is refused unless the spec says its order.
DEFAULT_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y%m%d",
    "%d-%b-%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
)


def is_numeric(dtype: pl.DataType) -> bool:
    return isinstance(dtype, NUMERIC_DTYPES) or dtype in NUMERIC_DTYPES


def is_temporal(dtype: pl.DataType) -> bool:
    return isinstance(dtype, TEMPORAL_DTYPES) or dtype in TEMPORAL_DTYPES


def text_rules(expr: pl.Expr, steps: Sequence[NormalizeStep]) -> pl.Expr:
    """Apply the string-to-string rules (strip, upper, lower, collapse_spaces, map) in order."""
    for step in steps:
        if step.rule == "strip":
            expr = expr.str.strip_chars()
        elif step.rule == "upper":
            expr = expr.str.to_uppercase()
        elif step.rule == "lower":
            expr = expr.str.to_lowercase()
        elif step.rule == "collapse_spaces":
            expr = expr.str.replace_all(r"\s+", " ").str.strip_chars()
        elif step.rule == "map":
            expr = expr.replace(step.mapping)
    return expr


def parsed_number(expr: pl.Expr, fmt: NumberFormat | None = None) -> pl.Expr:
    """Text -> Float64: thousands separators, decimal comma, `(12.50)` as -12.50, symbols dropped.

    Unparseable text becomes null; the caller flags it as invalid.
    """
    fmt = fmt or NumberFormat()
    text = expr.str.strip_chars()
    if fmt.strip:
        text = text.str.replace_all(f"[{re.escape(fmt.strip)}]", "").str.strip_chars()
    negative = pl.lit(False)
    if fmt.parens_negative:
        negative = text.str.starts_with("(") & text.str.ends_with(")")
        inner = text.str.slice(1, text.str.len_chars() - 2).str.strip_chars()
        text = pl.when(negative).then(inner).otherwise(text)
    if fmt.thousands:
        text = text.str.replace_all(fmt.thousands, "", literal=True)
    if fmt.decimal != ".":
        text = text.str.replace_all(fmt.decimal, ".", literal=True)
    value = text.cast(pl.Float64, strict=False)
    return pl.when(negative).then(-value).otherwise(value) if fmt.parens_negative else value


def plain_number(expr: pl.Expr) -> pl.Expr:
    """Text -> Float64 with no separators allowed (what `type: number` means without `number:`)."""
    return expr.str.strip_chars().cast(pl.Float64, strict=False)


def parsed_date(expr: pl.Expr, formats: Sequence[str]) -> pl.Expr:
    """Text -> Date trying each format in order; the first that parses wins."""
    text = expr.str.strip_chars()
    attempts = [text.str.strptime(pl.Date, fmt, strict=False, exact=True) for fmt in formats]
    return attempts[0] if len(attempts) == 1 else pl.coalesce(attempts)


def is_blank(expr: pl.Expr) -> pl.Expr:
    """True where text is null or only white space (such values are nulls, not parse errors)."""
    return expr.is_null() | (expr.str.strip_chars() == "")
