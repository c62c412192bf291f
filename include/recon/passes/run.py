"""Run a spec's passes in order: each sees only the rows the earlier ones left open.

A pass's matches are named (``match_id``: the pass name and a hash of the sorted ids of both
sides, so the same rows always get the same id), marked ``confirmed`` or ``suggested`` (the
pass's ``confirm``), and their rows leave the open set, as do a keyed pass's ``duplicate``
rows. ``ambiguous`` and ``not_searched`` rows stay open; if no later pass matches them they
end with the first such flag, its candidates and reason. Rows open at the end are
``left_only`` / ``right_only``, rows that failed parsing ``invalid``. The rows frame holds each
field's parsed value as ``value_<field>`` (null where the side has no such field). Every input row ends in
exactly one status, and the summary checks it (``RowConservationError`` otherwise).
"""

from __future__ import annotations

import hashlib
import importlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from recon.errors import ReconError, RowConservationError
from recon.passes.keyed import run_keyed
from recon.passes.outcome import (
    AMBIGUOUS,
    DUPLICATE,
    FLAG_SCHEMA,
    ID,
    INVALID,
    MATCHED,
    MISMATCHED,
    NOT_SEARCHED,
    ROW,
    OpenRows,
    PassOutcome,
    PassRunner,
)
from recon.passes.prepare import SIDES, PreparedSides, prepare_sides
from recon.passes.rule import run_rule
from recon.passes.summary import pass_summary
from recon.spec.passes import MatchPass, PassSpec

LEFT_ONLY = "left_only"
RIGHT_ONLY = "right_only"
PASS_STATUSES = (
    MATCHED,
    MISMATCHED,
    AMBIGUOUS,
    NOT_SEARCHED,
    DUPLICATE,
    INVALID,
    LEFT_ONLY,
    RIGHT_ONLY,
)
CONFIRMED = "confirmed"
SUGGESTED = "suggested"
MATCH_ID_BYTES = 8
VALUE = "value_"  # a field's parsed value in the rows frame: value_<field> (no name clashes)
ROW_COLUMNS = (
    "side",
    "id",
    "row",
    "status",
    "pass",
    "match_id",
    "state",
    "score",
    "candidates",
    "reason",
    "mismatched_fields",
)
# one runner per pass kind; group and many_to_many come from their own modules when present
RUNNERS: dict[str, PassRunner] = {"keyed": run_keyed, "rule": run_rule}
_OPTIONAL_RUNNERS = {"group": "recon.passes.group", "many_to_many": "recon.passes.many"}


@dataclass(frozen=True)
class PassResult:
    """One row per input row, one row per match, and the summary."""

    rows: pl.DataFrame
    matches: pl.DataFrame
    summary: dict[str, Any]


def runner_for(kind: str) -> PassRunner:
    """The runner registered for a pass kind (group / many_to_many: from their modules, which
    expose ``RUNNER`` or ``run_<kind>``)."""
    if kind not in RUNNERS and kind in _OPTIONAL_RUNNERS:
        try:
            module = importlib.import_module(_OPTIONAL_RUNNERS[kind])
        except ModuleNotFoundError as exc:
            if exc.name != _OPTIONAL_RUNNERS[kind]:
                raise
        else:
            runner = getattr(module, "RUNNER", None) or getattr(module, f"run_{kind}", None)
            if runner is not None:
                RUNNERS[kind] = runner
    if kind not in RUNNERS:
        raise ReconError(
            f"no runner for `{kind}` passes in this version (kinds that run: "
            f"{', '.join(sorted(RUNNERS))})"
        )
    return RUNNERS[kind]


