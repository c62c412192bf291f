"""An SFTP server on loopback (asyncssh in a thread) with a host key the client verifies.

Password login (user ``recon``, random password) and public-key login (a generated client key
written to a file) are accepted; everything else is refused. Files live under a temporary
folder that the SFTP session sees as ``/``.

Set ``RECON_TEST_SFTP_URL`` (``sftp://user:pass@host:port/root``) and
``RECON_TEST_SFTP_HOST_KEY`` (``ssh-ed25519 AAAA...``) to use an external server instead.
"""

from __future__ import annotations

import asyncio
import hmac
import posixpath
import secrets
import shutil
import stat
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncssh

from embedded.base import LOOPBACK, AirflowConnection, Managed, ServiceError, external

URL_VARIABLE = "RECON_TEST_SFTP_URL"
HOST_KEY_VARIABLE = "RECON_TEST_SFTP_HOST_KEY"
USER = "recon"


def public_key_line(key: asyncssh.SSHKey) -> str:
    """``ssh-ed25519 AAAA...`` without a comment: the form the ``host_key`` extra takes."""
    algorithm, data = key.export_public_key("openssh").decode().split()[:2]
    return f"{algorithm} {data}"


class _RootedSftp(asyncssh.SFTPServer):
    """The SFTP subsystem, confined to one folder (asyncssh maps it to ``/``)."""

    def __init__(self, chan: asyncssh.SSHServerChannel, *, root: Path) -> None:
        super().__init__(chan, chroot=str(root).encode())


class _Gate(asyncssh.SSHServer):
    """One user, one password, one public key; every other attempt is refused."""

    def __init__(self, owner: EmbeddedSftp) -> None:
        self._owner = owner
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._owner._track(conn, open_=True)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._owner._track(self._conn, open_=False)

    def begin_auth(self, username: str) -> bool:
        return True  # authentication is always required

    def password_auth_supported(self) -> bool:
        return True

    def kbdint_auth_supported(self) -> bool:
        return False

    def validate_password(self, username: str, password: str) -> bool:
        return username == self._owner.user and hmac.compare_digest(
            password.encode(), self._owner.password.encode()
        )

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return username == self._owner.user and hmac.compare_digest(
            key.public_data, self._owner.client_public_data
        )


