"""DAGs generated from recon definitions (``dags/config_recons.py``) and their import errors.

A real ``DagBag`` parses copies of the two DAG files of config recons over a temporary config
folder (``RECON_CONFIG_DIR``) holding valid and invalid definitions: each invalid file must be
an import error naming the file and its mistakes, the valid ones must still be DAGs, and — as
Airflow's scheduler sees it, in the metadata DB — must stay schedulable.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from embedded.airflow_settings import REPO_ROOT
from worlds.definitions import against_the_ledger

GENERATOR, CHECK = "config_recons.py", "config_recons_check.py"
VALID = against_the_ledger(
    """\
description: Shop orders on SFTP against the orders ledger.
schedule: "30 6 * * 1-5"
timezone: Europe/London
days_before: 1
owner: recon-finance
tags: [orders]
left:
  label: shop
  sftp: {conn_id: shop_sftp, path: "/out/orders_{date:%Y%m%d}.csv", delimiter: ";"}
"""
)
MONGO = """\
dag_id: orders_vs_mongo
schedule: "@daily"
left:
  label: export
  s3: {bucket: recon-staging, key: "exports/{date}.parquet"}
right:
  label: mongo
  mongo:
    database: shop
    collection: orders
    pipeline:
      - $match: {day: "{date}"}
      - $project: {_id: 0, order_id: 1, amount: 1}
spec:
  keys: [order_id]
  compare: {amount: {abs_tol: 0.01}}
results:
  mongo: {database: recon}
  reports: {s3_conn_id: null, formats: [html, csv]}
alerts:
  email: ops@example.test
"""
BROKEN = """\
description: two mistakes and a typo
schedule: "0 25 * * *"
left:
  label: shop
  s3: {bucket: recon-staging, key: "exports/{day}.csv"}
right:
  label: ledger
  sql: {query: orders_ledger.sql}
spec:
  keys: [order_id]
alert:
  email: [ops@example.test]
"""


def make_folders(tmp: Path, definitions: dict[str, str]) -> Path:
    """A DAG folder with the two config-recon DAG files, and a config folder; the DAG folder."""
    dags = tmp / "dags"
    dags.mkdir()
    for name in (GENERATOR, CHECK):
        shutil.copy(REPO_ROOT / "dags" / name, dags / name)
    recons = tmp / "config" / "recons"
    recons.mkdir(parents=True)
    for name, text in definitions.items():
        (recons / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return dags


@pytest.fixture
def parse(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, airflow_db: None) -> Any:
    """``parse({file: yaml})``: a DagBag over those definitions."""
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("RECON_CONFIG_DIR", str(tmp_path / "config"))

    def run(definitions: dict[str, str]) -> Any:
        return DagBag(dag_folder=str(make_folders(tmp_path, definitions)))

    return run


def test_invalid_definition_is_an_import_error_and_valid_ones_still_load(parse: Any) -> None:
    bag = parse({"orders_sftp.yaml": VALID, "broken.yaml": BROKEN, "orders_mongo.yaml": MONGO})

    assert sorted(bag.dags) == ["orders_sftp", "orders_vs_mongo"]
    assert list(bag.import_errors) == [str(Path(bag.dag_folder) / CHECK)]
    error = next(iter(bag.import_errors.values()))
    broken = f"{Path(bag.dag_folder).parent}/config/recons/broken.yaml"
    # the file, each mistake with its YAML path and line, and the hints, as `recon validate`
    assert f"ReconConfigError: 1 invalid recon definition(s) in {Path(bag.dag_folder).parent}" in (
        error
    )
    assert f"invalid recon definition {broken}: 4 problems: " in error
    assert f"{broken}: schedule, line 2: `0 25 * * *` is not a cron expression" in error
    assert f"{broken}: left.s3.key, line 5: `exports/{{day}}.csv`: unknown placeholder" in error
    assert f"{broken}: alert, line 11: unknown setting `alert` (did you mean `alerts`?)" in error
    assert f"{broken}: alerts, line 1: required setting is missing" in error


def test_recon_validate_says_what_the_import_error_says(
    parse: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from recon.cli import main

    bag = parse({"broken.yaml": BROKEN})
    broken = Path(bag.dag_folder).parent / "config" / "recons" / "broken.yaml"
    assert main(["validate", str(broken)]) == 2
    line = capsys.readouterr().err.strip().removeprefix("recon: error: ")
    assert line in next(iter(bag.import_errors.values())).splitlines()


def test_valid_dags_stay_schedulable_beside_an_invalid_definition(
    parse: Any, tmp_path: Path
) -> None:
    """What the scheduler reads: Airflow marks every DAG of a file with an import error stale
    (and skips it), so the error must belong to the check file, which has no DAG."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.models.dag import DagModel
    from airflow.models.errors import ParseImportError
    from airflow.utils.session import create_session

    parse({"orders_sftp.yaml": VALID, "broken.yaml": BROKEN})
    DagBundlesManager().sync_bundles_to_db()
    bundle = "dags-folder"
    bag = BundleDagBag(
        dag_folder=str(tmp_path / "dags"), bundle_path=tmp_path / "dags", bundle_name=bundle
    )
    sync_bag_to_db(bag, bundle, None)
    with create_session() as session:
        try:
            dag = session.get(DagModel, "orders_sftp")
            assert dag is not None and dag.relative_fileloc == GENERATOR
            assert (dag.is_stale, dag.has_import_errors) == (False, False)
            errors = session.query(ParseImportError).filter_by(bundle_name=bundle).all()
            assert [e.filename for e in errors] == [CHECK]
            assert "broken.yaml" in errors[0].stacktrace
        finally:  # the session's metadata DB is shared with the other tests
            session.query(ParseImportError).filter_by(bundle_name=bundle).delete()
            session.query(DagModel).filter_by(dag_id="orders_sftp").delete()


