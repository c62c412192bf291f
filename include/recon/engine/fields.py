"""Decide how each compare field is typed and compared, and build the comparison expressions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from recon.engine.normalize import is_numeric, is_temporal
from recon.spec import CompareRule, NormalizeStep, ReconSpec

Kind = Literal["number", "string", "date"]
# Float noise allowed on top of a tolerance: 1e-12 relative, far below a cent at 10^9.
FLOAT_SLACK = 1e-12


@dataclass(frozen=True)
class FieldPlan:
    """One compare field: canonical name, each side's column, how it is parsed and compared."""

    name: str
    left: str
    right: str
    kind: Kind
    rule: CompareRule

    def column(self, side: str) -> str:
        return self.left if side == "left" else self.right


def plan_fields(
    spec: ReconSpec, left_schema: pl.Schema, right_schema: pl.Schema
) -> list[FieldPlan]:
    return [
        FieldPlan(
            name=name,
            left=spec.column(name, "left"),
            right=spec.column(name, "right"),
            kind=field_kind(
                rule,
                spec.normalize_steps(name),
                left_schema.get(spec.column(name, "left")),
                right_schema.get(spec.column(name, "right")),
            ),
            rule=rule,
        )
        for name, rule in spec.compare.items()
    ]


def field_kind(
    rule: CompareRule,
    steps: tuple[NormalizeStep, ...],
    left: pl.DataType | None,
    right: pl.DataType | None,
) -> Kind:
    """How a field is compared: its rule's type, else what its tolerance, its normalisation
    or its columns' dtypes say (used by keyed specs and by match passes alike)."""
    if rule.type != "auto":
        return rule.type
    rules = {s.rule for s in steps}
    if rule.abs_tol or rule.rel_tol or "number" in rules:
        return "number"
    if rule.window_days is not None or "date_formats" in rules:
        return "date"
    dtypes = [d for d in (left, right) if d is not None]
    if rule.case == "sensitive" and dtypes:
        # a native number or date on either side makes the field one (the other side is parsed)
        if any(is_numeric(d) for d in dtypes) and not any(is_temporal(d) for d in dtypes):
            return "number"
        if any(is_temporal(d) for d in dtypes) and not any(is_numeric(d) for d in dtypes):
            return "date"
    return "string"


def common_dtype(kind: Kind, left: pl.DataType, right: pl.DataType) -> pl.DataType:
    """The dtype both sides of a field are cast to before comparing."""
    if kind == "number":
        if isinstance(left, pl.Decimal) and isinstance(right, pl.Decimal):
            scale = max(left.scale or 0, right.scale or 0)
            return pl.Decimal(38, scale)
        return pl.Float64()
    if kind == "date":
        if left == right and is_temporal(left):
            return left
        if pl.Date in (left, right) and not any(isinstance(d, pl.Datetime) for d in (left, right)):
            return pl.Date()
        return pl.Datetime("us")
    return pl.String()


def same_values(field: FieldPlan, left: pl.Expr, right: pl.Expr, *, exact: bool = False) -> pl.Expr:
    """True where both sides agree under the field's rule (both present and within tolerance).

    :param exact: the field's values are decimals (never NaN or infinite: no such checks).
    """
    rule = field.rule
    both_null = left.is_null() & right.is_null()
    one_null = left.is_null() | right.is_null()
    if field.kind == "number":
        lf, rf = left.cast(pl.Float64), right.cast(pl.Float64)
        tolerance = pl.lit(rule.abs_tol)
        if rule.rel_tol:
            tolerance = tolerance + pl.lit(rule.rel_tol) * rf.abs()
        slack = pl.max_horizontal(lf.abs(), rf.abs()) * FLOAT_SLACK
        within = (left - right).abs().cast(pl.Float64) <= tolerance + slack
        # a tolerance (and its float slack) applies to finite numbers only: NaN equals NaN and
        # an infinity itself (README), anything else with a non-finite side differs
        agree = (
            within
            if exact
            else pl.when(lf.is_finite() & rf.is_finite())
            .then(within)
            .otherwise((lf.is_nan() & rf.is_nan()) | (lf.is_infinite() & (lf == rf)))
        )
    elif field.kind == "date" and rule.window_days:
        days = (left.cast(pl.Datetime("us")) - right.cast(pl.Datetime("us"))).dt.total_days()
        agree = days.abs() <= rule.window_days
    elif field.kind == "string" and rule.case == "insensitive":
        agree = left.str.to_lowercase() == right.str.to_lowercase()
    else:
        agree = left == right
    return (
        pl.when(both_null)
        .then(pl.lit(rule.null_equals_null))
        .when(one_null)
        .then(pl.lit(False))
        .otherwise(agree)
    )


def difference(
    field: FieldPlan, left: pl.Expr, right: pl.Expr, *, exact: bool = False
) -> pl.Expr | None:
    """left - right for numbers, in days for dates; None for strings (no diff column).

    :param exact: the field's values are decimals (always finite).
    """
    if field.kind == "number" and exact:
        return left - right
    if field.kind == "number":
        both_finite = left.cast(pl.Float64).is_finite() & right.cast(pl.Float64).is_finite()
        return pl.when(both_finite).then(left - right)  # no NaN or inf - inf in the results
    if field.kind == "date":
        return (left.cast(pl.Datetime("us")) - right.cast(pl.Datetime("us"))).dt.total_days()
    return None
