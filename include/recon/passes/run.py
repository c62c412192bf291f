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


def sorted_lists(lists: pl.Series) -> pl.Series:
    """Each list of ids sorted. ``list.sort`` takes ~12 s over a million one-id lists in
    polars 2.1; exploding, sorting by (list, id) and gathering again takes 0.05 s."""
    exploded = pl.DataFrame({"v": lists}).with_row_index("__i").explode("v", keep_nulls=False)
    gathered = (
        exploded.sort("__i", "v")
        .group_by("__i", maintain_order=True)
        .agg("v")
        .join(
            pl.DataFrame({"__i": range(lists.len())}, schema={"__i": pl.UInt32}),
            on="__i",
            how="right",
        )
    )
    return gathered["v"].fill_null(pl.lit([], dtype=lists.dtype)).alias(lists.name)


def match_ids(name: str, left_ids: pl.Series, right_ids: pl.Series) -> pl.Series:
    """``<pass>-<hash>``: a hash of both sides' sorted ids, whatever order they came in.

    The texts are built by polars; only the hashing (blake2b, stable across versions, unlike
    polars' own hash) runs per match in Python.
    """
    texts = pl.DataFrame({"l": sorted_lists(left_ids), "r": sorted_lists(right_ids)}).select(
        pl.concat_str(pl.col("l").list.join("\x1f"), pl.lit("\x1e"), pl.col("r").list.join("\x1f"))
    )["l"]
    prefix = f"{name}-"
    blake2b = hashlib.blake2b
    ids = [
        prefix + blake2b(text.encode(), digest_size=MATCH_ID_BYTES).hexdigest()
        for text in texts.to_list()
    ]
    return pl.Series("match_id", ids, dtype=pl.String)


def _named(outcome: PassOutcome, match_pass: MatchPass) -> pl.DataFrame:
    matches = outcome.matches.with_columns(
        sorted_lists(outcome.matches["left_ids"]), sorted_lists(outcome.matches["right_ids"])
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
    return named  # sorted with every pass's matches at the end


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
    indexed = matches.lazy().with_row_index("__i")
    sums = []
    for side in SIDES:
        # validate=m:1 would hash the ids twice more; ids are unique per side (prepare checks)
        values = (
            frames[side].lazy().select(pl.col(ID).alias("__member"), pl.col(field).alias("__v"))
        )
        sums.append(
            indexed.select("__i", pl.col(f"{side}_ids").alias("__member"))
            .explode("__member")
            .join(values, on="__member", how="inner")
            .group_by("__i")
            .agg(pl.col("__v").sum().alias(f"{side}_amount"))
        )
    figures = (
        indexed.select("__i")
        .join(sums[0], on="__i", how="left")
        .join(sums[1], on="__i", how="left")
        .sort("__i")
        .collect()
    )
    return (
        matches.with_columns(figures["left_amount"], figures["right_amount"])
        .with_columns((pl.col("left_amount") - pl.col("right_amount")).alias("difference"))
        .pipe(_match_columns)
    )


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
    """One row per input row: each side's statuses joined to its rows, both sides at once."""
    queries = []
    for side in SIDES:
        statuses = _side_statuses(side, prepared, matches.lazy(), flags.lazy(), open_rows[side])
        base = pl.concat(
            [
                getattr(prepared.open, side)
                .lazy()
                .select(ID, ROW, *(pl.col(f).alias(f"{VALUE}{f}") for f in spec.fields_on(side))),
                prepared.invalid[side].lazy().select(ID, ROW),
            ],
            how="diagonal_relaxed",
        )
        # ids are unique on each side (prepare refuses repeats), so the join is m:1 at most
        queries.append(  # each side sorted by id in parallel: left then right is the order
            base.join(statuses, on=ID, how="left").with_columns(pl.lit(side).alias("side")).sort(ID)
        )
        queries.append(statuses.select(pl.len().alias("rows"), pl.col(ID).n_unique().alias("ids")))
    left, left_counts, right, right_counts = pl.collect_all(queries)
    _check_conservation({"left": (left, left_counts), "right": (right, right_counts)}, prepared)
    rows = pl.concat([left, right], how="diagonal_relaxed").rename({ID: "id", ROW: "row"})
    values = [f"{VALUE}{name}" for name in spec.fields]
    return rows.select(*ROW_COLUMNS, *values)


def _side_statuses(
    side: str,
    prepared: PreparedSides,
    matches: pl.LazyFrame,
    flags: pl.LazyFrame,
    still_open: pl.DataFrame,
) -> pl.LazyFrame:
    """``ID`` and its status columns for every row of one side (each row once, if all is well)."""
    no_list = pl.lit(None, pl.List(pl.String))
    none = pl.lit(None, pl.String)
    no_score = pl.lit(None, pl.Float64)
    mine = flags.filter(pl.col("side") == side)
    first_flag = (
        mine.filter(pl.col("status") != DUPLICATE)
        .sort("__order")
        .unique("id", keep="first")
        .rename({"id": ID})
    )
    one_sided = LEFT_ONLY if side == "left" else RIGHT_ONLY
    parts = [
        matches.explode(f"{side}_ids").select(
            pl.col(f"{side}_ids").alias(ID),
            "status",
            "pass",
            "match_id",
            "state",
            "score",
            no_list.alias("candidates"),
            none.alias("reason"),
            "mismatched_fields",
        ),
        still_open.lazy()
        .select(ID)
        .join(first_flag, on=ID, how="left")
        .select(
            ID,
            pl.col("status").fill_null(pl.lit(one_sided)),
            "pass",
            none.alias("match_id"),
            none.alias("state"),
            no_score.alias("score"),
            "candidates",
            "reason",
            no_list.alias("mismatched_fields"),
        ),
        prepared.invalid[side]
        .lazy()
        .select(
            ID,
            pl.lit(INVALID).alias("status"),
            none.alias("pass"),
            none.alias("match_id"),
            none.alias("state"),
            no_score.alias("score"),
            no_list.alias("candidates"),
            "reason",
            no_list.alias("mismatched_fields"),
        ),
        mine.filter(pl.col("status") == DUPLICATE).select(
            pl.col("id").alias(ID),
            "status",
            "pass",
            none.alias("match_id"),
            none.alias("state"),
            no_score.alias("score"),
            "candidates",
            "reason",
            no_list.alias("mismatched_fields"),
        ),
    ]
    return pl.concat(parts, how="vertical_relaxed")


def _check_conservation(
    sides: Mapping[str, tuple[pl.DataFrame, pl.DataFrame]], prepared: PreparedSides
) -> None:
    """Every input row in exactly one status: none twice, none missing, none invented.

    Per side: as many statuses as input rows, each for a different id, and every input row
    found one (ids are unique within a side, so together that is exactly one each)."""
    problems = []
    for side, (joined, counts) in sides.items():
        expected = prepared.input_rows[side]
        statuses, ids = counts["rows"].item(), counts["ids"].item()
        if ids != statuses:
            problems.append(f"{side}: {statuses - ids} row(s) in more than one status")
        if statuses != expected:
            problems.append(f"{side}: {expected} input rows but {statuses} in the results")
        lost = joined.filter(pl.col("status").is_null())
        if lost.height:
            sample = ", ".join(lost[ID].head(5).cast(pl.String).to_list())
            problems.append(f"{side}: rows without a status: {sample}")
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
