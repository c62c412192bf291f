"""What a processor's routes see of the server: one request in, one response out, and the
server's records and credentials (``Api``), so that the routes never import the server."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import unquote


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]  # in order, repeated keys kept (Stripe's created[gte] style)
    headers: Mapping[str, str]
    body: bytes
    path_params: Mapping[str, str] = field(default_factory=dict)  # ``{name}`` parts of a route

    def param(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return default


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # JSON-able
    headers: Mapping[str, str] = field(default_factory=dict)


def send_json(handler: BaseHTTPRequestHandler, response: Response) -> None:
    """Write ``response`` to the client: its status, JSON body (a str is sent as it is) and
    headers, with the length so the connection stays open for the next page."""
    body = response.body
    payload = (body if isinstance(body, str) else json.dumps(body)).encode()
    handler.send_response(response.status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    for name, value in response.headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(payload)


class Api(Protocol):
    """The server as its routes use it (``embedded.processor_api.ProcessorApi``)."""

    records: dict[str, list[dict[str, Any]]]
    secrets: dict[str, dict[str, str]]

    @property
    def url(self) -> str: ...


Handler = Callable[[Api, Request], Response]


def match_route(
    routes: Mapping[tuple[str, str], Handler], method: str, path: str
) -> tuple[Handler, dict[str, str]] | None:
    """The handler of ``(method, path)`` and the path's ``{name}`` parts, None if no route fits.

    Routes match exactly first; a route with ``{name}`` segments (Square's
    ``/v2/payouts/{payout_id}/payout-entries``) matches one non-empty segment per name.
    """
    exact = routes.get((method, path))
    if exact is not None:
        return exact, {}
    segments = path.split("/")
    for (route_method, template), handler in routes.items():
        if route_method != method or "{" not in template:
            continue
        parts = template.split("/")
        if len(parts) != len(segments):
            continue
        params: dict[str, str] = {}
        for part, segment in zip(parts, segments, strict=True):
            if part.startswith("{") and part.endswith("}"):
                if not segment:
                    break
                params[part[1:-1]] = unquote(segment)
            elif part != segment:
                break
        else:
            return handler, params
    return None
