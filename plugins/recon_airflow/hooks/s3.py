"""S3 with bounded waits: ``s3_hook(conn_id)`` and ``s3_unavailable_as_retryable``.

The Amazon provider builds botocore's ``Config`` from the connection's ``config_kwargs``
extra, or takes one given to the hook instead. ``s3_hook`` gives one: recon's defaults
(connect and read timeouts, botocore's retries inside a try: ``recon_airflow.timeouts``)
under whatever ``config_kwargs`` the connection sets, which win. Inside
``s3_unavailable_as_retryable``, an endpoint that does not connect, answer or finish an
answer in time becomes ``S3UnavailableError`` naming the connection, the endpoint and the
timeout: transient, so Airflow retries.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from recon_airflow.errors import ServiceUnavailableError
from recon_airflow.timeouts import S3_CONFIG

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

# the provider and botocore load when a task runs: DAG files import what uses this


class S3UnavailableError(ServiceUnavailableError):
    """An S3 endpoint did not connect or answer in time: transient, so Airflow retries."""


def s3_config(extras: Mapping[str, Any]) -> dict[str, Any]:
    """botocore ``Config`` arguments: recon's defaults, then the extra ``config_kwargs``."""
    import botocore

    given = dict(extras.get("config_kwargs") or {})
    if given.get("signature_version") == "unsigned":  # as the provider reads the extra
        given["signature_version"] = botocore.UNSIGNED
    return {**S3_CONFIG, **given}


def s3_hook(conn_id: str) -> S3Hook:
    """The provider's S3Hook on ``conn_id`` with :func:`s3_config` as its botocore config."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.sdk import BaseHook

    extras = BaseHook.get_connection(conn_id).extra_dejson
    return S3Hook(aws_conn_id=conn_id, config=s3_config(extras))


@contextmanager
def s3_unavailable_as_retryable(hook: S3Hook, what: str) -> Iterator[None]:
    """Inside the block, timeouts and connection failures of ``hook``'s endpoint raise
    ``S3UnavailableError`` (``what``: the operation, e.g. ``fetching s3://b/k``)."""
    from botocore.exceptions import (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )
    from s3transfer.exceptions import RetriesExceededError

    try:
        yield
    except (ConnectTimeoutError, ReadTimeoutError, RetriesExceededError) as exc:
        config = hook.config
        bound = (
            f"connect_timeout {config.connect_timeout:g} s"
            if isinstance(exc, ConnectTimeoutError)
            else f"read_timeout {config.read_timeout:g} s"
        )
        raise S3UnavailableError(
            f"S3 connection `{hook.aws_conn_id}` ({_endpoint(hook)}): {what}: no answer within "
            f"{bound} ({type(exc).__name__}); the task will be retried"
        ) from exc
    except (EndpointConnectionError, ConnectionClosedError) as exc:
        raise S3UnavailableError(
            f"S3 connection `{hook.aws_conn_id}` ({_endpoint(hook)}): {what}: "
            f"{type(exc).__name__}: {exc}; the task will be retried"
        ) from exc


def _endpoint(hook: S3Hook) -> str:
    return str(hook.conn_config.endpoint_url or "AWS")


__all__ = ["S3UnavailableError", "s3_config", "s3_hook", "s3_unavailable_as_retryable"]
