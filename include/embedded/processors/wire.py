"""What a processor's routes see of the server: one request in, one response out, and the
server's records and credentials (``Api``), so that the routes never import the server."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]  # in order, repeated keys kept (Stripe's created[gte] style)
    headers: Mapping[str, str]
    body: bytes

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


class Api(Protocol):
    """The server as its routes use it (``embedded.processor_api.ProcessorApi``)."""

    records: dict[str, list[dict[str, Any]]]
    secrets: dict[str, dict[str, str]]

    @property
    def url(self) -> str: ...


Handler = Callable[[Api, Request], Response]
