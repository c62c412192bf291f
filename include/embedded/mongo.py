"""A throwaway MongoDB-wire server on 127.0.0.1: SecantusDB (``secantusd-py``) on WiredTiger.

``EmbeddedMongo().start()`` runs ``secantusd-py`` on a free port with its storage in a temporary
folder, in its own process group, and waits until a pymongo ``ping`` answers; ``stop()``
terminates it (kills it if it lingers) and deletes the folder. SecantusDB advertises itself as
a single-node replica-set primary, so transactions work as against a production replica set.

With ``RECON_TEST_MONGO_URL`` set (e.g. ``mongodb://127.0.0.1:27017``), no server is started:
the session uses a uniquely named database on that server and drops it at ``stop()``.

SecantusDB does ~4k inserts/s: keep test data at thousands of documents.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pymongo import MongoClient
from pymongo.errors import PyMongoError
from pymongo.uri_parser import parse_uri

from embedded.base import (
    LOOPBACK,
    AirflowConnection,
    ExternalOrEmbedded,
    ServiceError,
    external,
    free_port,
    wait_for_port,
)

URL_VARIABLE = "RECON_TEST_MONGO_URL"
CONN_ID = "recon_mongo"
DATABASE = "recon"
SYSTEM_DATABASES = frozenset({"admin", "local", "config"})

# fail in seconds, not pymongo's default 30 s, when the server is gone
_CLIENT_OPTIONS: dict[str, Any] = {"serverSelectionTimeoutMS": 10_000, "connectTimeoutMS": 5_000}


def secantusd_executable() -> Path:
    """``secantusd-py`` from the running environment (next to the interpreter)."""
    beside = Path(sys.executable).parent / "secantusd-py"
    if beside.exists():
        return beside
    found = shutil.which("secantusd-py")
    if found is None:
        raise ServiceError("secantusd-py not found: install the dev dependencies (secantusdb)")
    return Path(found)


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.strip().splitlines()[-lines:]) or "(empty server log)"


class EmbeddedMongo(ExternalOrEmbedded):
    """A MongoDB-wire server (or a database on an external one) for one test session or demo."""

    def __init__(self, *, start_timeout: float = 30.0) -> None:
        self.start_timeout = start_timeout
        self.host = LOOPBACK
        self.port = 0
        self.login: str | None = None
        self.password: str | None = None
        self.database = DATABASE
        self.options: dict[str, Any] = {}
        self.external_url = external(URL_VARIABLE)
        self._srv = False
        self._tls = False
        self._root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._client: MongoClient[dict[str, Any]] | None = None
        self._running = False

    # lifecycle -------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the server (or drop the session database); safe to call twice."""
        atexit.unregister(self.stop)
        running, self._running = self._running, False
        if self.is_external and running:
            self.client().drop_database(self.database)
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._process is not None:
            self._terminate(self._process)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def pids(self) -> list[int]:
        """The server process and any it started (none for an external server)."""
        from embedded.freeze import process_tree

        if self._process is None or self._process.poll() is not None:
            return []
        return process_tree(self._process.pid)

    # connection details ----------------------------------------------------------------

    def connections(self) -> list[AirflowConnection]:
        """The ``recon_mongo`` connection as MongoHook reads it: extras are client options."""
        extra: dict[str, Any] = {"srv": self._srv, "ssl": self._tls, **_CLIENT_OPTIONS}
        extra.update(self.options)
        return [
            AirflowConnection(
                CONN_ID,
                "mongo",
                host=self.host,
                port=None if self._srv else self.port,
                login=self.login,
                password=self.password,
                schema=self.database,
                extra=extra,
            )
        ]

    @property
    def url(self) -> str:
        if self.external_url is not None:
            return self.external_url
        return f"mongodb://{self.host}:{self.port}/"

    def client(self) -> MongoClient[dict[str, Any]]:
        """A cached pymongo client for the server (closed by ``stop()``)."""
        if self._client is None:
            self._client = MongoClient(self.url, **_CLIENT_OPTIONS)
        return self._client

    # cleaning --------------------------------------------------------------------------

    def reset(self) -> None:
        """Drop every database the tests may have written.

        Embedded: every database but admin/local/config. External: only the session database,
        never someone else's.
        """
        client = self.client()
        if self.is_external:
            client.drop_database(self.database)
            return
        for name in client.list_database_names():
            if name not in SYSTEM_DATABASES:
                client.drop_database(name)

    # embedded server -------------------------------------------------------------------

    def _start_embedded(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="recon-mongo-"))
        log_path = self._root / "server.log"
        self._log = log_path.open("ab")
        # another process may take the free port between our probe and the server's bind
        for attempt in range(3):
            self.port = free_port()
            self._process = subprocess.Popen(
                [
                    str(secantusd_executable()),
                    "--host",
                    LOOPBACK,
                    "--port",
                    str(self.port),
                    "--storage-path",
                    str(self._root / "data"),
                    "--log-level",
                    "WARNING",
                ],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=self._root,
                start_new_session=True,  # its own process group: stop() signals all of it
            )
            try:
                self._wait_for_listen(log_path)
                return
            except ServiceError:
                exited = self._process.poll() is not None
                self._terminate(self._process)
                self._process = None
                log = _log_tail(log_path)
                if not (exited and "in use" in log) or attempt == 2:
                    raise

    def _wait_for_listen(self, log_path: Path) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServiceError(
                    f"SecantusDB exited with code {self._process.returncode} before listening on "
                    f"{LOOPBACK}:{self.port}\nserver log tail:\n{_log_tail(log_path)}"
                )
            try:
                wait_for_port(self.port, timeout=0.2, what="SecantusDB")
                return
            except ServiceError:
                continue
        raise ServiceError(
            f"SecantusDB did not listen on {LOOPBACK}:{self.port} within "
            f"{self.start_timeout:.0f} s\nserver log tail:\n{_log_tail(log_path)}"
        )

    def _ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                self.client().admin.command("ping")
                return
            except PyMongoError as err:
                last = err
                time.sleep(0.05)
        tail = _log_tail(self._root / "server.log") if self._root else ""
        raise ServiceError(f"MongoDB at {self.url} did not answer ping: {last}\n{tail}")

    @staticmethod
    def _terminate(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)

    # external server -------------------------------------------------------------------

    def _start_external(self, url: str) -> None:
        if url.startswith("mongodb+srv://"):
            # parse_uri would resolve the seed list: the connection keeps the SRV name instead
            parts = urlsplit(url)
            self._srv = True
            self.host = parts.hostname or LOOPBACK
            self.login = unquote(parts.username) if parts.username else None
            self.password = unquote(parts.password) if parts.password else None
            options: dict[str, Any] = dict(parse_qsl(parts.query))
        else:
            parsed = parse_uri(url)
            # MongoHook takes one host: the first seed; a replica set finds the others itself
            host, port = parsed["nodelist"][0]
            self.host, self.port = host, int(port)
            self.login = parsed["username"]
            self.password = parsed["password"]
            options = dict(parsed["options"])
        self._tls = str(options.pop("tls", options.pop("ssl", False))).lower() == "true"
        self.options = options
        self.database = f"recon_test_{secrets.token_hex(4)}"


__all__ = ["EmbeddedMongo", "secantusd_executable"]
