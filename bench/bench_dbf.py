"""Micro-benchmark: recon's ``read_dbf`` against dbfread on a registrar holdings file.

Writes a CAMS-style holdings DBF (cp1252, some deleted records, some blank NAVs, an en dash in
some scheme names) with ``write_dbf``, then reads it in fresh processes (a cold read, as in a
pipeline task; peak memory is each reader's own) with ``read_dbf`` and with dbfread iterating
every record with a Decimal parser for N fields, checks that both return the same values as
were written, and prints the best wall time of ``--repeat`` runs, CPU time, peak memory and the
speed ratio.

    .venv/bin/python bench/bench_dbf.py --records 1000000 --repeat 3

``--compare`` times a whole ``recon compare`` instead (the DBF on the left, a Parquet copy with
planted breaks on the right, every default report written), against dbfread merely iterating
the same file (its own float parser, nothing kept), both as fresh processes.

    .venv/bin/python bench/bench_dbf.py --records 1000000 --compare --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import dbfread
import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from recon.readers.dbf import dbf_schema, read_dbf
from worlds.dbf_write import write_dbf

FIELDS = [
    ("FOLIO_NO", "C", 15, 0),
    ("PRODCODE", "C", 10, 0),
    ("SCHEME", "C", 40, 0),
    ("AMC_CODE", "C", 5, 0),
    ("REP_DATE", "D", 8, 0),
    ("CLOS_BAL", "N", 18, 4),
    ("NAV", "N", 12, 4),
]
SCHEMES = [
    "Equity Growth Fund - Regular - Growth",
    "Liquid Fund - Direct Plan - Daily IDCW",
    "Balanced Advantage Fund – Growth",  # en dash: cp1252 0x96, as pasted from office documents
    "Short Term Debt Fund - Regular - Growth",
    "Small Cap Fund - Direct Plan - Growth",
    "ELSS Tax Saver Fund - Regular - IDCW",
    "Gilt Fund – Direct Plan – Growth",
    "Nifty 50 Index Fund - Direct Plan",
]


def holdings(n: int, seed: int = 7) -> tuple[pl.DataFrame, np.ndarray]:
    """A holdings frame like a registrar's daily file, and which rows are deleted records."""
    rng = np.random.default_rng(seed)
    amc = pl.Series(["H", "I", "S", "A", "K", "N", "U", "D"]).gather(rng.integers(0, 8, n))
    product = rng.integers(0, 600, n)
    frame = pl.DataFrame(
        {
            "FOLIO_NO": pl.Series(rng.integers(10**9, 10**10, n)).cast(pl.String)
            + "/"
            + pl.Series(rng.integers(10, 100, n)).cast(pl.String),
            "PRODCODE": amc + pl.Series(product).cast(pl.String).str.pad_start(3, "0") + "GR",
            "SCHEME": pl.Series(SCHEMES).gather(product % len(SCHEMES)),
            "AMC_CODE": amc + "MF",
            "REP_DATE": pl.Series([dt.date(2024, 3, 28), dt.date(2024, 3, 31)]).gather(
                rng.integers(0, 2, n)
            ),
            # k/1000 as a float is within rounding of the decimal k/1000: the cast is exact
            "CLOS_BAL": (pl.Series(rng.integers(0, 10**10, n)) / 1000).cast(pl.Decimal(18, 4)),
            "NAV": (pl.Series(rng.integers(10_0000, 900_0000, n)) / 10000).cast(pl.Decimal(12, 4)),
        }
    )
    blank_nav = pl.Series(rng.random(n) < 0.01)  # schemes without a NAV on the report date
    frame = frame.with_columns(NAV=pl.when(blank_nav).then(None).otherwise(pl.col("NAV")))
    return frame, rng.random(n) < 0.005


class DecimalFieldParser(dbfread.FieldParser):
    """dbfread returns floats for N fields; exact values need Decimal (ints for scale 0)."""

    def parseN(self, field: Any, data: bytes) -> Decimal | int | None:
        text = data.strip().decode("ascii")
        if not text:
            return None
        return int(text) if field.decimal_count == 0 else Decimal(text)