def run_passes(
    left: pl.LazyFrame,
    right: pl.LazyFrame,
    spec: PassSpec,
    *,
    sources: tuple[str, str] = ("left", "right"),
    inputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> PassResult:
    """Prepare both inputs and run every pass; results never depend on input row order."""
    started = time.perf_counter()
    for match_pass in spec.passes:  # a kind with no runner fails before any work
        runner_for(match_pass.kind)
    prepared = prepare_sides(left, right, spec, sources)
    result = run_prepared(prepared, spec, inputs=inputs)
    result.summary["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result.summary["duration_seconds"] = round(time.perf_counter() - started, 3)
    return result


def run_prepared(
    prepared: PreparedSides,
    spec: PassSpec,
    *,
    inputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> PassResult:
    """Every pass in order on the open rows, then one status per input row."""
    open_rows = {"left": prepared.open.left, "right": prepared.open.right}
    matches: list[pl.DataFrame] = []
    flags: list[pl.DataFrame] = []
    rows_in: list[dict[str, int]] = []
    for order, match_pass in enumerate(spec.passes):
        rows_in.append({side: open_rows[side].height for side in SIDES})
        outcome = runner_for(match_pass.kind)(
            OpenRows(open_rows["left"], open_rows["right"], spec), match_pass
        )
        named = _named(outcome, match_pass)
        flagged = outcome.flagged.cast(FLAG_SCHEMA).with_columns(
            pl.lit(match_pass.name).alias("pass"), pl.lit(order).alias("__order")
        )
        for side in SIDES:
            taken = pl.concat(
                [
                    named.select(pl.col(f"{side}_ids").explode().alias(ID)),
                    flagged.filter(
                        (pl.col("side") == side) & (pl.col("status") == DUPLICATE)
                    ).select(pl.col("id").alias(ID)),
                ]
            )
            open_rows[side] = open_rows[side].join(taken, on=ID, how="anti")
        matches.append(named)
        flags.append(flagged)
    all_matches = _with_amounts(pl.concat(matches), prepared, spec)
    all_flags = pl.concat(flags)
    rows = _rows(prepared, all_matches, all_flags, open_rows, spec)
    summary = pass_summary(
        spec, prepared, rows, all_matches, all_flags, rows_in, PASS_STATUSES, inputs
    )
    return PassResult(rows, all_matches.sort("pass", "match_id"), summary)


def match_ids(name: str, left_ids: pl.Series, right_ids: pl.Series) -> pl.Series:
    """``<pass>-<hash>``: a hash of both sides' sorted ids, whatever order they came in."""
    ids = []
    for lefts, rights in zip(left_ids.to_list(), right_ids.to_list(), strict=True):
        text = "\x1f".join(sorted(lefts)) + "\x1e" + "\x1f".join(sorted(rights))
        digest = hashlib.blake2b(text.encode(), digest_size=MATCH_ID_BYTES).hexdigest()
        ids.append(f"{name}-{digest}")
    return pl.Series("match_id", ids, dtype=pl.String)


def _named(outcome: PassOutcome, match_pass: MatchPass) -> pl.DataFrame:
    matches = outcome.matches.with_columns(
        pl.col("left_ids").list.sort(), pl.col("right_ids").list.sort()
    )
    state = CONFIRMED if match_pass.confirm else SUGGESTED
    named = matches.select(
        match_ids(match_pass.name, matches["left_ids"], matches["right_ids"]),
        pl.lit(match_pass.name).alias("pass"),
        pl.lit(match_pass.kind).alias("kind"),
        "status",
        pl.lit(state).alias("state"),
        "score",
        "left_ids",
        "right_ids",
        pl.col("left_ids").list.len().cast(pl.Int64).alias("left_count"),
        pl.col("right_ids").list.len().cast(pl.Int64).alias("right_count"),
        "mismatched_fields",
    )
    if named["match_id"].n_unique() != named.height:
        raise ReconError(f"pass `{match_pass.name}` made the same match twice (a runner bug)")
    return named.sort("match_id")


def _with_amounts(matches: pl.DataFrame, prepared: PreparedSides, spec: PassSpec) -> pl.DataFrame:
    """Each match's amount per side (sum of its rows' amount field) and their difference."""
    field = spec.amount_field()
    frames = {"left": prepared.open.left, "right": prepared.open.right}
    if field is None or any(field not in frames[s].columns for s in SIDES):
        return matches.with_columns(
            pl.lit(None, pl.Float64).alias("left_amount"),
            pl.lit(None, pl.Float64).alias("right_amount"),
            pl.lit(None, pl.Float64).alias("difference"),
        ).pipe(_match_columns)
    for side in SIDES:
        values = frames[side].select(pl.col(ID).alias("__member"), pl.col(field).alias("__v"))
        sums = (
            matches.select("match_id", pl.col(f"{side}_ids").alias("__member"))
            .explode("__member")
            .join(values, on="__member", how="inner", validate="m:1")
            .group_by("match_id")
            .agg(pl.col("__v").sum().alias(f"{side}_amount"))
        )
        matches = matches.join(sums, on="match_id", how="left", validate="1:1")
    return matches.with_columns(
        (pl.col("left_amount") - pl.col("right_amount")).alias("difference")
    ).pipe(_match_columns)


def _match_columns(matches: pl.DataFrame) -> pl.DataFrame:
    return matches.select(
        "match_id",
        "pass",
        "kind",
        "status",
        "state",
        "score",
        "left_ids",
        "right_ids",
        "left_count",
        "right_count",
        "left_amount",
        "right_amount",
        "difference",
        "mismatched_fields",
    )


# -- one status per input row -------------------------------------------------------------


def _rows(
    prepared: PreparedSides,
    matches: pl.DataFrame,
    flags: pl.DataFrame,
    open_rows: dict[str, pl.DataFrame],
    spec: PassSpec,
) -> pl.DataFrame:
    no_list = pl.lit(None, pl.List(pl.String))
    none = pl.lit(None, pl.String)
    parts = []
    for side in SIDES:
        parts.append(
            matches.explode(f"{side}_ids").select(
                pl.lit(side).alias("side"),
                pl.col(f"{side}_ids").alias("id"),
                "status",
                "pass",
                "match_id",
                "state",
                "score",
                no_list.alias("candidates"),
                none.alias("reason"),
                "mismatched_fields",
            )
        )
        still_open = open_rows[side].select(pl.col(ID).alias("id"))
        first_flag = (
            flags.filter((pl.col("side") == side) & (pl.col("status") != DUPLICATE))
            .sort("__order")
            .unique("id", keep="first")
        )
        left_open = still_open.join(first_flag, on="id", how="left", validate="1:1")
        one_sided = LEFT_ONLY if side == "left" else RIGHT_ONLY
        parts.append(
            left_open.select(
                pl.lit(side).alias("side"),
                "id",
                pl.col("status").fill_null(pl.lit(one_sided)),
                "pass",
                none.alias("match_id"),
                none.alias("state"),
                pl.lit(None, pl.Float64).alias("score"),
                "candidates",
                "reason",
                no_list.alias("mismatched_fields"),
            )
        )
        parts.append(
            prepared.invalid[side].select(
                pl.lit(side).alias("side"),
                pl.col(ID).alias("id"),
                pl.lit(INVALID).alias("status"),
                none.alias("pass"),
                none.alias("match_id"),
                none.alias("state"),
                pl.lit(None, pl.Float64).alias("score"),
                no_list.alias("candidates"),
                "reason",
                no_list.alias("mismatched_fields"),
            )
        )
    parts.append(
        flags.filter(pl.col("status") == DUPLICATE).select(
            "side",
            "id",
            "status",
            "pass",
            none.alias("match_id"),
            none.alias("state"),
            pl.lit(None, pl.Float64).alias("score"),
            "candidates",
            "reason",
            no_list.alias("mismatched_fields"),
        )
    )
    statuses = pl.concat(parts, how="vertical_relaxed")
    _check_conservation(statuses, prepared)
    base = pl.concat(
        [
            pl.concat(
                [
                    prepared.open.left.select(ID, ROW, *spec.fields_on("left")),
                    prepared.invalid["left"].select(ID, ROW),
                ],
                how="diagonal_relaxed",
            ).with_columns(pl.lit("left").alias("side")),
            pl.concat(
                [
                    prepared.open.right.select(ID, ROW, *spec.fields_on("right")),
                    prepared.invalid["right"].select(ID, ROW),
                ],
                how="diagonal_relaxed",
            ).with_columns(pl.lit("right").alias("side")),
        ],
        how="diagonal_relaxed",
    ).rename({ID: "id", ROW: "row", **{name: f"{VALUE}{name}" for name in spec.fields}})
    rows = base.join(statuses, on=["side", "id"], how="left", validate="1:1")
    return rows.select(*ROW_COLUMNS, *[f"{VALUE}{name}" for name in spec.fields]).sort("side", "id")


def _check_conservation(statuses: pl.DataFrame, prepared: PreparedSides) -> None:
    """Every input row in exactly one status: none twice, none missing, none invented."""
    problems = []
    twice = statuses.filter(pl.len().over("side", "id") > 1)
    if twice.height:
        sample = twice.select(pl.format("{} {}", "side", "id")).to_series().unique().sort()
        problems.append(f"rows in more than one status: {', '.join(sample.head(5).to_list())}")
    for side in SIDES:
        counted = statuses.filter(pl.col("side") == side).height
        expected = prepared.input_rows[side]
        if counted != expected:
            problems.append(f"{side}: {expected} input rows but {counted} in the results")
    if problems:
        raise RowConservationError("row conservation failed: " + "; ".join(problems))


__all__ = [
    "CONFIRMED",
    "PASS_STATUSES",
    "RUNNERS",
    "SUGGESTED",
    "VALUE",
    "PassResult",
    "match_ids",
    "run_passes",
    "run_prepared",
    "runner_for",
]
