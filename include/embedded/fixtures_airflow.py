"""pytest fixtures for Airflow itself: a migrated metadata DB and every service's connection.

Registered by ``tests/conftest.py``, which also points ``AIRFLOW_HOME`` at a throwaway folder
and ``dags_folder``/``plugins_folder`` at the project's before anything imports Airflow.

- ``airflow_db``: the metadata DB, migrated once per session (SQLite in the temporary
  AIRFLOW_HOME; Postgres when ``RECON_TEST_AIRFLOW_DB_URL`` names one, e.g.
  ``postgresql+psycopg://user:pass@127.0.0.1/airflow_test`` — it is reset, so use a scratch DB).
- ``dagbag``: the project's DAG folder parsed once per session.
- ``airflow_env``: ``AIRFLOW_CONN_*`` for every embedded server, plus staging and report folders
  unique to the test (so runs never see each other's files).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from embedded.airflow_settings import REPO_ROOT
from embedded.base import connection_env

if TYPE_CHECKING:
    from embedded.mongo import EmbeddedMongo
    from embedded.postgres import EmbeddedPostgres
    from embedded.processor_api import ProcessorApi
    from embedded.s3 import EmbeddedS3
    from embedded.sftp import EmbeddedSftp
    from embedded.slack import EmbeddedSlackWebhook
    from embedded.smtp import EmbeddedSmtp


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[None]:
    """A migrated, empty metadata DB for this session (~3 s on SQLite)."""
    from airflow.utils import db

    db.resetdb()
    yield


@pytest.fixture(scope="session")
def dagbag(airflow_db: None) -> Any:
    """The project's DAGs, parsed once (``import_errors`` must stay empty)."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def dag_without_retries(dag_id: str) -> Any:
    """``dags/<dag_id>.py`` parsed on its own, its tasks' retries set to 0: ``dag.test()`` would
    sleep through real retry delays. A copy of its own, so the policy tests (``dagbag``) still
    see the retries the file sets."""
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO_ROOT / "dags" / f"{dag_id}.py")).get_dag(dag_id)
    for task in dag.tasks:
        if hasattr(task, "partial_kwargs"):  # mapped: the retries are in its partial kwargs
            task.partial_kwargs["retries"] = 0
        else:
            task.retries = 0
    return dag


@pytest.fixture
def airflow_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    postgres: EmbeddedPostgres,
    mongo: EmbeddedMongo,
    sftp: EmbeddedSftp,
    s3: EmbeddedS3,
    smtp: EmbeddedSmtp,
    slack: EmbeddedSlackWebhook,
    processor_server: ProcessorApi,
) -> dict[str, str]:
    """Every service's connection, and per-test staging and report folders."""
    env = connection_env(postgres, mongo, sftp, s3, smtp, slack, processor_server)
    env["RECON_STAGING_DIR"] = str(tmp_path / "staging")
    env["RECON_REPORTS_DIR"] = str(tmp_path / "reports")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
