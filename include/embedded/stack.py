"""Every embedded server at once, for ``make demo`` and ``make airflow`` (tests use fixtures).

``with LocalStack() as stack: os.environ.update(stack.env())`` starts Postgres, MongoDB, SFTP,
S3, SMTP, the Slack recorder and the processor APIs on free loopback ports and gives the ``AIRFLOW_CONN_*``
variables that wire Airflow to them; leaving the block stops them all (in reverse order).
"""

from __future__ import annotations

import contextlib
from typing import Self

from embedded.base import Managed, connection_env
from embedded.mongo import EmbeddedMongo
from embedded.postgres import EmbeddedPostgres
from embedded.processor_api import ProcessorApi
from embedded.s3 import EmbeddedS3
from embedded.sftp import EmbeddedSftp
from embedded.slack import EmbeddedSlackWebhook
from embedded.smtp import EmbeddedSmtp

Server = (
    EmbeddedPostgres
    | EmbeddedMongo
    | EmbeddedSftp
    | EmbeddedS3
    | EmbeddedSmtp
    | EmbeddedSlackWebhook
    | ProcessorApi
)


class LocalStack(Managed):
    """The seven servers the recon pipelines talk to, started together."""

    def __init__(self) -> None:
        self.postgres = EmbeddedPostgres()
        self.mongo = EmbeddedMongo()
        self.sftp = EmbeddedSftp()
        self.s3 = EmbeddedS3()
        self.smtp = EmbeddedSmtp()
        self.slack = EmbeddedSlackWebhook()
        self.processors = ProcessorApi()
        self._stack = contextlib.ExitStack()

    def start(self) -> Self:
        with contextlib.ExitStack() as starting:
            for server in self.servers():
                starting.enter_context(server)
            self._stack = starting.pop_all()  # keep them running past this block
        return self

    def stop(self) -> None:
        self._stack.close()

    def servers(self) -> tuple[Server, ...]:
        return (
            self.postgres,
            self.mongo,
            self.sftp,
            self.s3,
            self.smtp,
            self.slack,
            self.processors,
        )

    def env(self) -> dict[str, str]:
        """``AIRFLOW_CONN_*`` for every server."""
        return connection_env(*self.servers())
