"""Benchmark: each report on a result whose rows are all breaks, against the reconciliation.

Makes the 1M-row bench pair (``generate.py``), shifts every right-hand amount by 0.02 to 500.00
(seeded), and lets ``recon compare --reports none`` write ``results.parquet`` + ``summary.json``
for it (~1.01M breaks: 990k mismatched, 10k only on each side). Then, in one run and on that
same result: ``recon compare --reports none`` on the ordinary pair (the time a report is held
to), each report format on its own (best of ``--repeat``), and the XLSX written cell by cell
through xlsxwriter (the reference engine, once: ~100 s at 1M). Prints wall times, ratios and
how busy the rest of the machine was.

    .venv/bin/python bench/bench_reports.py --rows 1000000 --repeat 3
    .venv/bin/python bench/bench_reports.py --rows 100000 --reference-rows 20000   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import PairParams, generate
from run import SPEC, machine_busy_seconds

from recon.reports import REPORT_FORMATS, write_reports
from recon.reports.xlsx import write_xlsx

RECON = Path(sys.executable).parent / "recon"


def all_breaks(rows: int) -> tuple[Path, Path, Path]:
    """The pair's left file, its right file, and the folder of an all-breaks result."""
    pair = generate(PairParams(rows=rows), quiet=True)
    shifted = pair.folder / "right_all_breaks.parquet"
    out = pair.folder / "all_breaks"
    if not (out / "results.parquet").exists():
        right = pl.read_parquet(pair.right("parquet"))
        shift = np.round(np.random.default_rng(7).uniform(0.02, 500.0, right.height), 2)
        right.with_columns((pl.col("amount") + shift).round(2)).write_parquet(shifted)
        compare(pair.left("parquet"), shifted, out)
    return pair.left("parquet"), pair.right("parquet"), out


def compare(left: Path, right: Path, out: Path) -> None:
    command = [str(RECON), "compare", "--spec", str(SPEC), "--left", str(left)]
    command += ["--right", str(right), "--out", str(out), "--reports", "none", "--quiet"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def timed(work: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Best wall seconds of ``repeat`` runs, and the share of the machine other work used."""
    best, others = float("inf"), 0.0
    for _ in range(repeat):
        busy, cpu = machine_busy_seconds(), cpu_seconds()
        start = time.perf_counter()
        work()
        wall = time.perf_counter() - start
        if wall < best:
            best = wall
            own = cpu_seconds() - cpu
            after = machine_busy_seconds()
            if busy is not None and after is not None:
                cores = os.cpu_count() or 1
                others = max(0.0, (after - busy - own) / (wall * cores))
    return best, others


def cpu_seconds() -> float:
    """CPU seconds of this process and of the children it waited for."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per side")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--reference-rows", type=int, default=None, help="rows the xlsxwriter engine writes"
    )
    args = parser.parse_args(argv)
    left, right, out = all_breaks(args.rows)
    results = pl.scan_parquet(out / "results.parquet")
    summary = json.loads((out / "summary.json").read_text())
    breaks = int(summary["breaks"])
    lines = [f"all-breaks result: {breaks:,} breaks ({out})", ""]
    rows: list[tuple[str, int, float, float]] = []
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
        folder = Path(scratch)
        seconds, others = timed(lambda: compare(left, right, folder / "run"), args.repeat)
        rows.append((f"recon compare --reports none ({args.rows:,}/side)", 0, seconds, others))
        for fmt in REPORT_FORMATS:
            seconds, others = timed(
                lambda fmt=fmt: write_reports(results, summary, folder / "r", [fmt]), args.repeat
            )
            rows.append((f"{fmt} report", breaks, seconds, others))
        seconds, others = timed(
            lambda: write_reports(results, summary, folder / "r", REPORT_FORMATS), args.repeat
        )
        rows.append(("all four reports", breaks, seconds, others))
        reference = results.head(args.reference_rows) if args.reference_rows else results
        n = reference.select(pl.len()).collect().item() if args.reference_rows else breaks
        seconds, others = timed(
            lambda: write_xlsx(reference, summary, folder / "x.xlsx", engine="xlsxwriter"), 1
        )
        rows.append(("xlsx, xlsxwriter engine (reference)", int(n), seconds, others))
    base = rows[0][2]
    xlsx = next(row for row in rows if row[0] == "xlsx report")
    lines.append("| what | breaks | wall s | / compare | rows/s | others % |")
    lines.append("|---|---:|---:|---:|---:|---:|")
    for what, count, seconds, others in rows:
        speed = f"{count / seconds:,.0f}" if count else ""
        lines.append(
            f"| {what} | {count:,} | {seconds:.2f} | {seconds / base:.2f}x | {speed} "
            f"| {others:.0%} |"
        )
    ref = rows[-1]
    per_row = (ref[2] / ref[1]) / (xlsx[2] / xlsx[1])
    lines += [
        "",
        f"xlsx: polars engine {per_row:,.0f}x faster per row than xlsxwriter cell by cell",
    ]
    target = "met" if xlsx[2] <= base else "NOT met"
    lines.append(f"target: xlsx of {breaks:,} breaks <= recon compare --reports none: {target}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