def peak_rss_mb() -> float:
    """This process's peak RSS. ru_maxrss would do, but a child inherits its parent's peak
    across fork; VmHWM belongs to the address space exec created."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


COMPARE_SPEC = """\
name: dbf_bench
left:  {label: registrar}
right: {label: ledger}
keys: [FOLIO_NO, PRODCODE]
compare:
  CLOS_BAL: {abs_tol: 0.001}
  NAV: {abs_tol: 0.0001}
  REP_DATE: {}
"""


def ledger_side(live: pl.DataFrame, seed: int = 11) -> pl.DataFrame:
    """The other side of the compare: the live records with 1% of balances changed, 0.5% of
    records missing and as many new ones (a registrar against a ledger, most rows matching)."""
    rng = np.random.default_rng(seed)
    n = live.height
    changed = pl.Series(rng.random(n) < 0.01)
    kept = pl.Series(rng.random(n) >= 0.005)
    ledger = live.with_columns(
        CLOS_BAL=pl.when(changed).then(pl.col("CLOS_BAL") + 1).otherwise(pl.col("CLOS_BAL"))
    ).filter(kept)
    extra = live.sample(n=n - int(kept.sum()), seed=seed).with_columns(
        FOLIO_NO=pl.lit("NEW") + pl.int_range(pl.len()).cast(pl.String)
    )
    return pl.concat([ledger, extra]).sample(fraction=1.0, shuffle=True, seed=seed)


def compare_command(dbf: Path, parquet: Path, spec: Path, out: Path) -> list[str]:
    recon = Path(sys.executable).with_name("recon")
    return [str(recon), "compare", "--spec", str(spec), "--left", str(dbf), "--right",
            str(parquet), "--out", str(out)]  # fmt: skip


def worker(reader: str, path: str, out: str) -> dict[str, float]:
    """Run one reader in this process; report wall and CPU time and peak RSS."""
    baseline, cpu, start = peak_rss_mb(), cpu_seconds(), time.perf_counter()
    if reader == "dbfread_iterate":  # merely iterating: the floor of any dbfread-based reader
        for _ in dbfread.DBF(path, char_decode_errors="strict"):
            pass
        figures = {"seconds": time.perf_counter() - start, "cpu": cpu_seconds() - cpu}
        return figures | {"peak_mb": peak_rss_mb(), "baseline_mb": baseline}
    if reader == "read_dbf":
        frame = read_dbf(path)
    else:
        table = dbfread.DBF(path, parserclass=DecimalFieldParser, char_decode_errors="strict")
        records = [list(record.values()) for record in table]
    figures = {"seconds": time.perf_counter() - start, "cpu": cpu_seconds() - cpu}
    figures |= {"peak_mb": peak_rss_mb(), "baseline_mb": baseline}
    if reader == "dbfread":  # the comparison frame is built after measuring
        frame = pl.DataFrame(records, schema=dbf_schema(path), orient="row")
    frame.write_parquet(out)
    return figures


def run_worker(reader: str, path: Path, out: Path) -> dict[str, float]:
    """One cold run in a fresh process."""
    command = [sys.executable, __file__, "--worker", reader, "--path", str(path), "--out", str(out)]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def best_runs(path: Path, folder: Path, repeat: int) -> dict[str, dict[str, float]]:
    """The best of ``repeat`` runs per reader, interleaved so both see the same machine load."""
    runs: dict[str, list[dict[str, float]]] = {"read_dbf": [], "dbfread": []}
    for _ in range(repeat):
        for reader, results in runs.items():
            results.append(run_worker(reader, path, folder / f"{reader}.parquet"))
    return {
        reader: min(results, key=lambda run: run["seconds"]) for reader, results in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per reader; the best counts")
    parser.add_argument("--keep", type=Path, help="write the DBF here and keep it")
    parser.add_argument(
        "--compare", action="store_true", help="time a whole recon compare (reports included)"
    )
    parser.add_argument(
        "--worker", choices=["read_dbf", "dbfread", "dbfread_iterate"], help=argparse.SUPPRESS
    )
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.path, args.out)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "holdings.dbf"
        frame, deleted = holdings(args.records)
        start = time.perf_counter()
        write_dbf(path, frame, FIELDS, "cp1252", deleted=deleted)
        written = time.perf_counter() - start
        size_mb = path.stat().st_size / 2**20
        print(f"wrote {args.records:,} records ({int(deleted.sum()):,} deleted),", end=" ")
        print(f"{size_mb:.1f} MiB, in {written:.2f} s with write_dbf")
        if args.compare:
            compare_runs(path, frame.filter(~pl.Series(deleted)), Path(tmp), args.repeat)
            return
        best = best_runs(path, Path(tmp), args.repeat)
        ours, theirs = best["read_dbf"], best["dbfread"]
        ours_frame = pl.read_parquet(Path(tmp) / "read_dbf.parquet")
        assert_frame_equal(ours_frame, pl.read_parquet(Path(tmp) / "dbfread.parquet"))
        assert_frame_equal(ours_frame, frame.filter(~pl.Series(deleted)))
        print(f"both return the same {ours_frame.height:,} live records, as written")
        print(f"best of {args.repeat} interleaved cold runs each, {os.cpu_count()} CPUs:")
        for name, run in (("read_dbf", ours), ("dbfread", theirs)):
            rate = ours_frame.height / run["seconds"]
            print(
                f"  {name:>8}: {run['seconds']:6.2f} s wall, {run['cpu']:6.2f} s CPU,"
                f" {rate:12,.0f} records/s, peak RSS {run['peak_mb']:5.0f} MiB"
                f" (+{run['peak_mb'] - run['baseline_mb']:.0f} MiB over the imports)"
            )
        print(f"read_dbf is {theirs['seconds'] / ours['seconds']:.1f}x faster than dbfread")


def timed(command: list[str], folder: Path) -> dict[str, float]:
    """Wall, CPU and peak RSS of one command, through bench/measure.py (a fresh process)."""
    out = folder / "measure.json"
    measure = Path(__file__).with_name("measure.py")
    subprocess.run([sys.executable, "-S", str(measure), "--json", str(out), "--", *command],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    figures = json.loads(out.read_text())
    if figures["exit_code"] != 0:
        raise SystemExit(f"{' '.join(command)} exited {figures['exit_code']}")
    return dict(figures)


def compare_runs(dbf: Path, live: pl.DataFrame, folder: Path, repeat: int) -> None:
    """``recon compare`` of the DBF against its Parquet counterpart, with every default report,
    against dbfread iterating the file; the best of ``repeat`` interleaved runs each."""
    parquet, spec, out = folder / "ledger.parquet", folder / "spec.yaml", folder / "out"
    ledger_side(live).write_parquet(parquet)
    spec.write_text(COMPARE_SPEC)
    compare = compare_command(dbf, parquet, spec, out)
    iterate = [sys.executable, __file__, "--worker", "dbfread_iterate", "--path", str(dbf),
               "--out", str(folder / "unused")]  # fmt: skip
    runs: dict[str, list[dict[str, float]]] = {"recon compare": [], "dbfread iterating": []}
    for _ in range(repeat):
        runs["recon compare"].append(timed(compare, folder))
        runs["dbfread iterating"].append(timed(iterate, folder))
    best = {name: min(results, key=lambda r: r["wall_s"]) for name, results in runs.items()}
    summary = json.loads((out / "summary.json").read_text())
    reports = sorted(p.name for p in out.iterdir() if p.name.startswith(("report", "breaks")))
    print(f"recon compare: {summary['counts']}, reports: {', '.join(reports)}")
    print(f"best of {repeat} interleaved cold runs each, {os.cpu_count()} CPUs:")
    for name, run in best.items():
        print(f"  {name:>17}: {run['wall_s']:6.2f} s wall, {run['cpu_s']:6.2f} s CPU,"
              f" peak RSS {run['peak_rss_mb']:5.0f} MiB")  # fmt: skip
    ratio = best["dbfread iterating"]["wall_s"] / best["recon compare"]["wall_s"]
    print(f"recon compare (reports included) is {ratio:.1f}x faster than dbfread iterating")


if __name__ == "__main__":
    main()
