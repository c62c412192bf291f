"""pytest plugin: SFTP, S3, SMTP and Slack servers on loopback, one of each per session/worker.

``sftp``/``s3``/``smtp``/``slack`` start a server the first time a test asks and stop it at the
end of the session. ``*_clean`` empty it before the test that asks. ``net_connections`` points
the ``AIRFLOW_CONN_*`` variables of all four at the running servers for one test.
"""

from __future__ import annotations

import pytest

from embedded.base import connection_env
from embedded.fixture_start import clean_fixture, connections_set, server_fixture
from embedded.processor_api import ProcessorApi
from embedded.s3 import EmbeddedS3
from embedded.sftp import EmbeddedSftp
from embedded.slack import EmbeddedSlackWebhook
from embedded.smtp import EmbeddedSmtp

sftp = server_fixture(EmbeddedSftp, "An SFTP server whose host key the connections carry.")
s3 = server_fixture(
    EmbeddedS3, "An S3 server (moto, or RECON_TEST_S3_ENDPOINT) with its default bucket."
)
smtp = server_fixture(EmbeddedSmtp, "An SMTP server capturing every message.")
slack = server_fixture(EmbeddedSlackWebhook, "A Slack webhook recorder.")
processor_server = server_fixture(
    ProcessorApi, "The local Stripe / PayPal / Square APIs (one server for the session)."
)
sftp_clean = clean_fixture("sftp", "The SFTP server with an empty root.")
s3_clean = clean_fixture("s3", "The S3 server with only its default bucket, empty.")
smtp_clean = clean_fixture("smtp", "The SMTP server with no message captured.")
slack_clean = clean_fixture("slack", "The Slack recorder with no request, answering 200.")


@pytest.fixture
def net_connections(
    monkeypatch: pytest.MonkeyPatch,
    sftp: EmbeddedSftp,
    s3: EmbeddedS3,
    smtp: EmbeddedSmtp,
    slack: EmbeddedSlackWebhook,
) -> dict[str, str]:
    """Set ``AIRFLOW_CONN_*`` for every network service; returns the variables it set."""
    return connections_set(monkeypatch, connection_env(sftp, s3, smtp, slack))


@pytest.fixture
def processor_api(processor_server: ProcessorApi, monkeypatch: pytest.MonkeyPatch) -> ProcessorApi:
    """The processor APIs with no records, faults or requests; ``AIRFLOW_CONN_RECON_*`` set."""
    processor_server.reset()
    connections_set(monkeypatch, connection_env(processor_server))
    return processor_server
