"""Integrity and policy for every DAG in dags/: parses, is documented, alerts, retries, is cheap.

The DagBag is parsed once per session (``dagbag`` fixture). The parse-cost test runs each DAG
file in a fresh interpreter with the network closed, so a DAG that reaches for a connection,
a Variable or a server at import time fails here instead of slowing every scheduler loop.

Generated DAGs count as DAGs: ``dags/config_recons.py`` makes one per recon definition in
``config/recons/`` (its stem is no dag_id), ``dags/config_recons_check.py`` makes none (it is
where invalid definitions raise their import error); every policy below covers them too.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from embedded.airflow_settings import REPO_ROOT
from worlds.checks import project_python

DAG_FILES = sorted((REPO_ROOT / "dags").glob("*.py"))
GENERATOR = REPO_ROOT / "dags" / "config_recons.py"  # one DAG per recon definition
CONFIG_CHECK = REPO_ROOT / "dags" / "config_recons_check.py"  # no DAG: the definitions' errors
ONE_DAG_FILES = [p for p in DAG_FILES if p not in (GENERATOR, CONFIG_CHECK)]
RECON_DEFINITIONS = sorted(
    p for p in (REPO_ROOT / "config" / "recons").glob("*") if p.suffix in (".yaml", ".yml")
)
# What our code must import only when a task runs (the provider's SFTPSensor brings paramiko:
# that one is Airflow's cost, not ours).
HEAVY_MODULES = ("polars", "pymongo", "psycopg", "boto3", "xlsxwriter", "pandas", "pyarrow")


def test_no_import_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert len(dagbag.dags) == len(ONE_DAG_FILES) + len(RECON_DEFINITIONS)


@pytest.mark.parametrize("path", ONE_DAG_FILES, ids=lambda p: p.stem)
def test_file_stem_is_the_dag_id(dagbag: Any, path: Path) -> None:
    assert dagbag.get_dag(path.stem) is not None


@pytest.mark.parametrize("path", RECON_DEFINITIONS, ids=lambda p: p.name)
def test_each_recon_definition_is_a_generated_dag(dagbag: Any, path: Path) -> None:
    dag_id = yaml.safe_load(path.read_text(encoding="utf-8")).get("dag_id") or path.stem
    dag = dagbag.get_dag(dag_id)
    assert dag is not None, f"{path.name} made no DAG {dag_id!r}"
    assert Path(dag.fileloc) == GENERATOR
    assert path.name in dag.doc_md


def _dags(dagbag: Any) -> list[Any]:
    return sorted(dagbag.dags.values(), key=lambda d: d.dag_id)


def test_every_dag_is_documented_owned_and_tagged(dagbag: Any) -> None:
    for dag in _dags(dagbag):
        assert dag.tags, dag.dag_id
        assert dag.doc_md and len(dag.doc_md) > 100, dag.dag_id
        assert dag.catchup is False, f"{dag.dag_id}: backfills are explicit, not catch-up"
        assert dag.owner not in ("", "airflow"), dag.dag_id
        # a schedule, unless the DAG exists to be triggered (its runs come from people)
        on_demand = "adhoc" in dag.tags
        assert dag.timetable is not None, dag.dag_id
        assert (dag.schedule is None) == on_demand, f"{dag.dag_id}: schedule {dag.schedule!r}"


def _setting(task: Any, name: str) -> Any:
    """A task's argument, for plain and mapped (``.partial().expand()``) operators alike."""
    partial = getattr(task, "partial_kwargs", None)
    if partial is not None and name in partial:
        return partial[name]
    return getattr(task, name)


def test_every_task_retries_and_alerts_on_failure(dagbag: Any) -> None:
    for dag in _dags(dagbag):
        for task in dag.tasks:
            where = f"{dag.dag_id}.{task.task_id}"
            callbacks = _setting(task, "on_failure_callback")
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert any(callbacks), f"{where} has no on-failure alert"
            if task.task_type.endswith("Sensor"):
                timeout = _setting(task, "timeout")
                assert timeout and timeout < 24 * 3600, f"{where}: a wait needs a timeout"
                assert _setting(task, "mode") == "reschedule", f"{where} holds a slot to wait"
            else:
                assert _setting(task, "retries") >= 1, f"{where} never retries"
                assert _setting(task, "retry_exponential_backoff"), f"{where}: no backoff"


def test_params_have_titles_and_descriptions(dagbag: Any) -> None:
    for dag in _dags(dagbag):
        for name in dag.params:
            param = dag.params.get_param(name)
            assert param.description, f"{dag.dag_id}: param {name} has no description"
            assert param.schema.get("title"), f"{dag.dag_id}: param {name} has no title"


def test_aum_registrars_match_the_pipeline_config(dagbag: Any) -> None:
    config = yaml.safe_load((REPO_ROOT / "config/pipelines/aum_recon.yaml").read_text())
    param = dagbag.get_dag("aum_recon").params.get_param("registrars")
    assert param.schema["items"]["enum"] == list(config["registrars"])
    assert param.value == list(config["registrars"])


def test_payments_processors_match_the_pipeline_config(dagbag: Any) -> None:
    config = yaml.safe_load((REPO_ROOT / "config/pipelines/payments_recon.yaml").read_text())
    param = dagbag.get_dag("payments_recon").params.get_param("processors")
    assert param.schema["items"]["enum"] == config["processors"]
    assert param.value == config["processors"]


PARSE_PROBE = textwrap.dedent(
    """
    import importlib.util, json, os, socket, sys, time
    def refuse(*args, **kwargs):
        raise RuntimeError(f"network I/O at DAG parse time: {args!r}")
    socket.socket.connect = refuse
    socket.create_connection = refuse
    opened = set()
    def audit(event, args):  # every file the parse opens (code aside)
        if event == "open" and isinstance(args[0], str) and not args[0].endswith((".py", ".pyc")):
            opened.add(os.path.abspath(args[0]))
    sys.addaudithook(audit)
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    heavy = [m for m in sys.argv[2].split(",") if m in sys.modules]
    print(json.dumps({"heavy": heavy, "opened": sorted(opened)}))
    """
)


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_dag_file_parses_without_io_or_heavy_imports(path: Path) -> None:
    done = project_python("-c", PARSE_PROBE, str(path), ",".join(HEAVY_MODULES))
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    heavy = ",".join(found["heavy"])
    assert heavy == "", f"{path.name} imports {heavy} at parse time; import inside execute()"
    # the project's files a parse may read: the recon definitions (the generators' input)
    ours = [
        Path(p)
        for p in found["opened"]
        if Path(p).is_relative_to(REPO_ROOT) and not Path(p).is_relative_to(REPO_ROOT / ".venv")
    ]
    assert set(ours) <= set(RECON_DEFINITIONS), f"{path.name} reads {ours} at parse time"
