"""What the pipeline benchmarks (bench_aum.py, bench_payments.py) share to time a stage.

The process's CPU and peak memory per call, the machine's other load, a server process's CPU
(workers that already exited included), the COPY peer of the Postgres load, the table's cells,
the machine description, and the list of untimed checks and notes a run prints as it goes.
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import subprocess
from pathlib import Path
from typing import Any

import psutil
from machine import cpu_model
from run import package_version, recon_revision

from embedded.postgres import EmbeddedPostgres
from recon_airflow.stores.postgres import queries

REPO = Path(__file__).resolve().parents[1]
MIN_OTHERS_S = 0.5  # /proc/stat counts in 10 ms ticks: shorter calls get no others %
COPY_TABLE = "bench_breaks_copy"


def cpu_s() -> float:
    """User + system CPU of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reset_peak() -> bool:
    """Make VmHWM start again from the current RSS (Linux: ``5`` to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def peak_mb() -> float:
    """VmHWM of this process (after ``reset_peak``, the peak since then); else the RSS now."""
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    return rss_mb()


def others_pct(
    busy: float | None, busy_after: float | None, cpu: float, outside: float, seconds: float
) -> float | None:
    """Share of the machine's CPU that neither this process (``cpu``) nor the server in use in
    another process (``outside``) spent during a call of ``seconds``."""
    if busy is None or busy_after is None or seconds < MIN_OTHERS_S:
        return None
    spare = max(0.0, busy_after - busy - cpu - outside)
    return 100 * spare / (seconds * (os.cpu_count() or 1))


def process_cpu_s(process: psutil.Process) -> float:
    """CPU seconds of a server and its workers, those already exited included.

    A worker that exits is reaped by the server, which adds its time to its own children_*
    times; workers still running are added one by one.
    """
    times = process.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child_times = child.cpu_times()
            total += child_times.user + child_times.system
    return float(total)


def postmaster(pg: EmbeddedPostgres) -> psutil.Process | None:
    """The local Postgres server process (the parent of a backend); None for an external one."""
    if pg.is_external:
        return None
    with pg.connect() as conn:  # the backend exits with its connection: look it up before
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        try:
            return psutil.Process(int(row[0])).parent()
        except psutil.Error:
            return None


def copy_floor(pg: EmbeddedPostgres, csv: Path) -> int:
    """The load's peer: COPY the same break rows, already as CSV, into a plain table, commit."""
    statement = queries()["copy_breaks_in"].replace("recon_breaks_in", COPY_TABLE)
    with pg.connect() as conn, conn.cursor() as cur:
        cur.execute(f"TRUNCATE {COPY_TABLE}")
        with cur.copy(statement) as copy, csv.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        cur.execute(f"SELECT count(*) FROM {COPY_TABLE}")
        row = cur.fetchone()
    return int(row[0]) if row else -1


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def machine_info(packages: tuple[str, ...]) -> dict[str, Any]:
    """The revision measured, uncommitted edits, cores, CPU, memory and package versions."""
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "include", "plugins", "config"],
        cwd=REPO, capture_output=True, text=True, check=False,
    ).stdout.split("\n")  # fmt: skip
    return {
        "recon_at": recon_revision(),
        "uncommitted": [line.strip() for line in changed if line.strip()],
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30),
        "python": platform.python_version(),
        "versions": {name: package_version(name) for name in packages},
    }


class Checks:
    """The untimed correctness checks and notes of a run, printed as they come; a failed check
    is shown, and fails the run at the end."""

    def __init__(self) -> None:
        self.checks: list[str] = []
        self.notes: list[str] = []

    def check(self, what: str, ok: bool) -> None:
        line = f"{'ok' if ok else 'FAILED'}: {what}"
        self.checks.append(line)
        print(f"    check {line}", flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)
