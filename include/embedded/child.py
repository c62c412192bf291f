"""An embedded server that answers from a thread (SFTP, S3, SMTP, a JSON API), in a process of
its own.

In the tests' own process such a server cannot be frozen without freezing the test; in a
child process it can (``embedded.freeze``), as a real server is. ``ChildServer("sftp")`` starts
``python -m embedded.child sftp``, which starts the same server class the fixtures use and
prints one JSON line: its connections and, for SFTP, the folder it serves. Closing the child's
stdin stops the server and the child.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final, Self

from embedded.base import AirflowConnection, Managed, ServiceError
from embedded.freeze import process_tree

KINDS: Final = ("sftp", "s3", "smtp", "json_api")
PING: Final = "/v1/ping"  # what the child's JSON API answers (``{"ok": true}``)
START_TIMEOUT: Final = 60.0


def _server(kind: str) -> Any:
    if kind == "sftp":
        from embedded.sftp import EmbeddedSftp

        return EmbeddedSftp()
    if kind == "s3":
        from embedded.s3 import EmbeddedS3

        return EmbeddedS3()
    if kind == "smtp":
        from embedded.smtp import EmbeddedSmtp

        return EmbeddedSmtp()
    if kind == "json_api":
        from embedded.json_api import JsonApi

        return JsonApi(token="child-token")
    raise ServiceError(f"no embedded server `{kind}` to run in a child process ({KINDS})")


class ChildServer(Managed):
    """One of :data:`KINDS` in a child process: ``connections()``, ``pids()``, ``info``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.info: dict[str, Any] = {}
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        if self._process is not None:
            return self
        include = str(Path(__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (include, os.environ.get("PYTHONPATH", "")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "embedded.child", self.kind],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
            start_new_session=True,  # its own process group: a signal to the test never reaches it
        )
        try:
            self.info = json.loads(self._first_line())
        except BaseException:
            self.stop()
            raise
        return self

    def _first_line(self) -> bytes:
        assert self._process is not None and self._process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._process.stdout], [], [], 0.2)
            if ready:
                line = self._process.stdout.readline()
                if line:
                    return line
            if self._process.poll() is not None:
                break
        raise ServiceError(
            f"embedded {self.kind} server in a child process did not start within "
            f"{START_TIMEOUT:.0f} s (exit code {self._process.poll()})"
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGCONT)  # a frozen child could not stop
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        if process.stdout is not None:
            process.stdout.close()

    def pids(self) -> list[int]:
        if self._process is None or self._process.poll() is not None:
            return []
        return process_tree(self._process.pid)

    def connections(self) -> list[AirflowConnection]:
        found = []
        for conn_id, value in self.info.get("connections", {}).items():
            body = dict(value)
            found.append(AirflowConnection(conn_id, body.pop("conn_type"), **body))
        return found


def main(kind: str) -> None:
    server = _server(kind)
    with server:
        connections = {}
        for conn in server.connections():
            body = json.loads(conn.env_value())
            connections[conn.conn_id] = body
        info: dict[str, Any] = {"connections": connections}
        if kind == "sftp":
            info["root"] = str(server.path(""))
        if kind == "json_api":
            server.answer(PING, {"ok": True})
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # until the parent closes it (or dies)


if __name__ == "__main__":
    main(sys.argv[1])
