"""A JSON HTTP API on loopback, for the ``http`` source of YAML recons and its tests.

Routes answer what a test publishes: a fixed answer (``answer``), or a list of records served
in pages by a page parameter or by a next link (``paged``). An optional Bearer token is
required of every request; faults (429 with ``Retry-After``, 5xx) can be queued for the next
requests; every request is recorded. The ``http`` connection it gives carries the base URL as
host and the token as password (the hook sends a lone password as a Bearer token).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from embedded.base import (
    AirflowConnection,
    ThreadedHttpService,
    api_server,
)
from embedded.processors.wire import Request, Response, send_json

Route = Callable[[Request], Response]


class JsonApi(ThreadedHttpService):
    """The API on a free loopback port.

    :param token: the Bearer token every request must carry (None: no authentication).
    :ivar requests: every request that reached the server, in order.
    """

    def __init__(self, *, token: str | None = None) -> None:
        self.token = token
        self.requests: list[Request] = []
        self._routes: dict[str, Route] = {}
        self._faults: deque[Response] = deque()
        self._lock = threading.Lock()

    thread_name = "recon-embedded-json-api"

    def _make_server(self) -> ThreadingHTTPServer:
        return api_server(self)

    @property
    def url(self) -> str:
        return self.base_url

    def connection(self, conn_id: str = "recon_http") -> AirflowConnection:
        return AirflowConnection(conn_id, "http", host=self.url, password=self.token)

    def connections(self) -> list[AirflowConnection]:
        return [self.connection()]

    # what tests publish ----------------------------------------------------------------------

    def answer(self, path: str, body: Any, *, status: int = 200) -> None:
        """Answer ``GET path`` with ``body`` (JSON; a ``str`` is sent as it is)."""
        self._route(path, lambda _request: Response(status, body))

    def paged(
        self,
        path: str,
        records: Sequence[Any],
        *,
        size: int,
        by: Literal["page", "link"],
        records_key: str = "data",
        link_key: str = "next",
    ) -> None:
        """Serve ``records`` at ``path``, ``size`` a page: ``?page=1, 2, ...`` (an empty page
        after the last), or a ``link_key`` holding the next page's absolute URL (``?cursor=``)
        until the last page, whose link is null."""

        def route(request: Request) -> Response:
            if by == "page":
                start = (int(request.param("page") or 1) - 1) * size
                return Response(200, {records_key: list(records[start : start + size])})
            start = int(request.param("cursor") or 0)
            more = start + size < len(records)
            link = f"{self.url}{path}?cursor={start + size}" if more else None
            return Response(200, {records_key: list(records[start : start + size]), link_key: link})

        self._route(path, route)

    def fail(self, status: int, *, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next ``times`` requests with ``status``."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = {"error": {"message": f"the test server answers {status}"}}
        with self._lock:
            self._faults.extend(Response(status, body, headers) for _ in range(times))

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self._faults.clear()
            self.requests.clear()

    def _route(self, path: str, route: Route) -> None:
        with self._lock:
            self._routes[path] = route

    # serving ---------------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        request = Request("GET", parts.path, parse_qsl(parts.query), headers, b"")
        with self._lock:
            self.requests.append(request)
            fault = self._faults.popleft() if self._faults else None
            route = self._routes.get(parts.path)
        if fault is not None:
            response = fault
        elif self.token and headers.get("authorization") != f"Bearer {self.token}":
            response = Response(401, {"error": {"message": "a valid Bearer token is required"}})
        elif route is None:
            response = Response(404, {"error": {"message": f"no route {parts.path}"}})
        else:
            response = route(request)
        send_json(handler, response)


__all__ = ["JsonApi"]
