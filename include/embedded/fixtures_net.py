"""pytest plugin: SFTP, S3, SMTP and Slack servers on loopback, one of each per session/worker.

``sftp``/``s3``/``smtp``/``slack`` start a server the first time a test asks and stop it at the
end of the session. ``*_clean`` empty it before the test that asks. ``net_connections`` points
the ``AIRFLOW_CONN_*`` variables of all four at the running servers for one test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from embedded.base import connection_env
from embedded.fixture_start import started
from embedded.processor_api import ProcessorApi
from embedded.s3 import EmbeddedS3
from embedded.sftp import EmbeddedSftp
from embedded.slack import EmbeddedSlackWebhook
from embedded.smtp import EmbeddedSmtp


@pytest.fixture(scope="session")
def sftp() -> Iterator[EmbeddedSftp]:
    with started(EmbeddedSftp()) as server:
        yield server


@pytest.fixture(scope="session")
def s3() -> Iterator[EmbeddedS3]:
    with started(EmbeddedS3()) as server:
        yield server


@pytest.fixture(scope="session")
def smtp() -> Iterator[EmbeddedSmtp]:
    with started(EmbeddedSmtp()) as server:
        yield server


@pytest.fixture(scope="session")
def slack() -> Iterator[EmbeddedSlackWebhook]:
    with started(EmbeddedSlackWebhook()) as server:
        yield server


@pytest.fixture
def sftp_clean(sftp: EmbeddedSftp) -> EmbeddedSftp:
    sftp.reset()
    return sftp


@pytest.fixture
def s3_clean(s3: EmbeddedS3) -> EmbeddedS3:
    s3.reset()
    return s3


@pytest.fixture
def smtp_clean(smtp: EmbeddedSmtp) -> EmbeddedSmtp:
    smtp.reset()
    return smtp


@pytest.fixture
def slack_clean(slack: EmbeddedSlackWebhook) -> EmbeddedSlackWebhook:
    slack.reset()
    return slack


@pytest.fixture
def net_connections(
    monkeypatch: pytest.MonkeyPatch,
    sftp: EmbeddedSftp,
    s3: EmbeddedS3,
    smtp: EmbeddedSmtp,
    slack: EmbeddedSlackWebhook,
) -> dict[str, str]:
    """Set ``AIRFLOW_CONN_*`` for every network service; returns the variables it set."""
    env = connection_env(sftp, s3, smtp, slack)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture(scope="session")
def processor_server() -> Iterator[ProcessorApi]:
    """The local Stripe / PayPal / Square APIs (one server for the session)."""
    with started(ProcessorApi()) as server:
        yield server


@pytest.fixture
def processor_api(processor_server: ProcessorApi, monkeypatch: pytest.MonkeyPatch) -> ProcessorApi:
    """The processor APIs with no records, faults or requests; ``AIRFLOW_CONN_RECON_*`` set."""
    processor_server.reset()
    for name, value in connection_env(processor_server).items():
        monkeypatch.setenv(name, value)
    return processor_server
