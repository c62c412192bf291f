"""A Slack incoming-webhook stand-in on loopback: records every POST, answers ``ok``.

The ``slackwebhook`` connection's password is the full webhook URL (the provider uses a
password containing ``://`` as the whole URL), so the real Slack client code talks to it.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from embedded.base import (
    LOOPBACK,
    AirflowConnection,
    ServiceError,
    ThreadedHttpService,
)

WEBHOOK_PATH = "/services/T000/B000/XXXX"


@dataclass(frozen=True)
class RecordedRequest:
    """One POST as the recorder saw it."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        """The message's ``text`` field ('' when the body has none)."""
        payload = self.json
        return str(payload.get("text", "")) if isinstance(payload, dict) else ""


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((LOOPBACK, 0), _Handler)
        self.requests: list[RecordedRequest] = []
        self.changed = threading.Condition()
        self.status = 200


class _Handler(BaseHTTPRequestHandler):
    server: _Recorder

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        recorded = RecordedRequest(self.path, dict(self.headers.items()), body)
        server = self.server
        with server.changed:
            server.requests.append(recorded)
            server.changed.notify_all()
            status = server.status
        # Slack answers 200 with the text "ok"; errors come as a status and a short reason
        answer = b"ok" if status == 200 else b"internal_error"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the recorder keeps requests; stderr lines would only clutter test output


class EmbeddedSlackWebhook(ThreadedHttpService):
    """An HTTP recorder on a free loopback port standing in for Slack's incoming webhook."""

    thread_name = "recon-embedded-slack"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}{WEBHOOK_PATH}"

    def _make_server(self) -> ThreadingHTTPServer:
        return _Recorder()

    def connections(self) -> list[AirflowConnection]:
        """``recon_slack``: the password is the whole webhook URL."""
        return [AirflowConnection("recon_slack", "slackwebhook", password=self.url)]

    def _running(self) -> _Recorder:
        if not isinstance(self._server, _Recorder):
            raise ServiceError("the Slack webhook recorder is not started")
        return self._server

    def answer_with(self, status: int) -> None:
        """Answer later POSTs with ``status`` (500 for fault tests; 200 is Slack's ``ok``)."""
        server = self._running()
        with server.changed:
            server.status = status

    def requests(self) -> list[RecordedRequest]:
        server = self._running()
        with server.changed:
            return list(server.requests)

    def reset(self) -> None:
        """Forget recorded requests and answer ``ok`` again."""
        server = self._running()
        with server.changed:
            server.requests.clear()
            server.status = 200

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[RecordedRequest]:
        """Return the requests once at least ``count`` arrived; ServiceError after ``timeout``."""
        server = self._running()
        deadline = time.monotonic() + timeout
        with server.changed:
            while len(server.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ServiceError(
                        f"Slack recorder received {len(server.requests)} of {count} "
                        f"requests within {timeout:.0f} s"
                    )
                server.changed.wait(left)
            return list(server.requests)
