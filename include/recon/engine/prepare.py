"""Prepare one side for matching: check columns, normalise, parse, reject bad rows, aggregate.

Every input row ends in exactly one result row's ``left_rows``/``right_rows`` count; the summary
checks that (row conservation) and raises if a single row is unaccounted for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import polars as pl

from recon.engine.fields import FieldPlan, common_dtype, plan_fields
from recon.engine.normalize import (
    DEFAULT_DATE_FORMATS,
    is_blank,
    parsed_date,
    parsed_number,
    plain_number,
    text_rules,
)
from recon.errors import InputFileError, Problem, SchemaError, did_you_mean, listed
from recon.spec import TEXT_RULES, AggregateSide, NormalizeStep, ReconSpec

SIDES = ("left", "right")
ROW = "__row"  # 1-based input row number (data rows, header excluded)
HASH = "__h"  # u64 hash of the normalised key: joins and duplicate checks run on it
COUNT = "__n"  # input rows behind a prepared row (1, or the group size after aggregation)
BAD = "__bad"
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)
REASON_SAMPLE = 40  # characters of a bad value quoted in a reason
STAGED = "__v_"  # a column's parsed value while its checks run


@dataclass(frozen=True)
class Prepared:
    """One side after parsing: valid rows keyed by canonical names, and the rejected rows."""

    valid: pl.DataFrame  # key names, field names, ROW, COUNT
    invalid: pl.DataFrame  # key names, ROW, reason
    input_rows: int


@dataclass(frozen=True)
class Plan:
    spec: ReconSpec
    fields: list[FieldPlan]
    key_names: list[str]
    key_dtypes: dict[str, pl.DataType]  # common key dtype per key name
    field_dtypes: dict[str, pl.DataType]


def make_plan(spec: ReconSpec, left: pl.Schema, right: pl.Schema, names: Sequence[str]) -> Plan:
    """Check every column the spec needs exists, then decide types; all problems at once."""
    schemas = {"left": left, "right": right}
    problems = [
        p
        for side, name in zip(SIDES, names, strict=True)
        for p in _missing(spec, side, schemas[side], name)
    ]
    if problems:
        raise SchemaError.from_problems("input columns do not fit the spec", problems)
    fields = plan_fields(spec, left, right)
    key_problems = [
        p
        for key in spec.keys
        if (p := _key_type_problem(spec, key.name, left[key.left], right[key.right], names))
    ]
    if key_problems:
        raise SchemaError.from_problems("the key columns cannot be joined", key_problems)
    key_dtypes: dict[str, pl.DataType] = {}
    for key in spec.keys:
        l_type, r_type = left[key.left], right[key.right]
        if _text_normalized(spec, key.name, key.left) or _text_normalized(
            spec, key.name, key.right
        ):
            key_dtypes[key.name] = pl.String()
        else:
            key_dtypes[key.name] = l_type if l_type == r_type else pl.String()
    field_dtypes = {}
    for field in fields:
        l_type = _parsed_dtype(field, left[field.left])
        r_type = _parsed_dtype(field, right[field.right])
        field_dtypes[field.name] = common_dtype(field.kind, l_type, r_type)
    return Plan(spec, fields, [k.name for k in spec.keys], key_dtypes, field_dtypes)


def _key_type_problem(
    spec: ReconSpec, key: str, left: pl.DataType, right: pl.DataType, names: Sequence[str]
) -> Problem | None:
    """Keys of two types join as text; that is only right where both write a value the same way
    (text and integers do: ``1``). A float (``1.0``), a decimal (``1.00``) or a date against
    another type would never meet its partner, every key one-sided with exit 0."""
    if left == right or all(d == pl.String or d.is_integer() for d in (left, right)):
        return None
    return Problem(
        f"the key is {left} in {names[0]} ({spec.label('left')}) but {right} in "
        f"{names[1]} ({spec.label('right')}): as text they never match (1.0 against 1)",
        column=key,
        hint="export the key with one type on both sides, e.g. a whole-number float as an "
        "integer, or both as text",
    )


def _missing(spec: ReconSpec, side: str, schema: pl.Schema, source: str) -> list[Problem]:
    present = schema.names()
    wanted: dict[str, str] = {}
    for key in spec.keys:
        wanted[getattr(key, side)] = f"key `{key.name}`"
    for name in spec.compare:
        wanted.setdefault(spec.column(name, side), f"compare field `{name}`")
    agg: AggregateSide | None = getattr(spec.aggregate, side)
    if agg is not None:
        for column in (*agg.group_by, *agg.sum):
            wanted.setdefault(column, f"aggregate.{side}")
        if agg.sign is not None:
            wanted.setdefault(agg.sign.column, f"aggregate.{side}.sign")
    problems = []
    for column, role in wanted.items():
        if column not in present:
            hint = did_you_mean(column, present) or f"columns are: {listed(present)}"
            problems.append(
                Problem(
                    f"no column `{column}` ({role}) in the {spec.label(side)} input",
                    path=source,
                    column=column,
                    hint=hint,
                )
            )
    return problems


def _text_normalized(spec: ReconSpec, name: str, column: str) -> bool:
    return any(step.rule in TEXT_RULES for step in spec.normalize_steps(name, column))


def _parsed_dtype(field: FieldPlan, dtype: pl.DataType) -> pl.DataType:
    if dtype == pl.String and field.kind == "number":
        return pl.Float64()
    if dtype == pl.String and field.kind == "date":
        return pl.Date()
    return dtype


# -- one side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SideQuery:
    """The lazy part of preparing one side: parse, flag bad rows, hash keys. No data read yet."""

    side: str
    source: str
    frame: pl.LazyFrame  # input columns parsed, ROW, HASH, BAD and one flag per check
    raw: pl.LazyFrame  # ROW and the raw text, read again only for rejected rows
    columns: list[str]
    checks: list[tuple[pl.Expr, pl.Expr]]  # (failed, reason) pairs
    canonical: dict[str, str]
    length: pl.LazyFrame  # the input's row count (Parquet metadata; no row index in the way)

    def collect(self) -> pl.DataFrame:
        try:
            return self.frame.collect(engine="streaming")
        except pl.exceptions.PolarsError as exc:
            raise read_error(self.source, exc) from None


def _refuse_nested(schema: pl.Schema, columns: Sequence[str], source: str) -> None:
    """A column of lists, arrays or structs holds no single value to compare: name it."""
    for column in columns:
        dtype = schema.get(column)
        if dtype is not None and dtype.is_nested():
            raise InputFileError(
                source,
                f"holds {type(dtype).__name__.lower()} values ({dtype}), not one value per row",
                column=column,
                hint="flatten it first: explode it, or pick one element",
            )


def read_error(source: str, exc: Exception) -> InputFileError:
    return InputFileError(source, f"cannot read: {str(exc).splitlines()[0]}")


def prepare(frame: pl.LazyFrame, plan: Plan, side: str, source: str) -> Prepared:
    """Parse and normalise one side in memory; rows that fail go to ``invalid`` with a reason."""
    query = side_query(frame, plan, side, source)
    return finish(query, query.collect(), plan)


def side_query(frame: pl.LazyFrame, plan: Plan, side: str, source: str) -> SideQuery:
    """Build the lazy query for one side (only the columns the spec needs are read: a CSV's
    rows were all checked for their field count when it was opened, see readers.csv_shape)."""
    spec = plan.spec
    agg: AggregateSide | None = getattr(spec.aggregate, side)
    columns = _needed_columns(spec, side, agg)
    schema = frame.collect_schema()
    _refuse_nested(schema, columns, source)
    length = frame.select(pl.len())
    frame = frame.select(columns).with_row_index(ROW, offset=1)
    staged: dict[str, pl.Expr] = {}  # column -> its parsed value, computed once as STAGED
    finals: list[pl.Expr] = []
    checks: list[tuple[pl.Expr, pl.Expr]] = []
    canonical = _canonical_names(spec, side)
    field_by_column = {f.column(side): f for f in plan.fields}
    sum_columns = set(agg.sum) if agg else set()
    for column in columns:
        name = canonical.get(column, column)
        steps = spec.normalize_steps(name, column)
        raw = pl.col(column)
        dtype = schema[column]
        value = text_rules(raw, steps) if dtype == pl.String else raw
        field = field_by_column.get(column)
        kind = field.kind if field is not None else "number" if column in sum_columns else None
        parsed = pl.col(f"{STAGED}{column}")
        if name in plan.key_dtypes:
            staged[column] = value.cast(plan.key_dtypes[name])
            blank = is_blank(parsed) if plan.key_dtypes[name] == pl.String else parsed.is_null()
            checks.append((blank, pl.format("key `{}` is empty", pl.lit(column))))
            value = parsed
        elif kind is not None and (parse := _parser(value, kind, steps, dtype)) is not None:
            staged[column] = parse
            value = _checked(parsed, raw, kind, _formats(steps), column, checks)
        if field is not None:
            value = value.cast(plan.field_dtypes[field.name])
        finals.append(value.alias(column))
    flags = [f"__failed{i}" for i in range(len(checks))]
    bad = pl.any_horizontal(flags) if checks else pl.lit(False)
    key_columns = [pl.col(getattr(k, side)).alias(k.name) for k in spec.keys]
    # in three steps, so each parse and each check runs once (one with_columns repeats them)
    parsed_frame = (
        frame.with_columns(parse.alias(f"{STAGED}{c}") for c, parse in staged.items())
        .with_columns(failed.alias(flag) for (failed, _), flag in zip(checks, flags, strict=True))
        .with_columns(*finals, bad.alias(BAD))
        .drop(f"{STAGED}{column}" for column in staged)
        .with_columns(key_hash(key_columns).alias(HASH))
    )
    raw_text = frame.select(ROW, *[pl.col(c).alias(f"__raw_{c}") for c in columns])
    return SideQuery(side, source, parsed_frame, raw_text, columns, checks, canonical, length)


def finish(query: SideQuery, collected: pl.DataFrame, plan: Plan) -> Prepared:
    """Split the rejected rows (with their reasons) from the valid ones and aggregate those."""
    input_rows = collected.height
    invalid_rows = collected.filter(pl.col(BAD))
    if invalid_rows.height:
        try:
            rejected = invalid_rows.lazy().select(ROW)
            raws = query.raw.join(rejected, on=ROW, how="semi").collect()
        except pl.exceptions.PolarsError as exc:
            raise read_error(query.source, exc) from None
        invalid = _reasons(invalid_rows, raws, query.checks, query.columns, query.canonical, plan)
    else:
        invalid = _empty_invalid(plan)
    # filtering copies every column: skip it in the usual case of no rejected row
    valid = collected.filter(~pl.col(BAD)) if invalid_rows.height else collected
    del collected
    return Prepared(matchable(valid, query, plan), invalid, input_rows)


def matchable(valid: Frame, query: SideQuery, plan: Plan, *, count: pl.Expr | None = None) -> Frame:
    """Valid rows as matching takes them: canonical names, ROW, COUNT and HASH (aggregated
    where the spec says so); in memory, or as a lazy query to stream.

    :param count: COUNT of an unaggregated row (default 1).
    """
    agg: AggregateSide | None = getattr(plan.spec.aggregate, query.side)
    if agg is not None:
        valid = _aggregate(valid.select(ROW, HASH, *query.columns), agg)
    else:
        one = pl.lit(1, pl.UInt32) if count is None else count
        valid = valid.select(ROW, HASH, *query.columns, one.alias(COUNT))
    names = valid.collect_schema().names()
    valid = valid.rename({c: n for c, n in query.canonical.items() if c in names and c != n})
    keep = [*plan.key_names, *[f.name for f in plan.fields], ROW, COUNT, HASH]
    return valid.select(keep)


def key_hash(keys: Sequence[pl.Expr]) -> pl.Expr:
    """A u64 per key; equal keys hash equal, distinct keys may collide (callers verify)."""
    return keys[0].hash(seed=0x5EC0) if len(keys) == 1 else pl.struct(keys).hash(0x5EC0)


def _needed_columns(spec: ReconSpec, side: str, agg: AggregateSide | None) -> list[str]:
    columns: list[str] = list(spec.key_columns(side))
    columns += [spec.column(name, side) for name in spec.compare]
    if agg is not None:
        columns += [*agg.group_by, *agg.sum]
        if agg.sign is not None:
            columns.append(agg.sign.column)
    return list(dict.fromkeys(columns))


def _canonical_names(spec: ReconSpec, side: str) -> dict[str, str]:
    """Input column -> canonical name, for keys and compare fields."""
    names = {getattr(k, side): k.name for k in spec.keys}
    for name in spec.compare:
        names.setdefault(spec.column(name, side), name)
    return names


def _formats(steps: Sequence[NormalizeStep]) -> tuple[str, ...]:
    return next((s.date_formats for s in steps if s.rule == "date_formats"), ())


def _parser(
    value: pl.Expr, kind: str, steps: Sequence[NormalizeStep], dtype: pl.DataType
) -> pl.Expr | None:
    """How text becomes the field's kind (None: nothing to parse, a native or text value)."""
    if dtype != pl.String or kind == "string":
        return None
    if kind == "number":
        fmt = next((s.number for s in steps if s.rule == "number"), None)
        return parsed_number(value, fmt) if fmt is not None else plain_number(value)
    formats = _formats(steps)
    parsed = parsed_date(value, formats or DEFAULT_DATE_FORMATS)
    if formats:
        return parsed
    # %Y would read 01-02-26 as the year 1: defaults take whole years only
    whole_year = value.str.contains(r"^\s*(\d{4}|\d{1,2}-[A-Za-z]{3}-\d{4})")
    return pl.when(whole_year).then(parsed)


