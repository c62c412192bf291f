"""The streamed way (one query from both inputs to results.parquet) gives exactly the rows and
summary of the in-memory way, and hands over to it whenever it cannot decide alone."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from recon.engine import prepare, streamed
from recon.engine.prepare import SIDES
from recon.engine.reconcile import compare_files, reconcile
from recon.engine.streamed import screen
from recon.readers.tables import DEFAULT_READ, scan_table
from recon.spec import spec_from_dict

SPEC = spec_from_dict(
    {
        "name": "s",
        "keys": ["id"],
        "compare": {"amount": {"abs_tol": 0.01}, "name": {}, "day": {"type": "date"}},
    }
)
VOLATILE = {"generated_at", "duration_seconds", "partitions", "inputs"}


def pair(tmp_path: Path, rows: int = 5_000, seed: int = 3) -> tuple[Path, Path]:
    """Two Parquet sides with one-sided keys, mismatches of every field, nulls and NaN."""
    rng = np.random.default_rng(seed)
    ids = [f"K{i:06d}" for i in range(rows)]
    amount = rng.integers(0, 100_000, rows) / 100
    left = pl.DataFrame(
        {
            "id": ids,
            "amount": amount,
            "name": rng.choice(["ann", "bob", None], rows).tolist(),
            "day": pl.date_range(pl.date(2026, 1, 1), pl.date(2026, 1, 1), eager=True).gather(
                [0] * rows
            ),
        }
    )
    noise = rng.choice([0.0, 0.004, 3.5, float("nan")], rows, p=[0.85, 0.05, 0.05, 0.05])
    right = left.with_columns(
        pl.col("amount") + pl.Series(noise),
        pl.when(pl.Series(rng.random(rows) < 0.03))
        .then(pl.lit("eve"))
        .otherwise(pl.col("name"))
        .alias("name"),
        pl.when(pl.Series(rng.random(rows) < 0.02))
        .then(pl.col("day") + pl.duration(days=1))
        .otherwise(pl.col("day"))
        .alias("day"),
    )
    left = left.slice(0, rows - 50)  # 50 right-only keys
    right = right.slice(30, rows)  # 30 left-only keys; both shuffled
    paths = tmp_path / "l.parquet", tmp_path / "r.parquet"
    left.sample(fraction=1.0, shuffle=True, seed=1).write_parquet(paths[0])
    right.sample(fraction=1.0, shuffle=True, seed=2).write_parquet(paths[1])
    return paths


def in_memory(left: Path, right: Path) -> tuple[pl.DataFrame, dict[str, Any]]:
    result = reconcile(pl.scan_parquet(left), pl.scan_parquet(right), SPEC)
    return result.results, result.summary


def ordered(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("id", "status", "side", "row", nulls_last=True)


def stable(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k not in VOLATILE}


def sides(left: Path, right: Path) -> tuple[prepare.SideQuery, prepare.SideQuery, prepare.Plan]:
    frames = scan_table(left, DEFAULT_READ), scan_table(right, DEFAULT_READ)
    plan = prepare.make_plan(SPEC, *(f.collect_schema() for f in frames), ("l", "r"))
    queries = [prepare.side_query(f, plan, s, s) for f, s in zip(frames, SIDES, strict=True)]
    return queries[0], queries[1], plan


def screened(left: Path, right: Path) -> streamed.Screened | None:
    return screen(*sides(left, right))


def test_streamed_results_equal_the_in_memory_ones(tmp_path: Path) -> None:
    left, right = pair(tmp_path)
    assert screened(left, right) == streamed.Screened(4_950, 4_970)  # this pair is streamed
    result = compare_files(SPEC, left, right, tmp_path / "out", reports=())
    frame, summary = in_memory(left, right)
    assert_frame_equal(ordered(result.results), ordered(frame))
    assert stable(result.summary) == stable(summary)
    counts = result.summary["counts"]
    assert counts["left_only"] == 30 and counts["right_only"] == 50 and counts["mismatched"] > 0


def test_a_duplicate_key_is_left_to_the_in_memory_way(tmp_path: Path) -> None:
    left, right = pair(tmp_path, rows=200)
    frame = pl.read_parquet(left)
    frame.vstack(frame.head(1)).write_parquet(tmp_path / "dup.parquet")
    assert screened(tmp_path / "dup.parquet", right) is None
    result = compare_files(SPEC, tmp_path / "dup.parquet", right, tmp_path / "out")
    assert result.summary["counts"]["duplicate"] == 1


def test_a_rejected_row_found_while_streaming_hands_over_to_the_in_memory_way(
    tmp_path: Path,
) -> None:
    left, right = pair(tmp_path, rows=200)
    frame = pl.read_parquet(left)
    blank = frame.with_columns(
        pl.when(pl.col("id") == frame["id"][0]).then(None).otherwise(pl.col("id")).alias("id")
    )
    blank.write_parquet(tmp_path / "blank.parquet")
    left_query, right_query, plan = sides(tmp_path / "blank.parquet", right)
    counts = screen(left_query, right_query, plan)
    assert counts is not None  # only the keys are read first: a blank one is one hash
    assert streamed.stream_results(left_query, right_query, plan, counts, tmp_path / "x") is None
    result = compare_files(SPEC, tmp_path / "blank.parquet", right, tmp_path / "out")
    assert result.summary["counts"]["invalid"] == 1
    assert result.summary["row_conservation"]["ok"]


def weak_hash(keys: Sequence[pl.Expr]) -> pl.Expr:
    """Collides on purpose across sides: keys of equal length hash equal."""
    return keys[0].str.len_bytes().cast(pl.UInt64)


def test_keys_sharing_a_hash_across_sides_are_joined_on_the_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # unique hashes within each side (lengths 1, 2, 3), so the screen passes, but "a" and "x"
    # (and "bb", "yy") share one across sides: the streamed pass must not join them
    left = pl.DataFrame({"id": ["a", "bb", "ccc"], "amount": [1.0, 2.0, 3.0]})
    right = pl.DataFrame({"id": ["x", "yy", "ccc"], "amount": [1.0, 2.0, 3.0]})
    left.write_parquet(tmp_path / "l.parquet")
    right.write_parquet(tmp_path / "r.parquet")
    spec = spec_from_dict({"name": "c", "keys": ["id"], "compare": {"amount": {}}})
    monkeypatch.setattr(prepare, "key_hash", weak_hash)
    result = compare_files(spec, tmp_path / "l.parquet", tmp_path / "r.parquet", tmp_path / "o")
    statuses = dict(result.results.select("id", "status").iter_rows())
    assert statuses == {
        "a": "left_only",
        "bb": "left_only",
        "x": "right_only",
        "yy": "right_only",
        "ccc": "matched",
    }
    assert result.summary["row_conservation"]["ok"]
