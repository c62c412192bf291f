"""Start an embedded server for a pytest fixture; a server that cannot start fails in one line.

Every test that needs the server then errors with the ``ServiceError``'s summary (which service,
where, why, and the fix) instead of a traceback through subprocess; the detail (a server's log
tail) goes to the captured stderr of the setup.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import pytest

from embedded.base import Managed, ServiceError

ServerT = TypeVar("ServerT", bound=Managed)


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