class EmbeddedSftp(Managed):
    """An asyncssh SFTP server on a free loopback port, rooted at a temporary folder."""

    def __init__(self) -> None:
        self.user = USER
        self.password = secrets.token_urlsafe(16)
        self.host = LOOPBACK
        self.port = 0
        self.remote_root = "/"
        self.host_key_line = ""
        self.client_public_data = b""
        self._workdir: Path | None = None
        self._root: Path | None = None
        self._key_file: Path | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._conns: set[asyncssh.SSHServerConnection] = set()
        self._external = external(URL_VARIABLE)

    # lifecycle -----------------------------------------------------------------------------

    def start(self) -> EmbeddedSftp:
        if self._external:
            self._use_external(self._external)
            return self
        if self._thread is not None:
            return self
        self._workdir = Path(tempfile.mkdtemp(prefix="recon-sftp-"))
        self._root = self._workdir / "root"
        self._root.mkdir()
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.host_key_line = public_key_line(host_key)
        self.client_public_data = client_key.public_data
        self._key_file = self._workdir / "client_ed25519"
        client_key.write_private_key(str(self._key_file), format_name="openssh")
        self._key_file.chmod(stat.S_IRUSR | stat.S_IWUSR)

        started = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._acceptor = loop.run_until_complete(self._listen(host_key))
                self.port = self._acceptor.get_port()
            except BaseException as exc:  # handed to the starting thread, which raises it
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="recon-embedded-sftp", daemon=True)
        self._thread.start()
        if not started.wait(30):
            raise ServiceError("SFTP server did not start within 30 s")
        if failure:
            self._thread.join()
            loop.close()
            self._thread = None
            raise ServiceError(f"SFTP server did not start: {failure[0]!r}") from failure[0]
        return self

    async def _listen(self, host_key: asyncssh.SSHKey) -> asyncssh.SSHAcceptor:
        root = self._root
        assert root is not None
        return await asyncssh.listen(
            LOOPBACK,
            0,
            server_factory=lambda: _Gate(self),
            server_host_keys=[host_key],
            sftp_factory=lambda chan: _RootedSftp(chan, root=root),
            allow_scp=False,
        )

    def _track(self, conn: asyncssh.SSHServerConnection, *, open_: bool) -> None:
        if open_:
            self._conns.add(conn)
        else:
            self._conns.discard(conn)

    async def _shutdown(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
        for conn in list(self._conns):
            conn.close()
            await conn.wait_closed()
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
        self._loop = self._thread = self._acceptor = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = self._root = self._key_file = None

    # connections ---------------------------------------------------------------------------

    @property
    def key_file(self) -> Path:
        if self._key_file is None:
            raise ServiceError("the SFTP client key exists only for the embedded server")
        return self._key_file

    def connections(self) -> list[AirflowConnection]:
        """``recon_sftp`` (password) and, for the embedded server, ``recon_sftp_key`` (key file)."""
        # look_for_keys off: only the credential the connection names is offered
        extra: dict[str, Any] = {"host_key": self.host_key_line, "look_for_keys": "false"}
        conns = [
            AirflowConnection(
                "recon_sftp",
                "sftp",
                host=self.host,
                port=self.port,
                login=self.user,
                password=self.password,
                extra=extra,
            )
        ]
        if self._key_file is not None:
            conns.append(
                AirflowConnection(
                    "recon_sftp_key",
                    "sftp",
                    host=self.host,
                    port=self.port,
                    login=self.user,
                    extra={**extra, "key_file": str(self._key_file)},
                )
            )
        return conns

    # files ---------------------------------------------------------------------------------

    def remote(self, relpath: str) -> str:
        """The path a client uses on the server for ``relpath`` (under the served root)."""
        return posixpath.join(self.remote_root, relpath.lstrip("/"))

    def path(self, relpath: str) -> Path:
        """The local file behind ``relpath`` (embedded server only)."""
        if self._root is None:
            raise ServiceError("local paths exist only for a started embedded SFTP server")
        target = (self._root / relpath.lstrip("/")).resolve()
        if not target.is_relative_to(self._root.resolve()):
            raise ServiceError(f"{relpath!r} points outside the SFTP root")
        return target

    def put(self, relpath: str, data: bytes) -> str:
        """Write ``data`` at ``relpath`` (parents created); return the client-side path."""
        if self._external:
            self._external_put(relpath, data)
        else:
            target = self.path(relpath)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return self.remote(relpath)

    def reset(self) -> None:
        """Empty the served root."""
        if self._external:
            self._external_reset()
            return
        if self._root is None:
            raise ServiceError("the SFTP server is not started")
        for child in self._root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()

    # external server -----------------------------------------------------------------------

    def _use_external(self, url: str) -> None:
        parts = urlsplit(url)
        host_key = external(HOST_KEY_VARIABLE)
        if parts.scheme != "sftp" or not parts.hostname or not parts.username:
            raise ServiceError(f"{URL_VARIABLE} must look like sftp://user:pass@host:port/root")
        if not host_key:
            raise ServiceError(f"{URL_VARIABLE} needs the server's host key in {HOST_KEY_VARIABLE}")
        self.host = parts.hostname
        self.port = parts.port or 22
        self.user = unquote(parts.username)
        self.password = unquote(parts.password or "")
        self.remote_root = parts.path or "/"
        self.host_key_line = host_key

    def _external_client(self) -> Any:
        import base64

        import paramiko

        key_type, data = self.host_key_line.split()[:2]
        client = paramiko.SSHClient()
        client.get_host_keys().add(
            f"[{self.host}]:{self.port}",
            key_type,
            paramiko.PKey.from_type_string(key_type, base64.b64decode(data)),
        )
        client.connect(
            self.host,
            self.port,
            username=self.user,
            password=self.password,
            look_for_keys=False,
            allow_agent=False,
        )
        return client

    def _external_put(self, relpath: str, data: bytes) -> None:
        with self._external_client() as client, client.open_sftp() as sftp:
            target = self.remote(relpath)
            folder = ""
            for part in posixpath.dirname(target).split("/"):
                folder = posixpath.join(folder, part) if folder else part or "/"
                try:
                    sftp.stat(folder)
                except FileNotFoundError:
                    sftp.mkdir(folder)
            with sftp.open(target, "wb") as fh:
                fh.write(data)

    def _external_reset(self) -> None:
        with self._external_client() as client, client.open_sftp() as sftp:

            def remove(folder: str) -> None:
                for entry in sftp.listdir_attr(folder):
                    child = posixpath.join(folder, entry.filename)
                    if stat.S_ISDIR(entry.st_mode or 0):
                        remove(child)
                        sftp.rmdir(child)
                    else:
                        sftp.remove(child)

            remove(self.remote_root)