def _checked(
    parsed: pl.Expr,
    raw: pl.Expr,
    kind: str,
    formats: Sequence[str],
    column: str,
    checks: list[tuple[pl.Expr, pl.Expr]],
) -> pl.Expr:
    """The parsed value, adding to ``checks`` what makes a row invalid: text that does not
    parse, and for numbers text that parses to NaN or an infinity (``inf``, ``1e309``: no
    amount, and it would match anything by slack; its value becomes null)."""
    failed = parsed.is_null() & ~is_blank(raw)
    checks.append((failed, _cannot_parse(column, raw, kind, declared=bool(formats))))
    if kind != "number":
        return parsed
    non_finite = parsed.is_not_null() & ~parsed.is_finite()
    sample = raw.cast(pl.String).str.slice(0, REASON_SAMPLE)
    reason = pl.format("column `{}`: '{}' is not a finite number", pl.lit(column), sample)
    checks.append((non_finite, reason))
    return pl.when(non_finite).then(None).otherwise(parsed)


def _cannot_parse(column: str, raw: pl.Expr, kind: str, declared: bool = True) -> pl.Expr:
    what = "a number" if kind == "number" else "a date"
    sample = raw.cast(pl.String).str.slice(0, REASON_SAMPLE)
    reason = pl.format("column `{}`: cannot parse '{}' as {}", pl.lit(column), sample, pl.lit(what))
    if kind != "date" or declared:
        return reason
    # 01/02/2026 is the 1st of February or the 2nd of January: only the spec can say which
    ambiguous = raw.cast(pl.String).str.contains(r"^\s*\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\s*$")
    hint = pl.lit(
        " (day and month order is ambiguous: declare the field's date_formats, "
        "e.g. %d/%m/%Y or %m/%d/%Y)"
    )
    return pl.when(ambiguous).then(pl.concat_str(reason, hint)).otherwise(reason)


