"""Benchmark ``recon compare`` against DuckDB, polars, pandas and datacompy on the same files.

For each size and format: generate the pair (once), run every peer as its own subprocess, one at
a time, measure wall time and peak RSS, check each peer's (id, status) against truth.parquet on
every key, then print a table (also written to ``bench/results/<timestamp>.md``).

    python bench/run.py --sizes 100000
    python bench/run.py --sizes 1000000 10000000 --formats parquet --peers recon,duckdb
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import DATA_DIR, Pair, PairParams, generate
from machine import cpu_model

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PEERS_PY = BENCH / "peers.py"
MEASURE_PY = BENCH / "measure.py"
SPEC = BENCH / "spec.yaml"
RESULTS_DIR = BENCH / "results"
DATACOMPY_VENV = BENCH / ".venv-datacompy"
DATACOMPY_REQUIREMENTS = BENCH / "requirements-datacompy.txt"
UV = REPO / ".tools" / "bin" / "uv"
RECON_CLI = Path(sys.executable).parent / "recon"

ALL_PEERS = (
    "recon", "duckdb", "duckdb_full", "polars", "pandas", "datacompy", "datacompy_pandas"
)  # fmt: skip
DEFAULT_PEERS = "recon,duckdb,duckdb_full,polars,pandas,datacompy"
REPORTS = "html,csv,json,xlsx"
REPORTS_ROW = "recon+reports"
MEMORY_METHOD = (
    "peak RSS = ru_maxrss of the peer process, read with os.wait4() by a stdlib-only wrapper "
    "(bench/measure.py) that starts it, so neither earlier peers nor the harness's own memory "
    "count; wall time = perf_counter around the peer in that wrapper"
)


class Unavailable(Exception):
    """A peer cannot run on this machine; the run goes on without it."""


@dataclass
class Measurement:
    """One peer run on one (size, format)."""

    peer: str
    fmt: str
    size: int
    wall_s: float | None = None
    cpu_s: float | None = None
    peak_mb: float | None = None
    others_pct: float | None = None  # share of the machine's CPU used by other work meanwhile
    agreement: str = ""
    error: str | None = None
    disagreements: int | None = None
    examples: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.wall_s is not None


# ---------------------------------------------------------------- environments


def datacompy_python() -> Path:
    """The datacompy venv's python, created or updated from the pinned requirements if needed."""
    python = DATACOMPY_VENV / "bin" / "python"
    stamp = DATACOMPY_VENV / ".requirements.sha256"
    wanted = hashlib.sha256(DATACOMPY_REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python
    print(f"setting up {DATACOMPY_VENV.relative_to(REPO)} from {DATACOMPY_REQUIREMENTS.name} ...")
    base = shutil.which("python3.11") or sys.executable
    steps = [[base, "-m", "venv", str(DATACOMPY_VENV)]]
    if UV.exists():
        install = [str(UV), "pip", "install", "--python", str(python)]
    else:
        install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    steps.append([*install, "--only-binary=:all:", "-r", str(DATACOMPY_REQUIREMENTS)])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise Unavailable(f"could not set up the datacompy venv: {last_line(done.stderr)}")
    stamp.write_text(wanted + "\n")
    return python


def recon_available() -> str | None:
    """None when ``recon compare`` can run, else why not."""
    if not RECON_CLI.exists():
        return f"{RECON_CLI} not found"
    if find_spec("recon") is None or find_spec("recon.cli") is None:
        return "recon.cli does not exist yet"
    return None


def fastest(runs: list[Measurement]) -> Measurement:
    """The fastest successful run (a failure only when all failed)."""
    good = [r for r in runs if r.ok]
    return min(good, key=lambda r: r.wall_s or 0.0) if good else runs[-1]


def prepare(peers: list[str]) -> dict[str, str]:
    """Set up what the chosen peers need before any timing; return {peer: why unavailable}."""
    missing: dict[str, str] = {}
    datacompy_peers = [p for p in peers if p.startswith("datacompy")]
    if datacompy_peers:
        try:
            datacompy_python()
        except Unavailable as exc:
            missing.update(dict.fromkeys(datacompy_peers, str(exc)))
    return missing


def peer_command(peer: str, left: Path, right: Path, out: Path) -> list[str]:
    if peer in ("recon", REPORTS_ROW):
        why = recon_available()
        if why:
            raise Unavailable(why)
        reports = REPORTS if peer == REPORTS_ROW else "none"
        return [str(RECON_CLI), "compare", "--spec", str(SPEC), "--left", str(left),
                "--right", str(right), "--out", str(out), "--reports", reports]  # fmt: skip
    python = datacompy_python() if peer.startswith("datacompy") else Path(sys.executable)
    return [str(python), str(PEERS_PY), peer, "--left", str(left), "--right", str(right),
            "--out", str(out)]  # fmt: skip


def output_of(peer: str, out: Path) -> Path:
    """Where a peer's (id, status) lands: recon writes a folder, the others one file."""
    return out / "results.parquet" if peer in ("recon", REPORTS_ROW) else out


# ---------------------------------------------------------------- measuring


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


@dataclass(frozen=True)
class Usage:
    """What one finished subprocess cost."""

    wall_s: float
    cpu_s: float  # user + system, all threads
    peak_mb: float
    exit_code: int
    timed_out: bool = False


def measured_run(command: list[str], log: Path, timeout_s: float) -> Usage:
    """Run ``command`` through bench/measure.py, output in ``log``; return what it cost.

    The wrapper, not this process, starts the peer: see measure.py for why that matters to
    ``ru_maxrss``. Wall time is taken by the wrapper around the peer alone.
    """
    numbers = log.with_suffix(".usage.json")
    numbers.unlink(missing_ok=True)
    wrapper = [sys.executable, "-S", str(MEASURE_PY), "--json", str(numbers)]
    with log.open("wb") as sink:
        subprocess.run(
            [*wrapper, "--timeout", str(timeout_s), "--", *command],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            check=False,
        )
    if not numbers.exists():
        raise OSError(f"measure.py wrote no measurement: {last_line(log.read_text())}")
    got = json.loads(numbers.read_text())
    code = -9 if got["timed_out"] else got["exit_code"]
    return Usage(got["wall_s"], got["cpu_s"], got["peak_rss_mb"], code, got["timed_out"])


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes have used since boot (Linux /proc/stat), None elsewhere."""
    try:
        with open("/proc/stat") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait are busy
    ticks = [int(v) for v in fields[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def warm_cache(*paths: Path) -> None:
    """Read the inputs once so no peer pays for a cold page cache that another does not."""
    for path in paths:
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass


def check_agreement(result: Measurement, produced: Path, truth: pl.DataFrame) -> None:
    """Compare the peer's (id, status) with the truth on every key; one row per key expected."""
    got = pl.scan_parquet(produced).select("id", pl.col("status").cast(pl.String)).collect()
    repeated = got.height - got["id"].n_unique()
    joined = truth.join(got, on="id", how="full", coalesce=True, suffix="_peer")
    wrong = joined.filter(~pl.col("status").eq_missing(pl.col("status_peer")))
    result.disagreements = wrong.height + repeated
    result.examples = [tuple(row) for row in wrong.head(5).iter_rows()]
    if result.disagreements == 0:
        result.agreement = f"agrees on all {truth.height:,} keys"
    else:
        extra = f", {repeated} repeated ids" if repeated else ""
        result.agreement = f"{result.disagreements:,} disagreements{extra}"


def run_peer(
    peer: str, fmt: str, pair: Pair, truth: pl.DataFrame, work: Path, timeout_s: float
) -> Measurement:
    result = Measurement(peer, fmt, pair.rows)
    out = work / (peer if peer in ("recon", REPORTS_ROW) else f"{peer}.parquet")
    if out.is_dir():
        shutil.rmtree(out)
    else:
        out.unlink(missing_ok=True)
    log = work / f"{peer}.log"
    try:
        command = peer_command(peer, pair.left(fmt), pair.right(fmt), out)
    except Unavailable as exc:
        result.error = f"not available ({exc})"
        return result
    busy_before = machine_busy_seconds()
    try:
        usage = measured_run(command, log, timeout_s)
    except OSError as exc:
        result.error = f"could not start: {exc}"
        return result
    busy_after = machine_busy_seconds()
    if busy_before is not None and busy_after is not None and usage.wall_s > 0:
        others = max(0.0, busy_after - busy_before - usage.cpu_s)
        result.others_pct = 100 * others / (usage.wall_s * (os.cpu_count() or 1))
    result.wall_s, result.cpu_s, result.peak_mb = usage.wall_s, usage.cpu_s, usage.peak_mb
    produced = output_of(peer, out)
    if usage.timed_out:
        result.error = f"killed after the {timeout_s:.0f} s timeout (log: {log.relative_to(REPO)})"
    elif usage.exit_code != 0:
        reason = last_line(log.read_text(errors="replace"))
        result.error = f"exit {usage.exit_code}: {reason} (log: {log.relative_to(REPO)})"
    elif not produced.exists():
        result.error = f"no output at {produced} (log: {log})"
    else:
        try:
            check_agreement(result, produced, truth)
        except (pl.exceptions.PolarsError, OSError) as exc:
            result.error = f"unreadable output {produced}: {exc}"
    return result


# ---------------------------------------------------------------- reporting


def fmt_num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "-"
    return f"{value / base:.2f}x"


def failure(error: str) -> str:
    return error if error.startswith("not available") else f"failed: {error}"


def table(results: list[Measurement]) -> list[str]:
    """Markdown table: one row per run, ratios to DuckDB on the same size and format."""
    duck = {(r.size, r.fmt): r for r in results if r.peer == "duckdb" and r.ok}
    head = (
        "| peer | format | rows/side | wall s | cpu s | peak MB | time / DuckDB "
        "| memory / DuckDB | others % | agrees |"
    )
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        base = duck.get((r.size, r.fmt))
        cells = [
            r.peer,
            r.fmt,
            f"{r.size:,}",
            fmt_num(r.wall_s, ".2f"),
            fmt_num(r.cpu_s, ".2f"),
            fmt_num(r.peak_mb, ",.0f"),
            ratio(r.wall_s, base.wall_s if base else None) if r.ok else "-",
            ratio(r.peak_mb, base.peak_mb if base else None) if r.ok else "-",
            fmt_num(r.others_pct, ".0f"),
            r.agreement if r.error is None else failure(r.error),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def target_lines(results: list[Measurement]) -> list[str]:
    """The issue's targets: <= 1.0x DuckDB time and <= 1.5x memory at 10M; 1M CSV < 2 s."""
    found = {(r.peer, r.fmt, r.size): r for r in results if r.ok}
    lines = []
    for fmt in ("parquet", "csv"):
        recon, duck = found.get(("recon", fmt, 10_000_000)), found.get(("duckdb", fmt, 10_000_000))
        if recon and duck and recon.wall_s and duck.wall_s and recon.peak_mb and duck.peak_mb:
            t, m = recon.wall_s / duck.wall_s, recon.peak_mb / duck.peak_mb
            verdict = "met" if t <= 1.0 and m <= 1.5 else "NOT met"
            lines.append(
                f"target 10M {fmt}: recon {t:.2f}x DuckDB time (<= 1.0x), "
                f"{m:.2f}x memory (<= 1.5x): {verdict}"
            )
        full = found.get(("duckdb_full", fmt, 10_000_000))
        if recon and full and recon.wall_s and full.wall_s and recon.peak_mb and full.peak_mb:
            lines.append(
                f"equal work 10M {fmt}: recon {recon.wall_s / full.wall_s:.2f}x the time and "
                f"{recon.peak_mb / full.peak_mb:.2f}x the memory of DuckDB writing the same "
                "per-key values (duckdb_full)"
            )
    csv_1m = found.get(("recon", "csv", 1_000_000))
    if csv_1m and csv_1m.wall_s is not None:
        verdict = "met" if csv_1m.wall_s < 2.0 else "NOT met"
        lines.append(f"target 1M CSV end to end: recon {csv_1m.wall_s:.2f} s (< 2 s): {verdict}")
    return lines


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def datacompy_versions() -> str:
    python = DATACOMPY_VENV / "bin" / "python"
    if not python.exists():
        return "datacompy venv not set up"
    code = "from importlib.metadata import version as v; print(v('datacompy'), v('polars'), v('pandas'))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return "datacompy venv broken"
    dc, pol, pan = done.stdout.split()
    return f"datacompy {dc} (polars {pol}, pandas {pan})"


def recon_revision() -> str:
    """The last commit to include/ (the measured core), and whether it has uncommitted edits."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("log", "-1", "--format=%h %cd %s", "--date=format:%Y-%m-%d %H:%M", "--", "include")
    if not commit:
        return "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--", "include")
    return f"{commit[:100]}{' + uncommitted changes in include/' if dirty else ''}"


def machine_lines() -> list[str]:
    cpu = cpu_model()
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = ", ".join(f"{p} {package_version(p)}" for p in ("polars", "duckdb", "pandas"))
    return [
        f"recon at: {recon_revision()}",
        f"machine: {os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GiB, Python {platform.python_version()}",
        f"versions: recon {package_version('recon')}, {versions}; {datacompy_versions()}",
        f"memory: {MEMORY_METHOD}",
        "others %: share of the machine's CPU (all cores) used by other processes during the "
        "run, from /proc/stat minus the peer's own CPU time; above ~5% the times are inflated "
        "(rerun on a quiet machine, or use --repeat to keep the fastest run)",
    ]


def disagreement_lines(results: list[Measurement]) -> list[str]:
    lines = []
    for r in results:
        if r.disagreements:
            lines.append(f"{r.peer} {r.fmt} {r.size:,}: {r.disagreements:,} disagreements, e.g.")
            lines += [f"  id={i} truth={t} peer={p}" for i, t, p in r.examples]
    return lines


def write_markdown(results: list[Measurement], argv: list[str]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"{stamp}.md"
    body = [
        f"# recon benchmark {stamp}",
        "",
        f"`python bench/run.py {' '.join(argv)}`",
        "",
        *(f"- {line}" for line in machine_lines()),
        "",
        *table(results),
        "",
        *(f"- {line}" for line in target_lines(results)),
    ]
    extra = disagreement_lines(results)
    if extra:
        body += ["", "```", *extra, "```"]
    path.write_text("\n".join(body) + "\n")
    return path


# ---------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument(
        "--formats", nargs="+", choices=("parquet", "csv"), default=["parquet", "csv"]
    )
    parser.add_argument("--peers", default=DEFAULT_PEERS, help=f"comma-separated, from {ALL_PEERS}")
    parser.add_argument("--reports-max-size", type=int, default=1_000_000,
                        help="also time recon with all reports at sizes up to this (0: never)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=1, help="runs per peer; the fastest is kept")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per peer run")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    args.peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = sorted(set(args.peers) - set(ALL_PEERS))
    if unknown:
        parser.error(f"unknown peers {unknown}; choose from {', '.join(ALL_PEERS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    missing = prepare(args.peers)
    for line in machine_lines():
        print(line)
    results: list[Measurement] = []
    for size in args.sizes:
        pair = generate(PairParams(rows=size), args.data_dir)
        truth = pl.read_parquet(pair.truth)
        for fmt in args.formats:
            work = pair.folder / "out" / fmt
            work.mkdir(parents=True, exist_ok=True)
            warm_cache(pair.left(fmt), pair.right(fmt))
            peers = list(args.peers)
            if "recon" in peers and size <= args.reports_max_size:
                peers.insert(peers.index("recon") + 1, REPORTS_ROW)
            for peer in peers:
                print(f"{size:>11,} {fmt:<8} {peer:<14}", end=" ", flush=True)
                if peer in missing:
                    result = Measurement(peer, fmt, size, error=f"not available ({missing[peer]})")
                else:
                    runs = [
                        run_peer(peer, fmt, pair, truth, work, args.timeout)
                        for _ in range(max(1, args.repeat))
                    ]
                    result = fastest(runs)
                results.append(result)
                if result.ok:
                    print(
                        f"{result.wall_s:7.2f} s {result.cpu_s:7.2f} cpu-s "
                        f"{result.peak_mb:7,.0f} MB  {result.agreement}"
                    )
                else:
                    timing = f"{result.wall_s:7.2f} s " if result.wall_s is not None else ""
                    print(f"{timing}{result.peer}: {result.error}")
    print()
    print("\n".join(table(results)))
    for line in [*target_lines(results), *disagreement_lines(results)]:
        print(line)
    path = write_markdown(results, argv)
    print(f"\nwritten to {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
