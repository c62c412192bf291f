"""Match two prepared sides: report duplicate keys, full-join the rest, classify every key."""

from __future__ import annotations

import polars as pl

from recon.fields import FieldPlan, difference, same_values
from recon.prepare import COUNT, ROW, Plan, Prepared
from recon.result import DUPLICATE, INVALID, LEFT_ONLY, MATCHED, MISMATCHED, RIGHT_ONLY

DUP_ROWS_LISTED = 5


def match(left: Prepared, right: Prepared, plan: Plan) -> pl.DataFrame:
    """All result rows (see result.py) for two prepared sides."""
    keys = plan.key_names
    left_unique, left_dups = _split_duplicates(left.valid, keys)
    right_unique, right_dups = _split_duplicates(right.valid, keys)
    parts = []
    if left_dups.height or right_dups.height:
        dup_keys = pl.concat([left_dups.select(keys), right_dups.select(keys)]).unique()
        # the other side's rows of a duplicated key join the duplicate row, never a match
        left_unique, left_also = _take_keys(left_unique, dup_keys, keys)
        right_unique, right_also = _take_keys(right_unique, dup_keys, keys)
        parts.append(
            _duplicate_rows(
                _dup_summary(left_dups, left_also, keys),
                _dup_summary(right_dups, right_also, keys),
                plan,
            )
        )
    parts.insert(0, _joined(left_unique, right_unique, plan))
    parts += [
        _invalid_rows(left.invalid, "left", plan),
        _invalid_rows(right.invalid, "right", plan),
    ]
    results = pl.concat(parts, how="diagonal_relaxed").select(result_columns(plan))
    return results.with_columns(
        pl.col("mismatched_fields").fill_null(pl.lit([], pl.List(pl.String)))
    )


def result_columns(plan: Plan) -> list[str]:
    columns = [*plan.key_names, "status", "mismatched_fields"]
    for field in plan.fields:
        columns += [f"left_{field.name}", f"right_{field.name}"]
        if field.kind != "string":
            columns.append(f"diff_{field.name}")
    return [*columns, "left_rows", "right_rows", "side", "row", "reason", "break_amount"]


