"""Fixtures shared across test folders."""

from __future__ import annotations

import os
import tempfile

import pytest

from recon.samples import SamplePair, generate_payments_pair


@pytest.fixture(scope="session")
def payments_pair(tmp_path_factory: pytest.TempPathFactory) -> SamplePair:
    """A small generated processor/ledger pair with its spec and truth (read-only: share it)."""
    return generate_payments_pair(tmp_path_factory.mktemp("payments"), rows=400, seed=3)


# Airflow reads its home at import: point it at a throwaway folder before any test imports it,
# so tests never touch ~/airflow and start from a clean configuration.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="recon-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

# session fixtures that start real servers (see include/embedded)
pytest_plugins = ["embedded.fixtures_db", "embedded.fixtures_net"]