def test_no_import_error_when_every_definition_is_valid(parse: Any) -> None:
    bag = parse({"orders_sftp.yaml": VALID})
    assert bag.import_errors == {}
    assert list(bag.dags) == ["orders_sftp"]


def test_a_dag_id_taken_twice_or_by_a_python_dag_is_an_import_error(parse: Any) -> None:
    twin = VALID.replace("description:", "dag_id: orders_sftp\ndescription:")
    python = VALID.replace("description:", "dag_id: config_recons\ndescription:")
    bag = parse({"orders_sftp.yaml": VALID, "twin.yaml": twin, "python.yaml": python})
    assert list(bag.dags) == ["orders_sftp"]
    error = next(iter(bag.import_errors.values()))
    assert "2 invalid recon definition(s)" in error
    assert "twin.yaml: dag_id: dag_id `orders_sftp` is already the DAG of " in error
    assert (
        f"python.yaml: dag_id: dag_id `config_recons` is already the DAG of {Path(bag.dag_folder) / GENERATOR}"
        in error
    )


def test_generated_dag_follows_its_definition(parse: Any) -> None:
    from recon_airflow.operators.file_to_staging import FileToStagingOperator
    from recon_airflow.operators.load_mongo import MongoResultsOperator
    from recon_airflow.operators.mongo_aggregate_to_staging import MongoAggregateToStagingOperator
    from recon_airflow.operators.sql_to_staging import SqlToStagingOperator

    bag = parse({"orders_sftp.yaml": VALID, "orders_mongo.yaml": MONGO})
    sftp, mongo = bag.dags["orders_sftp"], bag.dags["orders_vs_mongo"]

    upstream = {t.task_id: sorted(t.upstream_task_ids) for t in sftp.tasks}
    assert upstream == {
        "plan": [],
        "extract_left": ["plan"],
        "extract_right": ["plan"],
        "reconcile": ["extract_left", "extract_right", "plan"],
        "publish": ["reconcile"],
        "load_postgres": ["publish"],
        "send_summary": ["load_postgres", "plan", "publish"],
    }
    left, right = sftp.get_task("extract_left"), sftp.get_task("extract_right")
    assert isinstance(left, FileToStagingOperator) and isinstance(right, SqlToStagingOperator)
    assert (left.delimiter, left.required_columns) == (";", ["order_id", "amount"])
    assert (right.sql, right.postgres_conn_id) == ("orders_ledger.sql", "recon_postgres")
    assert sftp.schedule == "30 6 * * 1-5" and str(sftp.timezone) == "Europe/London"
    assert sftp.owner == "recon-finance" and set(sftp.tags) == {"recon", "config", "orders"}
    assert sftp.default_args["on_failure_callback"].email_to == ("ops@example.test",)
    assert sftp.default_args["on_failure_callback"].timezone == "Europe/London"
    assert sftp.params["business_date"] is None
    assert "orders_sftp.yaml" in sftp.doc_md and "/out/orders_{date:%Y%m%d}.csv" in sftp.doc_md

    assert isinstance(mongo.get_task("extract_left"), FileToStagingOperator)
    assert mongo.get_task("extract_left").s3_conn_id == "recon_s3"
    extract = mongo.get_task("extract_right")
    assert isinstance(extract, MongoAggregateToStagingOperator)
    assert (extract.database, extract.collection) == ("shop", "orders")
    load = mongo.get_task("load_mongo")
    assert isinstance(load, MongoResultsOperator) and load.database == "recon"
    assert sorted(mongo.get_task("send_summary").upstream_task_ids) == [
        "load_mongo",
        "load_postgres",
        "plan",
        "publish",
    ]
    assert "locally" in mongo.doc_md  # reports without S3


def test_no_config_folder_means_no_dags_and_no_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, airflow_db: None
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("RECON_CONFIG_DIR", str(tmp_path / "nowhere"))
    dags = tmp_path / "dags"
    dags.mkdir()
    for name in (GENERATOR, CHECK):
        shutil.copy(REPO_ROOT / "dags" / name, dags / name)
    bag = DagBag(dag_folder=str(dags))
    assert (bag.dags, bag.import_errors) == ({}, {})
