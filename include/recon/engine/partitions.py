"""Reconcile inputs larger than memory: hash-partition both sides on disk, then match each pair.

Rows are assigned to a partition by their key hash, so every key (and every duplicate of it,
and every row an aggregation groups with it) lands in the same partition of both sides:
partitions are independent reconciliations whose results simply add up. One machine runs them
one after another; Airflow can run them as mapped tasks on many.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from recon.engine.prepare import HASH, Plan, Prepared, SideQuery, finish, read_error

ROWS_PER_PARTITION = 1_000_000  # ~1.3 GB peak per partition pair; time is flat from 1M to 10M
PARTITION = "__p"


def partition_count(left_rows: int, right_rows: int, rows_per_partition: int | None = None) -> int:
    per = rows_per_partition or ROWS_PER_PARTITION
    return max(1, math.ceil(max(left_rows, right_rows) / per))


def count_rows(query: SideQuery) -> int:
    """Input rows, cheaply (Parquet metadata, a line count for CSV)."""
    try:
        return int(query.length.collect().item())
    except pl.exceptions.PolarsError as exc:
        raise read_error(query.source, exc) from None


def spill(query: SideQuery, partitions: int, directory: Path) -> Path:
    """Stream one prepared side to ``directory/__p=N/*.parquet``, one folder per partition."""
    target = directory / query.side
    frame = query.frame.with_columns((pl.col(HASH) % partitions).alias(PARTITION))
    try:
        frame.sink_parquet(
            pl.PartitionBy(
                target, key=PARTITION, include_key=False, approximate_bytes_per_file=None
            ),
            mkdir=True,
            compression="lz4",
            statistics=False,
        )
    except pl.exceptions.PolarsError as exc:
        raise read_error(query.source, exc) from None
    return target


def load(query: SideQuery, spilled: Path, partition: int) -> pl.DataFrame:
    folder = spilled / f"{PARTITION}={partition}"
    if not folder.is_dir():  # no row of this side hashed here
        return pl.DataFrame(schema=query.frame.collect_schema())
    return pl.read_parquet(folder)


def partitioned_sides(
    left: SideQuery, right: SideQuery, plan: Plan, partitions: int, workdir: Path
) -> Iterator[tuple[Prepared, Prepared]]:
    """Spill both sides, then yield each partition's prepared pair in turn."""
    spilled_left = spill(left, partitions, workdir)
    spilled_right = spill(right, partitions, workdir)
    for partition in range(partitions):
        yield (
            finish(left, load(left, spilled_left, partition), plan),
            finish(right, load(right, spilled_right, partition), plan),
        )
