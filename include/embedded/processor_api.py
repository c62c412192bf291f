"""Payment processors' list APIs on loopback: Stripe, PayPal and Square, with their rules.

One ``ThreadingHTTPServer`` serves every processor's endpoints (each processor's routes, auth
and paging live in ``embedded.processors.<name>``). Tests and the demo load records in the
processor's own API shape, and can make the next answers fail (429 with Retry-After, 500) or
slow, to exercise the hooks' retry rules against a real HTTP server.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from embedded.base import (
    AirflowConnection,
    ThreadedHttpService,
    api_server,
)
from embedded.processors.wire import Request, Response, match_route, send_json


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    body: Any


class ProcessorApi(ThreadedHttpService):
    """The processors' APIs on a free loopback port.

    :ivar records: processor -> its records in the API's own shape (load with ``load``); a
        processor's other collections live under ``<processor>/<name>`` (``stripe/payouts``,
        ``square/payout_entries``...: each processor module's docstring names its own).
    :ivar secrets: processor -> credential the server accepts (the connections carry them).
    """

    def __init__(self) -> None:
        from embedded.processors import PROCESSORS  # the registry of routes, per processor

        self.processors = PROCESSORS
        self.records: dict[str, list[dict[str, Any]]] = {name: [] for name in PROCESSORS}
        self.secrets: dict[str, dict[str, str]] = {
            name: {"login": f"{name}-client", "password": secrets.token_urlsafe(16)}
            for name in PROCESSORS
        }
        self.requests: list[Request] = []
        self.delay = 0.0
        self._faults: dict[str, deque[_Fault]] = {name: deque() for name in PROCESSORS}
        self._lock = threading.Lock()

    # lifecycle -------------------------------------------------------------------------------

    thread_name = "recon-embedded-processors"

    def _make_server(self) -> ThreadingHTTPServer:
        return api_server(self, ("GET", "POST"))

    @property
    def url(self) -> str:
        return self.base_url

    def connections(self) -> list[AirflowConnection]:
        """``recon_<processor>``: base URL as host, credentials as login/password."""
        return [
            AirflowConnection(
                f"recon_{name}",
                "http",
                host=self.url,
                login=self.secrets[name]["login"],
                password=self.secrets[name]["password"],
            )
            for name in self.processors
        ]

    # test controls ---------------------------------------------------------------------------

    def load(self, processor: str, records: list[dict[str, Any]]) -> None:
        """Serve ``records`` (the API's own shape) for ``processor``, replacing earlier ones.

        :param processor: a processor's name, or ``<processor>/<collection>`` for another of
            its collections (``stripe/payouts``).
        """
        if processor.partition("/")[0] not in self.processors:
            raise KeyError(f"no processor {processor.partition('/')[0]!r}")
        with self._lock:
            self.records[processor] = list(records)

    def fail(
        self, processor: str, status: int, *, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Answer the next ``times`` requests to ``processor`` with ``status``."""
        body = self.processors[processor].error_body(status)
        with self._lock:
            self._faults[processor].extend(_Fault(status, retry_after, body) for _ in range(times))

    def reset(self) -> None:
        with self._lock:
            self.records = {name: [] for name in self.processors}
            for faults in self._faults.values():
                faults.clear()
            self.requests.clear()
            self.delay = 0.0

    def requests_to(self, processor: str) -> list[Request]:
        """The requests that reached one of ``processor``'s routes, in order."""
        routes = self.processors[processor].ROUTES
        return [r for r in self.requests if match_route(routes, r.method, r.path) is not None]

    # serving ---------------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(
            handler.command,
            parts.path,
            parse_qsl(parts.query, keep_blank_values=True),
            {k.lower(): v for k, v in handler.headers.items()},
            handler.rfile.read(length) if length else b"",
        )
        with self._lock:
            self.requests.append(request)
        response = self._answer(request)
        if self.delay:
            time.sleep(self.delay)
        send_json(handler, response)

    def _answer(self, request: Request) -> Response:
        # routes are matched exactly across processors (Stripe and PayPal both live under /v1/)
        for name, module in self.processors.items():
            matched = match_route(module.ROUTES, request.method, request.path)
            if matched is None:
                continue
            route, path_params = matched
            with self._lock:
                fault = self._faults[name].popleft() if self._faults[name] else None
            if fault is not None:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                return Response(fault.status, fault.body, headers)
            return route(self, replace(request, path_params=path_params))
        return Response(404, {"error": {"message": f"no route {request.method} {request.path}"}})
