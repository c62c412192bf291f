"""The benchmarks still start: each script imports what it names and parses its arguments.

Benchmarks run on demand, never in the suite; this only catches a bench script left behind by
a refactor (a renamed helper it imports), which nothing else would notice until the next run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((REPO / "bench").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_bench_script_starts(script: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": f"{REPO / 'include'}:{REPO / 'plugins'}"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
