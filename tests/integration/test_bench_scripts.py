"""The benchmarks still start: each script imports what it names and parses its arguments.

Benchmarks run on demand, never in the suite; this only catches a bench script left behind by
a refactor (a renamed helper it imports), which nothing else would notice until the next run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from worlds.checks import REPO, project_python

SCRIPTS = sorted((REPO / "bench").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_bench_script_starts(script: Path) -> None:
    done = project_python(str(script), "--help")
    assert done.returncode == 0, done.stderr[-2000:]
