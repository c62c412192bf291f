"""Match two prepared sides: report duplicate keys, full-join the rest, classify every key.

Keys are joined through their u64 hash (``prepare.HASH``), which is about twice as fast as
joining on the key strings. Equal keys always hash equal; the rare distinct keys that collide are caught (duplicate
candidates are re-checked on the real keys, joined pairs are compared key by key) and those
cases fall back to joining on the real keys, so results never depend on the hash.
"""

from __future__ import annotations

import polars as pl

from recon.engine.at_stake import break_amount, core_rule
from recon.engine.fields import difference, same_values
from recon.engine.prepare import COUNT, HASH, ROW, Plan, Prepared
from recon.result import DUPLICATE, INVALID, LEFT_ONLY, MATCHED, MISMATCHED, RIGHT_ONLY

DUP_ROWS_LISTED = 5
MASK_FIELDS_MAX = 12  # up to 2**12 field combinations map straight to their lists
EMPTY_LIST = pl.lit([], pl.List(pl.String))
COLLISION = "__collision"


def match(left: Prepared, right: Prepared, plan: Plan) -> pl.DataFrame:
    """All result rows (see result.py) for two prepared sides."""
    keys = plan.key_names
    left_unique, left_dups = split_duplicates(left.valid, keys)
    right_unique, right_dups = split_duplicates(right.valid, keys)
    extra = [_invalid_rows(left.invalid, "left", plan), _invalid_rows(right.invalid, "right", plan)]
    if left_dups.height or right_dups.height:
        dup_keys = pl.concat([left_dups.select(keys), right_dups.select(keys)]).unique()
        # the other side's rows of a duplicated key join the duplicate row, never a match
        left_unique, left_also = _take_keys(left_unique, dup_keys, keys)
        right_unique, right_also = _take_keys(right_unique, dup_keys, keys)
        extra.append(
            _duplicate_rows(
                _dup_summary(left_dups, left_also, keys),
                _dup_summary(right_dups, right_also, keys),
                plan,
            )
        )
    results = joined(left_unique, right_unique, plan)
    extra = [part for part in extra if part.height]
    if not extra:  # the usual case: no copy of the big frame
        return results
    rest = pl.concat(extra, how="diagonal_relaxed").with_columns(
        pl.lit([], pl.List(pl.String)).alias("mismatched_fields")
    )
    rest = rest.select(
        pl.col(name).cast(dtype) if name in rest.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in results.schema.items()
    ).with_columns(_money_at_stake(plan, compared=False))  # no values: nothing at stake
    return pl.concat([results, rest])


def result_columns(plan: Plan) -> list[str]:
    columns = [*plan.key_names, "status", "mismatched_fields"]
    for field in plan.fields:
        columns += [f"left_{field.name}", f"right_{field.name}"]
        if field.kind != "string":
            columns.append(f"diff_{field.name}")
    return [*columns, "left_rows", "right_rows", "side", "row", "reason", "break_amount"]


def split_duplicates(frame: pl.DataFrame, keys: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows whose key is unique, rows whose key repeats) within one side."""
    if frame[HASH].n_unique() == frame.height:  # the common case: one cheap pass
        return frame, frame.clear()
    candidates = frame.filter(pl.col(HASH).is_duplicated())  # few rows: check the real keys
    key = pl.col(keys[0]) if len(keys) == 1 else pl.struct(keys)
    repeated = candidates.filter(key.is_duplicated())
    if repeated.height == candidates.height:
        return frame.filter(~pl.col(HASH).is_duplicated()), repeated
    unique = frame.join(repeated.select(ROW), on=ROW, how="anti")
    return unique, repeated


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
                times_in(l_times, pl.col("row_list"), label_l),
                times_in(r_times, pl.col("row_list_r"), label_r),
            ],
            separator=" and ",
            ignore_nulls=True,
        )
        .str.replace(r"^", "key appears ")
        .alias("reason"),
    )


def times_in(times: pl.Expr, rows: pl.Expr, label: str) -> pl.Expr:
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
    )


# -- the join ---------------------------------------------------------------------------


def joined(left: pl.DataFrame, right: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Full outer join of two sides with unique keys, classified (one lazy query)."""
    frame = _finish_join(_hash_join(left, right, plan), plan).collect()
    if frame[COLLISION].any():  # two distinct keys shared a hash: join on the keys themselves
        frame = _finish_join(_key_join(left, right, plan), plan).collect()
    return frame.drop(COLLISION)


def streamed_join(left: pl.LazyFrame, right: pl.LazyFrame, plan: Plan) -> pl.LazyFrame:
    """``joined`` as one lazy query, for sides known to hold unique key hashes and no rejected
    row. A pair of distinct keys sharing a hash gets the status COLLISION: the caller checks
    for it and joins in memory instead."""
    status = pl.when(pl.col(COLLISION)).then(pl.lit(COLLISION)).otherwise(pl.col("status"))
    return (
        _finish_join(_hash_join(left, right, plan), plan)
        .with_columns(status.alias("status"))
        .drop(COLLISION)
    )


def _finish_join(frame: pl.LazyFrame, plan: Plan) -> pl.LazyFrame:
    return (
        frame.pipe(classify, plan)
        .with_columns(
            pl.lit(None, pl.String).alias("side"),
            pl.lit(None, pl.Int64).alias("row"),
            pl.lit(None, pl.String).alias("reason"),
        )
        .select(*result_columns(plan), COLLISION)
    )


