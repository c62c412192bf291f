"""SFTP with bounded waits: ``BoundedSFTPHook``, the SFTP provider's hook with timeouts on.

The provider's hook waits as long as the OS lets a TCP connect take when no ``conn_timeout``
is set, and forever for a frozen server's answer once connected (its SFTP channel has no
timeout). This one, where the connection's extras do not say otherwise:

- ``conn_timeout`` (the TCP connection and the key exchange): ``SFTP_CONN_TIMEOUT``;
- ``banner_timeout`` (the server's first line): the provider's 30 s, from the extra too;
- ``read_timeout`` (each SFTP request, e.g. a read of the file being fetched):
  ``SFTP_READ_TIMEOUT``; a request without an answer in time raises ``TimeoutError``.

Values and reasons: ``recon_airflow.timeouts``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from airflow.providers.sftp.hooks.sftp import SFTPHook

from recon_airflow.timeouts import SFTP_CONN_TIMEOUT, SFTP_READ_TIMEOUT

if TYPE_CHECKING:
    from paramiko import SFTPClient


class BoundedSFTPHook(SFTPHook):
    """``SFTPHook`` whose connect, banner and every SFTP request have a timeout.

    :ivar read_timeout: seconds one SFTP request may wait for its answer.
    """

    hook_name = "SFTP (bounded)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        extras = self.get_connection(self.ssh_conn_id).extra_dejson if self.ssh_conn_id else {}
        if self.conn_timeout is None:
            self.conn_timeout = SFTP_CONN_TIMEOUT
        if "banner_timeout" in extras and "banner_timeout" not in kwargs:
            self.banner_timeout = float(extras["banner_timeout"])
        self.read_timeout = float(extras.get("read_timeout", SFTP_READ_TIMEOUT))

    def get_conn(self) -> SFTPClient:
        return self._bounded(super().get_conn())

    @contextmanager
    def get_managed_conn(self) -> Iterator[SFTPClient]:
        with super().get_managed_conn() as sftp:
            yield self._bounded(sftp)

    def _bounded(self, sftp: SFTPClient) -> SFTPClient:
        channel = sftp.get_channel()
        if channel is not None:
            channel.settimeout(self.read_timeout)
        return sftp


__all__ = ["BoundedSFTPHook"]
