"""pytest fixtures for the database servers: one Postgres and one MongoDB per session.

Registered by ``tests/conftest.py``. Servers start lazily, on the first test that asks for
them, and stop at the end of the session (under pytest-xdist: one pair per worker).

- ``postgres`` / ``mongo``: the running services (session scope).
- ``pg_clean`` / ``mongo_clean``: the same services, emptied before the test.
- ``db_connections``: ``AIRFLOW_CONN_RECON_POSTGRES`` and ``AIRFLOW_CONN_RECON_MONGO`` set for the
  test (so hooks read them from the environment, no metadata DB).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from embedded.base import connection_env
from embedded.fixture_start import started
from embedded.mongo import EmbeddedMongo
from embedded.postgres import EmbeddedPostgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[EmbeddedPostgres]:
    """A Postgres with database ``recon`` (or a fresh database on ``RECON_TEST_POSTGRES_URL``)."""
    with started(EmbeddedPostgres()) as server:
        yield server


@pytest.fixture(scope="session")
def mongo() -> Iterator[EmbeddedMongo]:
    """A MongoDB-wire server (or a fresh database on ``RECON_TEST_MONGO_URL``)."""
    with started(EmbeddedMongo()) as server:
        yield server


@pytest.fixture
def pg_clean(postgres: EmbeddedPostgres) -> EmbeddedPostgres:
    """The session Postgres with every user schema dropped and an empty ``public``."""
    postgres.reset()
    return postgres


@pytest.fixture
def mongo_clean(mongo: EmbeddedMongo) -> EmbeddedMongo:
    """The session MongoDB with every non-system database dropped."""
    mongo.reset()
    return mongo


@pytest.fixture
def db_connections(
    postgres: EmbeddedPostgres, mongo: EmbeddedMongo, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Set (for this test) and return the ``AIRFLOW_CONN_*`` variables of both servers."""
    env = connection_env(postgres, mongo)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