def _split_duplicates(frame: pl.DataFrame, keys: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    key = pl.col(keys[0]) if len(keys) == 1 else pl.struct(keys)
    duplicated = frame.select(key.is_duplicated()).to_series()
    if not duplicated.any():
        return frame, frame.clear()
    return frame.filter(~duplicated), frame.filter(duplicated)


def _take_keys(
    frame: pl.DataFrame, dup_keys: pl.DataFrame, keys: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    taken = frame.join(dup_keys, on=keys, how="semi", nulls_equal=True)
    return frame.join(dup_keys, on=keys, how="anti", nulls_equal=True), taken


def _dup_summary(dups: pl.DataFrame, also: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    rows = pl.concat([dups, also]).sort(ROW)
    return rows.group_by(keys).agg(
        pl.col(COUNT).sum().alias("rows"),
        pl.len().alias("times"),
        pl.col(ROW).head(DUP_ROWS_LISTED).alias("row_list"),
        pl.col(ROW).min().alias("first_row"),
    )


def _duplicate_rows(left: pl.DataFrame, right: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    keys = plan.key_names
    joined = left.join(right, on=keys, how="full", coalesce=True, suffix="_r", nulls_equal=True)
    l_times, r_times = pl.col("times").fill_null(0), pl.col("times_r").fill_null(0)
    side = (
        pl.when((l_times > 1) & (r_times > 1))
        .then(pl.lit("both"))
        .when(l_times > 1)
        .then(pl.lit("left"))
        .otherwise(pl.lit("right"))
    )
    label_l, label_r = plan.spec.label("left"), plan.spec.label("right")
    return joined.select(
        *keys,
        pl.lit(DUPLICATE).alias("status"),
        pl.col("rows").fill_null(0).cast(pl.UInt32).alias("left_rows"),
        pl.col("rows_r").fill_null(0).cast(pl.UInt32).alias("right_rows"),
        side.alias("side"),
        pl.when(l_times > 1)
        .then(pl.col("first_row"))
        .otherwise(pl.col("first_row_r"))
        .cast(pl.Int64)
        .alias("row"),
        pl.concat_str(
            [
                _times(l_times, pl.col("row_list"), label_l),
                _times(r_times, pl.col("row_list_r"), label_r),
            ],
            separator=" and ",
            ignore_nulls=True,
        )
        .str.replace(r"^", "key appears ")
        .alias("reason"),
        pl.lit(0.0).alias("break_amount"),
    )


def _times(times: pl.Expr, rows: pl.Expr, label: str) -> pl.Expr:
    """`3 times in ledger (rows 4, 9, 12)` / `once in bank (row 7)`."""
    listed = rows.cast(pl.List(pl.String)).list.join(", ")
    more = pl.when(times > DUP_ROWS_LISTED).then(pl.lit(", ...")).otherwise(pl.lit(""))
    count = pl.when(times == 1).then(pl.lit("once")).otherwise(pl.format("{} times", times))
    noun = pl.when(times == 1).then(pl.lit("row")).otherwise(pl.lit("rows"))
    return (
        pl.when(times > 0)
        .then(pl.format("{} in {} ({} {}{})", count, pl.lit(label), noun, listed, more))
        .otherwise(None)
    )


def _invalid_rows(invalid: pl.DataFrame, side: str, plan: Plan) -> pl.DataFrame:
    one, zero = pl.lit(1, pl.UInt32), pl.lit(0, pl.UInt32)
    return invalid.select(
        *plan.key_names,
        pl.lit(INVALID).alias("status"),
        (one if side == "left" else zero).alias("left_rows"),
        (zero if side == "left" else one).alias("right_rows"),
        pl.lit(side).alias("side"),
        pl.col(ROW).cast(pl.Int64).alias("row"),
        "reason",
        pl.lit(0.0).alias("break_amount"),
    )


def _joined(left: pl.DataFrame, right: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    keys = plan.key_names
    fields = [f.name for f in plan.fields]
    left = left.select(
        *keys, *[pl.col(f).alias(f"left_{f}") for f in fields], pl.col(COUNT).alias("left_rows")
    )
    right = right.select(
        *keys, *[pl.col(f).alias(f"right_{f}") for f in fields], pl.col(COUNT).alias("right_rows")
    )
    joined = left.lazy().join(right.lazy(), on=keys, how="full", coalesce=True)
    return joined.pipe(classify, plan).collect()


def classify(frame: pl.LazyFrame, plan: Plan) -> pl.LazyFrame:
    """Status, mismatched fields, diffs and money at stake for joined keys."""
    only_right = pl.col("left_rows").is_null()
    only_left = pl.col("right_rows").is_null()
    same = {
        f.name: same_values(f, pl.col(f"left_{f.name}"), pl.col(f"right_{f.name}"))
        for f in plan.fields
    }
    all_same = pl.all_horizontal(list(same.values())) if same else pl.lit(True)
    status = (
        pl.when(only_right)
        .then(pl.lit(RIGHT_ONLY))
        .when(only_left)
        .then(pl.lit(LEFT_ONLY))
        .when(all_same)
        .then(pl.lit(MATCHED))
        .otherwise(pl.lit(MISMATCHED))
    )
    differing = [pl.when(~ok).then(pl.lit(name)) for name, ok in same.items()]
    mismatched_fields = (
        pl.when(status == MISMATCHED)
        .then(
            pl.concat_list(differing).list.drop_nulls()
            if differing
            else pl.lit([], pl.List(pl.String))
        )
        .otherwise(pl.lit([], pl.List(pl.String)))
    )
    diffs = [
        expr.alias(f"diff_{f.name}")
        for f in plan.fields
        if (expr := difference(f, pl.col(f"left_{f.name}"), pl.col(f"right_{f.name}"))) is not None
    ]
    return frame.with_columns(
        status.alias("status"),
        mismatched_fields.alias("mismatched_fields"),
        *diffs,
        pl.col("left_rows").fill_null(0),
        pl.col("right_rows").fill_null(0),
    ).with_columns(_break_amount(plan, same).alias("break_amount"))


def _break_amount(plan: Plan, same: dict[str, pl.Expr]) -> pl.Expr:
    """Money at stake: |diff| when the amount differs, the whole amount for other breaks."""
    name = plan.spec.amount_field()
    field: FieldPlan | None = next((f for f in plan.fields if f.name == name), None)
    if field is None or field.kind != "number":
        return pl.lit(0.0)
    left = pl.col(f"left_{name}").cast(pl.Float64).abs()
    right = pl.col(f"right_{name}").cast(pl.Float64).abs()
    whole = pl.max_horizontal(left, right).fill_null(0.0)
    diff = pl.col(f"diff_{name}").cast(pl.Float64).abs().fill_null(whole)
    status = pl.col("status")
    return (
        pl.when(status == MATCHED)
        .then(pl.lit(0.0))
        .when((status == MISMATCHED) & ~same[field.name])
        .then(diff)
        .otherwise(whole)
    )
