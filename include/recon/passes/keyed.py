"""The keyed pass: a keyed recon's semantics on the rows earlier passes left open.

A key repeated within one side is reported, never joined many to many: every row holding it
(on both sides) is ``duplicate``, with the other side's rows as candidates and the keyed
engine's words for the reason. Keys unique on both sides pair one to one; a pair whose
compared fields agree under their rules is matched, else ``mismatched`` with the fields that
differ. A row whose key is empty, or has no partner, stays open for the next pass.
"""

from __future__ import annotations

import polars as pl

from recon.engine.fields import FieldPlan, Kind, same_values
from recon.engine.matching import DUP_ROWS_LISTED, times_in
from recon.engine.normalize import is_numeric, is_temporal
from recon.passes.outcome import (
    DUPLICATE,
    FLAG_SCHEMA,
    ID,
    MATCH_SCHEMA,
    MATCHED,
    MISMATCHED,
    ROW,
    OpenRows,
    PassOutcome,
)
from recon.spec.passes import KeyedPass


def run_keyed(rows: OpenRows, keyed: KeyedPass) -> PassOutcome:
    """Pair open rows by key: matches (matched or mismatched) and duplicate rows."""
    keys = [f"__k{i}" for i in range(len(keyed.keys))]
    left, right = _keyed_side(rows, keyed, "left", keys), _keyed_side(rows, keyed, "right", keys)
    repeated = pl.concat(
        [
            left.filter(pl.len().over(keys) > 1).select(keys),
            right.filter(pl.len().over(keys) > 1).select(keys),
        ]
    ).unique()
    if repeated.height:
        flagged = _duplicates(left, right, repeated, keys, rows)
        left = left.join(repeated, on=keys, how="anti")
        right = right.join(repeated, on=keys, how="anti")
    else:
        flagged = pl.DataFrame(schema=FLAG_SCHEMA)
    pairs = left.join(right, on=keys, how="inner", suffix="_r", validate="1:1", nulls_equal=False)
    return PassOutcome(_classified(pairs, keyed, rows), flagged)


def _keyed_side(rows: OpenRows, keyed: KeyedPass, side: str, keys: list[str]) -> pl.DataFrame:
    """ID, ROW, the key values (as one dtype per key across sides) and the compared fields;
    rows with an empty key part are left out (no key: nothing to pair by)."""
    frame = rows.left if side == "left" else rows.right
    other = rows.right if side == "left" else rows.left
    exprs = []
    for key, name in zip(keyed.keys, keys, strict=True):
        mine, theirs = (key.left, key.right) if side == "left" else (key.right, key.left)
        value = pl.col(mine)
        if frame.schema[mine] != other.schema[theirs]:
            value = value.cast(pl.String)
        exprs.append(value.alias(name))
    selected = frame.select(ID, ROW, *exprs, *keyed.compare)
    present = [
        pl.col(k).is_not_null() & (pl.col(k).str.strip_chars() != "")
        if selected.schema[k] == pl.String
        else pl.col(k).is_not_null()
        for k in keys
    ]
    return selected.filter(pl.all_horizontal(present))


def _duplicates(
    left: pl.DataFrame, right: pl.DataFrame, repeated: pl.DataFrame, keys: list[str], rows: OpenRows
) -> pl.DataFrame:
    def summary(frame: pl.DataFrame, tag: str) -> pl.DataFrame:
        return (
            frame.join(repeated, on=keys, how="semi")
            .group_by(keys)
            .agg(
                pl.len().alias(f"times_{tag}"),
                pl.col(ROW).sort().head(DUP_ROWS_LISTED).alias(f"rows_{tag}"),
                pl.col(ID).sort().alias(f"ids_{tag}"),
            )
        )

    both = repeated.join(summary(left, "l"), on=keys, how="left").join(
        summary(right, "r"), on=keys, how="left"
    )
    phrases = [
        times_in(pl.col("times_l").fill_null(0), pl.col("rows_l"), rows.spec.label("left")),
        times_in(pl.col("times_r").fill_null(0), pl.col("rows_r"), rows.spec.label("right")),
    ]
    both = both.with_columns(
        pl.concat_str(phrases, separator=" and ", ignore_nulls=True)
        .str.replace(r"^", "key appears ")
        .alias("reason")
    )
    empty = pl.lit([], pl.List(pl.String))

    def flags(frame: pl.DataFrame, side: str, others: str) -> pl.DataFrame:
        return frame.join(both, on=keys, how="inner").select(
            pl.lit(side).alias("side"),
            pl.col(ID).alias("id"),
            pl.lit(DUPLICATE).alias("status"),
            pl.col(others).fill_null(empty).alias("candidates"),
            "reason",
        )

    return pl.concat([flags(left, "left", "ids_r"), flags(right, "right", "ids_l")]).cast(
        FLAG_SCHEMA
    )


def compare_kind(dtype: pl.DataType) -> Kind:
    """How a parsed field compares (its dtype says what prepare made of it)."""
    if is_numeric(dtype):
        return "number"
    if is_temporal(dtype):
        return "date"
    return "string"


def _classified(pairs: pl.DataFrame, keyed: KeyedPass, rows: OpenRows) -> pl.DataFrame:
    same: dict[str, pl.Expr] = {}
    for name, rule in keyed.compare.items():
        dtype = rows.left.schema[name]
        plan = FieldPlan(name, name, name, compare_kind(dtype), rule)
        exact = isinstance(dtype, pl.Decimal)
        same[name] = same_values(plan, pl.col(name), pl.col(f"{name}_r"), exact=exact)
    differing = [pl.when(~ok).then(pl.lit(name)) for name, ok in same.items()]
    fields = (
        pl.concat_list(differing).list.drop_nulls() if differing else pl.lit([], pl.List(pl.String))
    )
    agreeing = pl.sum_horizontal(ok.cast(pl.Float64) for ok in same.values()) if same else None
    score = agreeing / len(same) if agreeing is not None else pl.lit(1.0)
    return (
        pairs.with_columns(fields.alias("mismatched_fields"))
        .select(
            pl.concat_list(pl.col(ID)).alias("left_ids"),
            pl.concat_list(pl.col(f"{ID}_r")).alias("right_ids"),
            pl.when(pl.col("mismatched_fields").list.len() == 0)
            .then(pl.lit(MATCHED))
            .otherwise(pl.lit(MISMATCHED))
            .alias("status"),
            score.alias("score"),
            "mismatched_fields",
        )
        .cast(MATCH_SCHEMA)
    )


__all__ = ["compare_kind", "run_keyed"]
