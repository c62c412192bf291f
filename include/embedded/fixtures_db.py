"""pytest fixtures for the database servers: one Postgres and one MongoDB per session.

Registered by ``tests/conftest.py``. Servers start lazily, on the first test that asks for
them, and stop at the end of the session (under pytest-xdist: one pair per worker).

- ``postgres`` / ``mongo``: the running services (session scope).
- ``pg_clean`` / ``mongo_clean``: the same services, emptied before the test.
- ``db_connections``: ``AIRFLOW_CONN_RECON_POSTGRES`` and ``AIRFLOW_CONN_RECON_MONGO`` set for the
  test (so hooks read them from the environment, no metadata DB).
"""

from __future__ import annotations

import pytest

from embedded.base import connection_env
from embedded.fixture_start import clean_fixture, connections_set, server_fixture
from embedded.mongo import EmbeddedMongo
from embedded.postgres import EmbeddedPostgres

postgres = server_fixture(
    EmbeddedPostgres,
    "A Postgres with database ``recon`` (or a fresh database on ``RECON_TEST_POSTGRES_URL``).",
)
mongo = server_fixture(
    EmbeddedMongo, "A MongoDB-wire server (or a fresh database on ``RECON_TEST_MONGO_URL``)."
)
pg_clean = clean_fixture(
    "postgres", "The session Postgres with every user schema dropped and an empty ``public``."
)
mongo_clean = clean_fixture("mongo", "The session MongoDB with every non-system database dropped.")


@pytest.fixture
def db_connections(
    postgres: EmbeddedPostgres, mongo: EmbeddedMongo, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Set (for this test) and return the ``AIRFLOW_CONN_*`` variables of both servers."""
    return connections_set(monkeypatch, connection_env(postgres, mongo))
