"""Candidate pairs of a rule: found by blocking (never a cross join), filtered and scored.

Blocking joins the two sides on what a pair must share: the ``equal`` fields, an amount
bucket and a date bucket. A bucket is wide enough that any pair within the tolerance (or the
window) lands in the same bucket or a neighbour, so the left side is exploded to the few
buckets its partners can be in and joined on equality. Each rule then filters the joined
pairs exactly and gives a part score in [0, 1]; a pair's score is the mean of its parts
(1.0 where the rule has only equal fields).

- amount: 1 at an exact match, down to 0.5 at the edge of the tolerance (non-finite amounts
  never match, a tolerance applies to finite numbers only);
- date: 1 on the same day, down to 0.5 at the edge of the window (before and after apart);
- reference: ``equal`` and ``contains`` score 1, ``similarity`` its rapidfuzz measure / 100.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process, utils

from recon.engine.fields import FLOAT_SLACK, FieldPlan, same_values
from recon.errors import SpecError
from recon.passes.outcome import ID
from recon.spec.model import CompareRule
from recon.spec.passes import AmountRule, DateRule, GroupPass, PassSpec, ReferenceRule, RulePass

LEFT_ID = "left_id"
RIGHT_ID = "right_id"
SCORE = "score"
PAIR_SCHEMA = pl.Schema({LEFT_ID: pl.String(), RIGHT_ID: pl.String(), SCORE: pl.Float64()})
SCORE_DIGITS = 9  # scores are rounded so equal evidence ties exactly, whatever float noise
EDGE_SCORE = 0.5  # a part's score at the edge of its tolerance or window

RuleParts = RulePass | GroupPass


def candidate_pairs(
    left: pl.DataFrame, right: pl.DataFrame, rule_parts: RuleParts, spec: PassSpec
) -> pl.DataFrame:
    """Every (left_id, right_id) pair the rule accepts, with its score; sorted, no repeats.

    :param left: open rows of the left side (``ID`` and the fields the rule uses).
    :param rule_parts: a pass with ``equal``/``amount``/``date``/``reference`` parts.
    """
    if left.is_empty() or right.is_empty():
        return pl.DataFrame(schema=PAIR_SCHEMA)
    used = list(dict.fromkeys(rule_parts.fields_used()))
    lf = left.lazy().select(pl.col(ID).alias(LEFT_ID), *[pl.col(f).alias(_l(f)) for f in used])
    rf = right.lazy().select(pl.col(ID).alias(RIGHT_ID), *[pl.col(f).alias(_r(f)) for f in used])
    on_left: list[str] = []
    on_right: list[str] = []
    for field in rule_parts.equal:  # nulls never equal: the join says so below
        on_left.append(_l(field))
        on_right.append(_r(field))
    reference = rule_parts.reference
    if reference is not None and reference.method == "equal":
        on_left.append(_l(reference.field))
        on_right.append(_r(reference.field))
    if rule_parts.amount is not None:
        lf, rf = _amount_buckets(lf, rf, rule_parts.amount, left, right)
        on_left.append("__ab")
        on_right.append("__ab")
    if rule_parts.date is not None:
        lf, rf = _date_buckets(lf, rf, rule_parts.date)
        on_left.append("__db")
        on_right.append("__db")
    if not on_left and reference is not None and reference.method == "contains":
        lf, rf = _gram_blocks(lf, rf, reference)
        on_left.append("__gram")
        on_right.append("__gram")
    if not on_left:
        raise SpecError(
            f"pass `{rule_parts.name}`: nothing to find candidates by (a similarity alone "
            "would compare every row with every other)",
            problems=(),
        )
    pairs = lf.join(
        rf, left_on=on_left, right_on=on_right, how="inner", nulls_equal=False, coalesce=False
    )
    parts: list[pl.Expr] = []
    if rule_parts.amount is not None:
        pairs, score = _amount_filter(pairs, rule_parts.amount, left, right)
        parts.append(score)
    if rule_parts.date is not None:
        pairs, score = _date_filter(pairs, rule_parts.date)
        parts.append(score)
    if reference is not None and reference.method != "similarity":
        pairs = _reference_filter(pairs, reference)
        parts.append(pl.lit(1.0))
    collected = (
        pairs.select(
            LEFT_ID,
            RIGHT_ID,
            *([_l(reference.field), _r(reference.field)] if reference is not None else []),
            (pl.mean_horizontal(parts) if parts else pl.lit(1.0)).alias("__s"),
            pl.lit(len(parts), pl.Float64).alias("__n"),
        )
        .unique([LEFT_ID, RIGHT_ID])  # a pair seen through two blocks counts once
        .collect()
    )
    if reference is not None and reference.method == "similarity":
        collected = _similar(collected, reference)
    return (
        collected.select(
            LEFT_ID, RIGHT_ID, pl.col("__s").clip(0.0, 1.0).round(SCORE_DIGITS).alias(SCORE)
        )
        .sort(LEFT_ID, RIGHT_ID)
        .cast(PAIR_SCHEMA)
    )


def _l(field: str) -> str:
    return f"__l_{field}"


def _r(field: str) -> str:
    return f"__r_{field}"


# -- amounts ------------------------------------------------------------------------------


def amount_plan(rule: AmountRule) -> FieldPlan:
    """The amount rule as a compare field: ``same_values`` decides, nulls never agree."""
    compare = CompareRule(
        type="number", abs_tol=rule.abs_tol, rel_tol=rule.rel_tol, null_equals_null=False
    )
    return FieldPlan(rule.field, rule.field, rule.field, "number", compare)


def bucket_width(rule: AmountRule, largest: float) -> float:
    """A bucket width no pair within tolerance (plus float slack) can span more than once."""
    reach = rule.abs_tol + rule.rel_tol * largest + largest * FLOAT_SLACK
    return reach * (1 + 1e-9) or 1.0


def _finite(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Float64).is_finite()


def _largest(frame: pl.DataFrame, field: str) -> float:
    values = frame.get_column(field).cast(pl.Float64)
    value = values.filter(values.is_finite()).abs().max()
    return float(value) if isinstance(value, int | float) else 0.0


def _amount_buckets(
    lf: pl.LazyFrame, rf: pl.LazyFrame, rule: AmountRule, left: pl.DataFrame, right: pl.DataFrame
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    width = bucket_width(rule, max(_largest(left, rule.field), _largest(right, rule.field)))
    la, ra = _l(rule.field), _r(rule.field)
    bucket = (pl.col(la).cast(pl.Float64) / width).floor().cast(pl.Int64)
    lf = (
        lf.filter(_finite(la))  # NaN and infinities never match by slack
        .with_columns(pl.concat_list(bucket - 1, bucket, bucket + 1).alias("__ab"))
        .explode("__ab")
    )
    rbucket = (pl.col(ra).cast(pl.Float64) / width).floor().cast(pl.Int64)
    rf = rf.filter(_finite(ra)).with_columns(rbucket.alias("__ab"))
    return lf, rf


def _amount_filter(
    pairs: pl.LazyFrame, rule: AmountRule, left: pl.DataFrame, right: pl.DataFrame
) -> tuple[pl.LazyFrame, pl.Expr]:
    la, ra = pl.col(_l(rule.field)), pl.col(_r(rule.field))
    exact = isinstance(left.schema[rule.field], pl.Decimal) and isinstance(
        right.schema[rule.field], pl.Decimal
    )
    pairs = pairs.filter(same_values(amount_plan(rule), la, ra, exact=exact))
    diff = (la - ra).abs().cast(pl.Float64)
    tolerance = pl.lit(rule.abs_tol) + pl.lit(rule.rel_tol) * ra.cast(pl.Float64).abs()
    score = (
        pl.when(tolerance > 0)
        .then(1 - (1 - EDGE_SCORE) * pl.min_horizontal(diff / tolerance, pl.lit(1.0)))
        .otherwise(1.0)
    )
    return pairs, score


# -- dates --------------------------------------------------------------------------------


def day_number(column: str) -> pl.Expr:
    """A date (or the calendar day of a datetime) as days since 1970-01-01."""
    return pl.col(column).cast(pl.Date).cast(pl.Int64)


def _date_buckets(
    lf: pl.LazyFrame, rf: pl.LazyFrame, rule: DateRule
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    # right's day within [left - before, left + after]: a range shorter than the bucket, so
    # it touches at most two buckets
    width = rule.before + rule.after + 1
    day = day_number(_l(rule.field))
    first, last = (day - rule.before).floordiv(width), (day + rule.after).floordiv(width)
    lf = (
        lf.filter(pl.col(_l(rule.field)).is_not_null())
        .with_columns(pl.concat_list(first, last).list.unique().alias("__db"))
        .explode("__db")
    )
    rf = rf.with_columns(day_number(_r(rule.field)).floordiv(width).alias("__db"))
    return lf, rf


def _date_filter(pairs: pl.LazyFrame, rule: DateRule) -> tuple[pl.LazyFrame, pl.Expr]:
    days = day_number(_r(rule.field)) - day_number(_l(rule.field))
    pairs = pairs.with_columns(days.alias("__days")).filter(
        pl.col("__days").is_between(-rule.before, rule.after)
    )
    late, early = pl.col("__days").clip(lower_bound=0), (-pl.col("__days")).clip(lower_bound=0)
    fall = 1 - EDGE_SCORE
    score = (
        pl.when(pl.col("__days") > 0)
        .then(1 - fall * late / max(rule.after, 1))
        .when(pl.col("__days") < 0)
        .then(1 - fall * early / max(rule.before, 1))
        .otherwise(1.0)
    )
    return pairs, score


# -- references ---------------------------------------------------------------------------


def reference_text(column: str) -> pl.Expr:
    """A reference as ``contains`` reads it: upper case, runs of white space as one space."""
    return pl.col(column).str.to_uppercase().str.replace_all(r"\s+", " ").str.strip_chars()


def _gram_blocks(
    lf: pl.LazyFrame, rf: pl.LazyFrame, rule: ReferenceRule
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """With nothing else to block on: left's first ``min_length`` characters against every
    piece of that length of right's text (a reference found inside holds its own start)."""
    size = rule.min_length
    ref, text = reference_text(_l(rule.field)), reference_text(_r(rule.field))
    lf = lf.with_columns(ref.str.slice(0, size).alias("__gram")).filter(
        pl.col("__gram").str.len_chars() == size
    )
    starts = pl.int_ranges(0, (text.str.len_chars() - size + 1).clip(lower_bound=0))
    rf = (
        rf.with_columns(text.alias("__text"), starts.alias("__at"))
        .explode("__at")
        .filter(pl.col("__at").is_not_null())
        .with_columns(pl.col("__text").str.slice(pl.col("__at"), size).alias("__gram"))
        .drop("__text", "__at")
    )
    return lf, rf


