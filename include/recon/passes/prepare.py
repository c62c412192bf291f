"""Both inputs as match passes take them: columns checked, ids checked, fields parsed.

Parsing is the keyed engine's own (``recon.engine.prepare``): each side is prepared as a keyed
spec whose key is the row id and whose compare fields are the pass fields, so a field parses,
normalises and fails (``invalid``, with the reason) exactly as it does in a keyed recon. A
field's type is its declared ``type``, else what the passes do with it (an amount rule makes
a number, a date rule a date, a reference text), else what ``recon.engine.fields`` decides
from its columns; both sides of a field end in one dtype (exact decimals stay decimals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from recon.engine.fields import Kind, common_dtype, field_kind
from recon.engine.normalize import is_blank
from recon.engine.prepare import finish, make_plan, read_error, side_query
from recon.errors import InputFileError, Problem, SchemaError, did_you_mean, listed
from recon.passes.outcome import ID, ROW, OpenRows
from recon.spec.model import CompareRule, KeySpec, ReconSpec
from recon.spec.passes import KeyedPass, PassSpec, Side

SIDES: tuple[Side, Side] = ("left", "right")
ROWS_LISTED = 5


@dataclass(frozen=True)
class PreparedSides:
    """The open rows passes start from, the rows that failed parsing, and the input sizes."""

    open: OpenRows
    invalid: dict[str, pl.DataFrame]  # side -> ID, ROW, reason
    input_rows: dict[str, int]
    kinds: dict[str, Kind]


def prepare_sides(
    left: pl.LazyFrame,
    right: pl.LazyFrame,
    spec: PassSpec,
    sources: tuple[str, str] = ("left", "right"),
) -> PreparedSides:
    """Check, parse and normalise both inputs; raise once with every missing column."""
    frames = {"left": left, "right": right}
    named: dict[str, str] = dict(zip(SIDES, sources, strict=True))
    schemas: dict[str, pl.Schema] = {side: _schema(frames[side], named[side]) for side in SIDES}
    problems = [p for side in SIDES for p in _missing(spec, side, schemas[side], named[side])]
    if problems:
        raise SchemaError.from_problems("input columns do not fit the spec", problems)
    kinds = field_kinds(spec, schemas)
    _refuse_bad_ids(spec, frames, named)
    valid: dict[str, pl.DataFrame] = {}
    invalid: dict[str, pl.DataFrame] = {}
    rows: dict[str, int] = {}
    for side in SIDES:
        valid[side], invalid[side], rows[side] = _prepare_side(
            frames[side], spec, side, named[side], kinds
        )
    for field in spec.fields:
        if len(spec.fields[field].sides()) == 2:
            dtype = common_dtype(
                kinds[field], valid["left"][field].dtype, valid["right"][field].dtype
            )
            valid = {
                side: frame.with_columns(pl.col(field).cast(dtype)) for side, frame in valid.items()
            }
    return PreparedSides(OpenRows(valid["left"], valid["right"], spec), invalid, rows, kinds)


def _schema(frame: pl.LazyFrame, source: str) -> pl.Schema:
    try:
        return frame.collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise read_error(source, exc) from None


def _missing(spec: PassSpec, side: Side, schema: pl.Schema, source: str) -> list[Problem]:
    present = schema.names()
    wanted = {getattr(spec.ids, side): "ids"}
    for field in spec.fields_on(side):
        wanted.setdefault(spec.column(field, side), f"field `{field}`")
    problems = []
    for column, role in wanted.items():
        if column not in present:
            hint = did_you_mean(column, present) or f"columns are: {listed(present)}"
            message = f"no column `{column}` ({role}) in the {spec.label(side)} input"
            problems.append(Problem(message, path=source, column=column, hint=hint))
    return problems


def field_kinds(spec: PassSpec, schemas: dict[str, pl.Schema]) -> dict[str, Kind]:
    """Each field's kind: declared, else from the passes' use of it, else from its columns."""
    used: dict[str, Kind] = {}
    compared: dict[str, CompareRule] = {}
    keyed: set[str] = set()
    for match_pass in spec.passes:
        for part, kind in (("amount", "number"), ("date", "date"), ("reference", "string")):
            rule = getattr(match_pass, part, None)
            if rule is not None:
                used.setdefault(rule.field, kind)  # type: ignore[arg-type]
        if isinstance(match_pass, KeyedPass):
            keyed.update(name for key in match_pass.keys for name in (key.left, key.right))
            for name, compare in match_pass.compare.items():
                compared.setdefault(name, compare)
    kinds: dict[str, Kind] = {}
    for name, field in spec.fields.items():
        dtypes = [schemas[side].get(spec.column(name, side)) for side in SIDES]
        if field.type != "auto":
            kinds[name] = field.type
        elif name in used:
            kinds[name] = used[name]
        elif name in compared:
            kinds[name] = field_kind(compared[name], spec.normalize.get(name, ()), *dtypes)
        elif name in keyed:
            kinds[name] = "string"  # keys join as text, as a keyed spec's do
        else:
            kinds[name] = field_kind(CompareRule(), spec.normalize.get(name, ()), *dtypes)
    return kinds


def _refuse_bad_ids(
    spec: PassSpec, frames: dict[str, pl.LazyFrame], sources: dict[str, str]
) -> None:
    """Every row needs an id of its own: empty or repeated ids fail the run, rows named."""
    found: list[tuple[str, str]] = []
    for side in SIDES:
        column = getattr(spec.ids, side)
        ids = (
            frames[side]
            .select(pl.col(column).cast(pl.String).alias(ID))
            .with_row_index(ROW, offset=1)
        )
        try:
            empty = ids.filter(is_blank(pl.col(ID))).select(ROW).head(ROWS_LISTED + 1).collect()
            repeated = (
                ids.filter(pl.col(ID).is_duplicated())
                .group_by(ID)
                .agg(pl.col(ROW).sort())
                .sort(pl.col(ROW).list.first())
                .head(ROWS_LISTED + 1)
                .collect()
            )
        except pl.exceptions.PolarsError as exc:
            raise read_error(sources[side], exc) from None
        parts = []
        if empty.height:
            parts.append(f"no id in {_rows(empty[ROW].to_list())}")
        for key, rows in repeated.head(ROWS_LISTED).iter_rows():
            parts.append(f"id '{key}' repeats in {_rows(rows)}")
        if repeated.height > ROWS_LISTED:
            parts.append("and more repeated ids")
        if parts:
            found.append((side, "; ".join(parts)))
    if not found:
        return
    first, reason = found[0]
    also = "".join(f"; also {sources[s]}: {text}" for s, text in found[1:])
    raise InputFileError(
        sources[first],
        f"{reason}{also}",
        column=getattr(spec.ids, first),
        hint="each row needs a unique, non-empty id (the `ids` column of the spec)",
    )


def _rows(rows: Sequence[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:ROWS_LISTED])
    more = ", ..." if len(rows) > ROWS_LISTED else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


def keyed_spec(spec: PassSpec, side: Side, kinds: dict[str, Kind]) -> ReconSpec:
    """One side of a pass spec as the keyed engine prepares it: the id is the key."""
    fields = spec.fields_on(side)
    compare = {
        name: CompareRule(
            left=spec.column(name, side), right=spec.column(name, side), type=kinds[name]
        )
        for name in fields
    }
    normalize = {name: steps for name, steps in spec.normalize.items() if name in fields}
    return ReconSpec(
        name=spec.name,
        left=spec.left,
        right=spec.right,
        keys=(KeySpec(left=ID, right=ID, name=ID),),
        compare=compare,
        normalize=normalize,
    )


def _prepare_side(
    frame: pl.LazyFrame, spec: PassSpec, side: Side, source: str, kinds: dict[str, Kind]
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(valid rows: ID, ROW, fields; invalid rows: ID, ROW, reason; input rows) of one side."""
    inner = keyed_spec(spec, side, kinds)
    frame = frame.with_columns(pl.col(getattr(spec.ids, side)).cast(pl.String).alias(ID))
    schema = _schema(frame, source)
    plan = make_plan(inner, schema, schema, (source, source))
    query = side_query(frame, plan, side, source)
    prepared = finish(query, query.collect(), plan)
    fields = spec.fields_on(side)
    valid = prepared.valid.select(ID, pl.col(ROW).cast(pl.Int64), *fields)
    invalid = prepared.invalid.select(ID, pl.col(ROW).cast(pl.Int64), "reason")
    return valid, invalid, prepared.input_rows


__all__ = ["PreparedSides", "field_kinds", "keyed_spec", "prepare_sides"]
