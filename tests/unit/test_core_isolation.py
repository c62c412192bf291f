"""The core (include/recon) never imports Airflow: it must run anywhere, fast."""

from __future__ import annotations

import ast
from pathlib import Path

from worlds.checks import loads_airflow

CORE = Path(__file__).resolve().parents[2] / "include" / "recon"


def test_no_module_of_the_core_imports_airflow() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "airflow"]
    assert offenders == []


def test_importing_the_core_loads_no_airflow() -> None:
    core = ("recon.engine.reconcile", "recon.cli", "recon.reports")
    assert loads_airflow(*core, pythonpath=[CORE.parent]) is False


def test_nothing_under_include_imports_the_plugin_layer() -> None:
    """include/ (the core, the test servers, the generated worlds, the demo) sits below the
    Airflow layer: an import of recon_airflow from there would be an arrow running back up."""
    offenders = []
    for path in CORE.parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(CORE.parent)}: {n}"
                for n in names
                if n.split(".")[0] == "recon_airflow"
            ]
    assert offenders == []
