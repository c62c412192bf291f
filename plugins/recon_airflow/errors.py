"""The one error tree of the plugin layer, and the one place it meets Airflow's retry semantics.

Every error recon_airflow raises on purpose is a ``PipelineError``, and says by its branch
whether a retry can help:

- ``BadInputError`` (bad data, bad config, a refused request): retrying gets the same answer,
  so it is an ``AirflowFailException``: the task fails for good, without retry;
- ``ServiceUnavailableError`` (a server that does not answer, times out or is overloaded):
  transient, so the task's ``retries`` and backoff apply, then the failure alert.

The core's own errors (``recon.errors.ReconError``: a bad spec, a bad file, a broken row
count) are bad input too; the core never imports Airflow, so :func:`failing_for_good` turns
them into ``BadInputError`` at the task's edge. Anything else (an ``OSError``, a driver's
connection error) propagates as it is and is retried.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airflow.sdk.exceptions import AirflowFailException

from recon.errors import ReconError


class PipelineError(Exception):
    """Base of every error recon_airflow raises on purpose."""


class BadInputError(PipelineError, AirflowFailException, ValueError):
    """Data, configuration or a request that cannot be used as it is: no retry fixes it."""


class ServiceUnavailableError(PipelineError, ConnectionError):
    """A service did not answer in time or refused for now: transient, the task retries."""


def is_retryable(exc: BaseException) -> bool:
    """Whether Airflow's retries may fix ``exc`` (anything not known to be bad input)."""
    return not isinstance(exc, BadInputError | ReconError | AirflowFailException)


@contextmanager
def failing_for_good(prefix: str = "") -> Iterator[None]:
    """Inside the block, bad input (a ``BadInputError``, or the core's ``ReconError``: a bad
    spec, a bad file) fails the task without retry; anything else is left to retries.

    :param prefix: what the message is about (``"CAMS 2026-11-20"``), put before it.
    """
    try:
        yield
    except (BadInputError, ReconError) as exc:
        if isinstance(exc, BadInputError) and not prefix:
            raise
        raise BadInputError(f"{prefix}: {exc}" if prefix else str(exc)) from None


__all__ = [
    "BadInputError",
    "PipelineError",
    "ServiceUnavailableError",
    "failing_for_good",
    "is_retryable",
]