def _reference_filter(pairs: pl.LazyFrame, rule: ReferenceRule) -> pl.LazyFrame:
    left, right = pl.col(_l(rule.field)), pl.col(_r(rule.field))
    if rule.method == "equal":
        return pairs.filter(left == right)
    ref, text = reference_text(_l(rule.field)), reference_text(_r(rule.field))
    found = text.str.contains(ref, literal=True)
    return pairs.filter((ref.str.len_chars() >= rule.min_length) & found.fill_null(False))


def _letters(column: str) -> pl.Expr:
    """How many letters and digits a reference holds (what a measure compares)."""
    return pl.col(column).str.count_matches(r"[\p{L}\p{N}]").fill_null(0)


def _similar(pairs: pl.DataFrame, rule: ReferenceRule) -> pl.DataFrame:
    """Keep pairs whose references reach the threshold; their measure joins the score."""
    left = pairs.get_column(_l(rule.field)).fill_null("").to_list()
    right = pairs.get_column(_r(rule.field)).fill_null("").to_list()
    scorer = getattr(fuzz, rule.measure)
    measured = process.cpdist(
        left, right, scorer=scorer, processor=utils.default_process, workers=1
    )
    long_enough = (_letters(_l(rule.field)) >= rule.min_length) & (
        _letters(_r(rule.field)) >= rule.min_length
    )
    similarity = pl.Series("__sim", np.asarray(measured, dtype=np.float64))
    # the measure is one more part of the mean: (mean of n parts * n + measure) / (n + 1)
    return (
        pairs.with_columns(similarity)
        .filter(long_enough & (pl.col("__sim") >= rule.threshold))
        .with_columns(
            ((pl.col("__s") * pl.col("__n") + pl.col("__sim") / 100) / (pl.col("__n") + 1)).alias(
                "__s"
            )
        )
    )


__all__ = ["LEFT_ID", "PAIR_SCHEMA", "RIGHT_ID", "SCORE", "RuleParts", "candidate_pairs"]
