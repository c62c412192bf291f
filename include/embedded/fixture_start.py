"""Start an embedded server for a pytest fixture; a server that cannot start fails in one line.

Every test that needs the server then errors with the ``ServiceError``'s summary (which service,
where, why, and the fix) instead of a traceback through subprocess; the detail (a server's log
tail) goes to the captured stderr of the setup.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import pytest

from embedded.base import Managed, ServiceError

ServerT = TypeVar("ServerT", bound=Managed)


class Resettable(Protocol):
    def reset(self) -> None: ...


@contextmanager
def started(server: ServerT) -> Iterator[ServerT]:
    """``with started(EmbeddedPostgres()) as pg: yield pg`` inside a fixture."""
    try:
        server.start()
    except ServiceError as err:
        print(str(err), file=sys.stderr)
        pytest.fail(err.summary, pytrace=False)
    try:
        yield server
    finally:
        server.stop()


def server_fixture(make: Callable[[], ServerT], doc: str) -> Any:
    """A session fixture that starts ``make()`` on first use and stops it at the end."""

    @pytest.fixture(scope="session")
    def fixture() -> Iterator[ServerT]:
        with started(make()) as server:
            yield server

    fixture.__doc__ = doc
    return fixture


def clean_fixture(server: str, doc: str) -> Any:
    """A fixture giving the session fixture named ``server``, emptied (``reset()``) first."""

    @pytest.fixture
    def fixture(request: pytest.FixtureRequest) -> Any:
        running: Resettable = request.getfixturevalue(server)
        running.reset()
        return running

    fixture.__doc__ = doc
    return fixture


def connections_set(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> dict[str, str]:
    """Set ``AIRFLOW_CONN_*`` variables for one test; returns them."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
