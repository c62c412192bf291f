"""Fixtures shared across test folders."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from embedded.airflow_settings import airflow_settings
from worlds.pairs import SamplePair, generate_payments_pair


@pytest.fixture(scope="session")
def payments_pair(tmp_path_factory: pytest.TempPathFactory) -> SamplePair:
    """A small generated processor/ledger pair with its spec and truth (read-only: share it)."""
    return generate_payments_pair(tmp_path_factory.mktemp("payments"), rows=400, seed=3)


# Airflow reads its settings at import: point AIRFLOW_HOME at a throwaway folder before any test
# imports it (always: the session resets the metadata DB, which must never be a real one), with
# the same dags/plugins folders and settings the demo and `make airflow` use.
# RECON_TEST_AIRFLOW_DB_URL: a scratch Postgres database for the metadata instead of SQLite.
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="recon-airflow-home-"))
atexit.register(shutil.rmtree, AIRFLOW_HOME, ignore_errors=True)  # one per session, not a heap
os.environ.update(
    airflow_settings(
        AIRFLOW_HOME,
        db_url=os.environ.get("RECON_TEST_AIRFLOW_DB_URL", "").strip() or None,
    )
)

# session fixtures that start real servers (see include/embedded)
pytest_plugins = [
    "embedded.fixtures_db",
    "embedded.fixtures_net",
    "embedded.fixtures_airflow",
]
