"""Wait for a file on SFTP, over a connection whose host key is verified.

The provider's ``SFTPSensor`` builds its own hook, so it would poke through a connection that
disables host-key checks, which every download here refuses. ``VerifiedSFTPSensor`` checks the
connection the same way first (``recon_airflow.locations.verified_sftp_hook``): such a
connection fails the task for good, with the fix, before anything is sent. One poke is bounded
(``SENSOR_POKE_TIMEOUT``): the provider's hook it pokes through has no read timeout.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.sftp.sensors.sftp import SFTPSensor
from airflow.sdk import Context

from recon_airflow.timeouts import SENSOR_POKE_TIMEOUT, with_execution_timeout


class VerifiedSFTPSensor(SFTPSensor):
    """``SFTPSensor`` that refuses a connection skipping the host key check."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**with_execution_timeout(kwargs, SENSOR_POKE_TIMEOUT))

    def poke(self, context: Context) -> Any:
        from recon_airflow.locations import verified_sftp_hook

        verified_sftp_hook(self.sftp_conn_id)  # raises BadInputError (no retry) if unchecked
        return super().poke(context)


__all__ = ["VerifiedSFTPSensor"]
