"""Checks the tests make in a fresh interpreter, on the project's own code.

- :func:`project_python`: ``python <args>`` in the repository, with include/ and plugins/ on
  ``PYTHONPATH`` and the rest of the environment kept (a DAG file's parse, a bench script);
- :func:`loads_airflow`: whether importing some modules, with nothing but ``pythonpath`` to
  import from, loads Airflow (the core and the message words must not).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[2]


def project_python(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python *args`` in the repository (text output captured; the caller checks it)."""
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": f"{REPO / 'include'}:{REPO / 'plugins'}"},
    )


def loads_airflow(*modules: str, pythonpath: Sequence[Path]) -> bool:
    """Whether ``import <modules>`` loads ``airflow`` or a module of it, in an interpreter whose
    environment is only ``PYTHONPATH=<pythonpath>`` (and an empty ``PATH``)."""
    code = (
        f"import sys, {', '.join(modules)};"
        "print(any(m == 'airflow' or m.startswith('airflow.') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": ":".join(str(p) for p in pythonpath), "PATH": ""},
    )
    answer = out.stdout.strip()
    if answer not in ("True", "False"):
        raise AssertionError(f"the import check printed {answer!r}, not True or False")
    return answer == "True"


__all__ = ["REPO", "loads_airflow", "project_python"]
