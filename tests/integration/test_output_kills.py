"""A run's outputs become visible all together or not at all (issue 12, item 3).

``recon compare`` runs as a real process and is killed (SIGKILL) at several moments: as soon as
its work folder appears, once the results are written there, once the summary is, once each
report is. After every kill the output folder holds one complete, consistent set (the previous
run's, since the swap had not happened), and the next run removes the dead run's work folder.
A failed report write (a file-size limit) also leaves the previous set as it was.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from embedded.airflow_settings import REPO_ROOT
from recon.reports import REPORT_FILES

ROWS = 150_000
OUTPUTS = {"results.parquet", "summary.json", *REPORT_FILES.values()}


def write_pair(folder: Path, every: int) -> tuple[Path, Path, Path]:
    """Two CSVs where every ``every``-th amount differs: each run has its own break count."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"K{i:07d}" for i in range(ROWS)]
    amounts = [float(i % 1000) for i in range(ROWS)]
    other = [a + 5 if i % every == 0 else a for i, a in enumerate(amounts)]
    pl.DataFrame({"id": ids, "amount": amounts}).write_csv(folder / "l.csv")
    pl.DataFrame({"id": ids, "amount": other}).write_csv(folder / "r.csv")
    spec = folder / "spec.yaml"
    spec.write_text("name: s\nkeys: [id]\ncompare:\n  amount: {abs_tol: 0.01}\n")
    return spec, folder / "l.csv", folder / "r.csv"


def command(pair: tuple[Path, Path, Path], out: Path) -> list[str]:
    spec, left, right = pair
    return [sys.executable, "-m", "recon", "compare", "--spec", str(spec), "--left", str(left),
            "--right", str(right), "--out", str(out), "--quiet"]  # fmt: skip


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT / "include")}


def consistent_set(out: Path) -> int:
    """The break count of the one complete set ``out`` holds (every file from the same run)."""
    assert {p.name for p in out.iterdir()} == OUTPUTS
    summary = json.loads((out / "summary.json").read_text())
    results = pl.read_parquet(out / "results.parquet")
    breaks = results.filter(pl.col("status") != "matched").height
    assert summary["breaks"] == breaks
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["counts"] == summary["counts"]
    assert len((out / "breaks.csv").read_text().splitlines()) == breaks + 1
    return breaks


def work_folders(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.recon-*"))


def kill_when(cmd: list[str], ready: Callable[[], bool]) -> bool:
    """Start ``cmd`` and SIGKILL it as soon as ``ready()``; False if it finished first."""
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while proc.poll() is None:
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.002)
    return False


def inside_work(out: Path, name: str | None) -> Callable[[], bool]:
    def ready() -> bool:
        folders = work_folders(out)
        return bool(folders) and (name is None or (folders[0] / name).exists())

    return ready


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path, Path]]:
    root = tmp_path_factory.mktemp("pairs")
    return {
        "before": write_pair(root / "before", 97),
        "after": write_pair(root / "after", 13),
        "all_breaks": write_pair(root / "all_breaks", 1),  # reports larger than its results
    }


@pytest.mark.parametrize(
    "moment",
    [None, "results.parquet", "summary.json", "report.html", "breaks.csv", "report.xlsx"],
    ids=["work-folder", "results", "summary", "html", "csv", "xlsx"],
)
def test_a_kill_at_any_moment_leaves_one_whole_set(
    tmp_path: Path, pairs: dict[str, tuple[Path, Path, Path]], moment: str | None
) -> None:
    out = tmp_path / "out"
    subprocess.run(command(pairs["before"], out), env=env(), check=True)
    before = consistent_set(out)

    killed = kill_when(command(pairs["after"], out), inside_work(out, moment))

    assert killed, f"the run finished before {moment or 'its work folder'} appeared"
    assert consistent_set(out) == before  # the previous set, whole: nothing of the new one
    assert work_folders(out)  # the dead run's work folder is still there ...
    subprocess.run(command(pairs["after"], out), env=env(), check=True)
    assert work_folders(out) == []  # ... until the next run removes it
    assert consistent_set(out) > before  # and publishes its own set, whole


def test_a_failed_report_write_leaves_the_previous_set(
    tmp_path: Path, pairs: dict[str, tuple[Path, Path, Path]]
) -> None:
    out = tmp_path / "out"
    subprocess.run(command(pairs["before"], out), env=env(), check=True)
    before = consistent_set(out)
    limit = (out / "results.parquet").stat().st_size * 2  # results fit, the reports do not

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        command(pairs["all_breaks"], out), env=env(), capture_output=True, text=True,
        preexec_fn=small_files,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "File too large" in lines[0]
    assert "the earlier outputs are left as they were" in lines[0]
    assert consistent_set(out) == before
    assert work_folders(out) == []  # a failure cleans up after itself


def test_an_output_path_that_is_a_file_is_one_line(
    tmp_path: Path, pairs: dict[str, tuple[Path, Path, Path]]
) -> None:
    out = tmp_path / "taken"
    out.write_text("not a folder")
    done = subprocess.run(command(pairs["before"], out), env=env(), capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "exists and is not a folder" in done.stderr
    assert out.read_text() == "not a folder"