def _side_values(side: str, plan: Plan) -> list[pl.Expr]:
    return [
        *[pl.col(f.name).alias(f"{side}_{f.name}") for f in plan.fields],
        pl.col(COUNT).alias(f"{side}_rows"),
    ]


def _hash_join(
    left: pl.DataFrame | pl.LazyFrame, right: pl.DataFrame | pl.LazyFrame, plan: Plan
) -> pl.LazyFrame:
    """Join on the key hash (u64) instead of the keys, flagging pairs whose keys differ."""
    keys = plan.key_names
    lk = [f"__lk_{k}" for k in keys]
    rk = [f"__rk_{k}" for k in keys]
    left_part = left.lazy().select(
        HASH,
        *[pl.col(k).alias(a) for k, a in zip(keys, lk, strict=True)],
        *_side_values("left", plan),
    )
    right_part = right.lazy().select(
        HASH,
        *[pl.col(k).alias(b) for k, b in zip(keys, rk, strict=True)],
        *_side_values("right", plan),
    )
    both = pl.col("left_rows").is_not_null() & pl.col("right_rows").is_not_null()
    differ = pl.any_horizontal(
        [pl.col(a).ne_missing(pl.col(b)) for a, b in zip(lk, rk, strict=True)]
    )
    return left_part.join(right_part, on=HASH, how="full", coalesce=True).select(
        *[pl.coalesce(a, b).alias(k) for k, a, b in zip(keys, lk, rk, strict=True)],
        pl.exclude(HASH, *lk, *rk),
        (both & differ).alias(COLLISION),
    )


def _key_join(left: pl.DataFrame, right: pl.DataFrame, plan: Plan) -> pl.LazyFrame:
    keys = plan.key_names
    return (
        left.lazy()
        .select(*keys, *_side_values("left", plan))
        .join(
            right.lazy().select(*keys, *_side_values("right", plan)),
            on=keys,
            how="full",
            coalesce=True,
            nulls_equal=True,
        )
        .with_columns(pl.lit(False).alias(COLLISION))
    )


def classify(frame: pl.LazyFrame, plan: Plan) -> pl.LazyFrame:
    """Status, mismatched fields, diffs and money at stake for joined keys."""
    only_right = pl.col("left_rows").is_null()
    only_left = pl.col("right_rows").is_null()
    exact = {f.name: isinstance(plan.field_dtypes[f.name], pl.Decimal) for f in plan.fields}
    same = {
        f.name: same_values(
            f, pl.col(f"left_{f.name}"), pl.col(f"right_{f.name}"), exact=exact[f.name]
        )
        for f in plan.fields
    }
    flags = [pl.col(f"__same_{name}") for name in same]
    status = (
        pl.when(only_right)
        .then(pl.lit(RIGHT_ONLY))
        .when(only_left)
        .then(pl.lit(LEFT_ONLY))
        .when(pl.all_horizontal(flags) if flags else pl.lit(True))
        .then(pl.lit(MATCHED))
        .otherwise(pl.lit(MISMATCHED))
    )
    diffs = [
        expr.alias(f"diff_{f.name}")
        for f in plan.fields
        if (
            expr := difference(
                f, pl.col(f"left_{f.name}"), pl.col(f"right_{f.name}"), exact=exact[f.name]
            )
        )
        is not None
    ]
    return (
        frame.with_columns(*[ok.alias(f"__same_{name}") for name, ok in same.items()], *diffs)
        .with_columns(status.alias("status"))
        .with_columns(
            _mismatched_fields(list(same)).alias("mismatched_fields"),
            pl.col("left_rows").fill_null(0),
            pl.col("right_rows").fill_null(0),
            _money_at_stake(plan, compared=True),
        )
        .drop([f"__same_{name}" for name in same])
    )


def _mismatched_fields(names: list[str]) -> pl.Expr:
    """The differing fields of mismatched rows as a list (a bitmask lookup: 30x concat_list)."""
    if not names:
        return EMPTY_LIST
    mismatched = pl.col("status") == MISMATCHED
    if len(names) > MASK_FIELDS_MAX:
        differing = [pl.when(~pl.col(f"__same_{n}")).then(pl.lit(n)) for n in names]
        return (
            pl.when(mismatched)
            .then(pl.concat_list(differing).list.drop_nulls())
            .otherwise(EMPTY_LIST)
        )
    bits = [(~pl.col(f"__same_{n}")).cast(pl.UInt32) * (1 << i) for i, n in enumerate(names)]
    mask = pl.when(mismatched).then(pl.sum_horizontal(bits)).otherwise(pl.lit(0, pl.UInt32))
    masks = list(range(1 << len(names)))
    lists = [[n for i, n in enumerate(names) if m >> i & 1] for m in masks]
    return mask.replace_strict(masks, lists, return_dtype=pl.List(pl.String))


def _money_at_stake(plan: Plan, *, compared: bool) -> pl.Expr:
    """``break_amount`` under the core's rule; ``compared``: the rows' amounts were compared
    (joined keys: ``__same_<amount>`` says whether they agree)."""
    name = plan.spec.amount_field()
    field = next((f for f in plan.fields if f.name == name), None)
    if field is None or field.kind != "number":
        return break_amount(None)
    differs = ~pl.col(f"__same_{field.name}") if compared else pl.lit(False)
    return break_amount(core_rule(field.name, differs))
