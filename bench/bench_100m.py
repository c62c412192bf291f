"""The 100M-rows-per-side run: recon must complete on one 24 GB machine without holding both sides.

Generates the pair in chunks of 10M (``generate.build_pair`` with a chunk prefix on every id,
so chunks never share keys), appending each chunk to one Parquet file per side, so generation
stays within a few GB too. Then runs recon and DuckDB (id+status, and the same per-key values
as recon) through ``measure.py`` like ``run.py`` does, and checks every peer against the truth
with DuckDB (which spills to disk; a polars join of 2 x 100M keys would not fit).

    .venv/bin/python bench/bench_100m.py [--rows 100000000] [--peers recon,duckdb,duckdb_full]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import DATA_DIR, PairParams, build_pair
from run import measured_run, output_of, peer_command

CHUNK = 10_000_000


def generate(rows: int, folder: Path) -> dict[str, Path]:
    """Write left/right/truth Parquet files of ``rows`` keys, one 10M chunk at a time."""
    paths = {name: folder / f"{name}.parquet" for name in ("left", "right", "truth")}
    done = folder / "complete"
    if done.exists() and done.read_text() == str(rows):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    started = time.perf_counter()
    for index, first in enumerate(range(0, rows, CHUNK)):
        frames = build_pair(PairParams(rows=min(CHUNK, rows - first), seed=1000 + index))
        prefix = pl.lit(f"C{index:03d}")
        for name, frame in zip(("left", "right", "truth"), frames, strict=True):
            table = frame.with_columns((prefix + pl.col("id")).alias("id")).to_arrow()
            if name not in writers:
                writers[name] = pq.ParquetWriter(paths[name], table.schema, compression="zstd")
            writers[name].write_table(table)
        print(f"  generated {first + CHUNK:,} of {rows:,} ({time.perf_counter() - started:.0f} s)")
    for writer in writers.values():
        writer.close()
    done.write_text(str(rows))
    return paths


def disagreements(produced: Path, truth: Path) -> int:
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET preserve_insertion_order = false")
        query = f"""
            SELECT count(*) FROM read_parquet('{truth}') t
            FULL OUTER JOIN (SELECT id, CAST(status AS VARCHAR) AS status
                             FROM read_parquet('{produced}')) p USING (id)
            WHERE t.status IS DISTINCT FROM p.status
        """
        row = con.execute(query).fetchone()
    return int(row[0]) if row else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--peers", default="recon,duckdb,duckdb_full")
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    folder = DATA_DIR / f"{args.rows}-chunked"
    paths = generate(args.rows, folder)
    print(f"pair: {paths['left']} ({paths['left'].stat().st_size / 2**30:.1f} GiB), "
          f"{paths['right']} ({paths['right'].stat().st_size / 2**30:.1f} GiB)")  # fmt: skip
    print("| peer | rows/side | wall s | cpu s | peak MB | agrees |\n|---|---:|---:|---:|---:|---|")
    for peer in [p.strip() for p in args.peers.split(",") if p.strip()]:
        out = folder / "out" / (peer if peer == "recon" else f"{peer}.parquet")
        out.parent.mkdir(exist_ok=True)
        log = folder / "out" / f"{peer}.log"
        usage = measured_run(
            peer_command(peer, paths["left"], paths["right"], out), log, args.timeout
        )
        if usage.exit_code != 0:
            print(f"| {peer} | {args.rows:,} | failed (exit {usage.exit_code}, log {log}) |||||")
            continue
        wrong = disagreements(output_of(peer, out), paths["truth"])
        verdict = "agrees on every key" if wrong == 0 else f"{wrong:,} disagreements"
        print(f"| {peer} | {args.rows:,} | {usage.wall_s:.1f} | {usage.cpu_s:.1f} "
              f"| {usage.peak_mb:,.0f} | {verdict} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