def _reasons(
    rows: pl.DataFrame,
    raws: pl.DataFrame,
    checks: list[tuple[pl.Expr, pl.Expr]],
    columns: list[str],
    canonical: dict[str, str],
    plan: Plan,
) -> pl.DataFrame:
    """Rejected rows: normalised key values, row number, and every reason (quoting raw text)."""
    frame = rows.join(raws, on=ROW, how="left")
    reason = pl.concat_str(
        [pl.when(pl.col(f"__failed{i}")).then(msg) for i, (_, msg) in enumerate(checks)],
        separator="; ",
        ignore_nulls=True,
    )
    keys = frame.select(
        *[pl.col(c).alias(canonical[c]) for c in columns if canonical.get(c) in plan.key_dtypes]
    )
    # reason expressions name the input columns: evaluate them over the raw text
    raw_view = frame.select(
        ROW,
        *[f"__failed{i}" for i in range(len(checks))],
        *[pl.col(f"__raw_{c}").alias(c) for c in columns],
    )
    reasons = raw_view.select(ROW, reason.alias("reason"))
    return pl.concat([keys, reasons], how="horizontal").select(*plan.key_names, ROW, "reason")


def _empty_invalid(plan: Plan) -> pl.DataFrame:
    schema = {**plan.key_dtypes, ROW: pl.UInt32(), "reason": pl.String()}
    return pl.DataFrame(schema=schema)


def _aggregate(frame: Frame, agg: AggregateSide) -> Frame:
    """group_by + (signed) sums; COUNT keeps how many input rows each group stands for."""
    sign = pl.lit(1)
    if agg.sign is not None:
        sign = pl.when(pl.col(agg.sign.column).is_in(list(agg.sign.negative))).then(-1).otherwise(1)
    sums = [(pl.col(c) * sign).sum().alias(c) for c in agg.sum]
    return frame.group_by(list(agg.group_by)).agg(
        *sums, pl.col(ROW).min(), pl.col(HASH).first(), pl.len().cast(pl.UInt32).alias(COUNT)
    )
