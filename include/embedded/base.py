"""What every embedded service shares: free ports, readiness waits, connection env vars."""

from __future__ import annotations

import atexit
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol, Self

LOOPBACK = "127.0.0.1"


class ServiceError(RuntimeError):
    """A local server did not start, or stopped: the message says which and why.

    The first line (``summary``) names the service, the path or address, the cause and the fix;
    any further lines are detail (a server's log tail) for whoever digs deeper.
    """

    @property
    def summary(self) -> str:
        return str(self).strip().splitlines()[0] if str(self).strip() else type(self).__name__


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, *, host: str = LOOPBACK, timeout: float = 30.0, what: str = ""
) -> None:
    """Return once ``host:port`` accepts TCP connections; ServiceError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise ServiceError(f"{what or 'server'} did not listen on {host}:{port} within {timeout:.0f} s")


def serve_in_thread(server: ThreadingHTTPServer, name: str) -> threading.Thread:
    """Serve ``server`` from a daemon thread (the local HTTP stand-ins: Slack, processor APIs)."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
    )
    thread.start()
    return thread


def stop_serving(server: ThreadingHTTPServer, thread: threading.Thread) -> None:
    """Stop what ``serve_in_thread`` started and release its port."""
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise ServiceError(f"{what} not ready within {timeout:.0f} s")


@dataclass(frozen=True)
class AirflowConnection:
    """An Airflow connection as the ``AIRFLOW_CONN_<ID>`` JSON form takes it."""

    conn_id: str
    conn_type: str
    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = None
    schema: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def env_name(self) -> str:
        return f"AIRFLOW_CONN_{self.conn_id.upper()}"

    def env_value(self) -> str:
        body: dict[str, Any] = {
            "conn_type": self.conn_type,
            **{
                k: v
                for k, v in (
                    ("host", self.host),
                    ("port", self.port),
                    ("login", self.login),
                    ("password", self.password),
                    ("schema", self.schema),
                )
                if v is not None
            },
        }
        if self.extra:
            body["extra"] = dict(self.extra)
        return json.dumps(body)


class Managed:
    """``with Server() as s:`` starts on enter and stops on exit, for every embedded server."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ExternalOrEmbedded(Managed):
    """A server started here, or an external one when an env var names its URL.

    ``start()`` runs ``_start_external(url)`` or ``_start_embedded()``, then ``_ready()``; a
    failure anywhere stops what was started. Subclasses set ``external_url`` and ``_running``
    in ``__init__`` and clear ``_running`` in ``stop()``.
    """

    external_url: str | None = None
    _running: bool = False

    @property
    def is_external(self) -> bool:
        return self.external_url is not None

    def start(self) -> Self:
        if self._running:
            return self
        atexit.register(self.stop)
        try:
            if self.external_url is not None:
                self._start_external(self.external_url)
            else:
                self._start_embedded()
            self._ready()
        except BaseException:
            self.stop()
            raise
        self._running = True
        return self

    def _start_external(self, url: str) -> None:
        raise NotImplementedError

    def _start_embedded(self) -> None:
        raise NotImplementedError

    def _ready(self) -> None:
        """Wait until the server answers (nothing to wait for by default)."""


class ThreadedHttpService(Managed):
    """A local HTTP server answering from a daemon thread on a free loopback port.

    A subclass builds its server in ``_make_server()`` (``api_server(self, ...)`` for one that
    hands every request to ``self._serve(handler)``); ``start()``/``stop()`` are shared, and
    ``base_url`` says where it answers.
    """

    thread_name = "recon-embedded-http"
    port = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def _make_server(self) -> ThreadingHTTPServer:
        raise NotImplementedError

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = self._make_server()
        self._server, self.port = server, int(server.server_address[1])
        self._thread = serve_in_thread(server, self.thread_name)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            stop_serving(self._server, self._thread)
        self._server = self._thread = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise ServiceError(f"{type(self).__name__} is not started")
        return f"http://{LOOPBACK}:{self.port}"


class _Serving(Protocol):
    def _serve(self, handler: BaseHTTPRequestHandler) -> None: ...


def api_server(api: _Serving, methods: Sequence[str] = ("GET",)) -> ThreadingHTTPServer:
    """A keep-alive HTTP/1.1 server that hands each request (of ``methods``) to ``api``."""

    def serve(handler: BaseHTTPRequestHandler) -> None:
        api._serve(handler)

    def log_message(handler: BaseHTTPRequestHandler, format: str, *args: Any) -> None:
        return  # the tests read what the server recorded, not its access log

    handler = type(
        "_Handler",
        (BaseHTTPRequestHandler,),
        {
            "protocol_version": "HTTP/1.1",  # keep-alive, as the real APIs: paging reuses it
            # headers and body go in two sends: with Nagle's algorithm the body would wait
            # for the client's delayed ACK (~40 ms a page on loopback)
            "disable_nagle_algorithm": True,
            "log_message": log_message,
            **{f"do_{method}": serve for method in methods},
        },
    )
    server = ThreadingHTTPServer((LOOPBACK, 0), handler)
    server.daemon_threads = True
    return server


class Service(Protocol):
    """A running server: its Airflow connections, and how to stop it."""

    def connections(self) -> list[AirflowConnection]: ...

    def stop(self) -> None: ...


def connection_env(*services: Service) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` variables for every connection of the given services."""
    return {c.env_name(): c.env_value() for s in services for c in s.connections()}


def external(variable: str) -> str | None:
    """The URL of an external server to use instead of starting one, if the env var is set."""
    value = os.environ.get(variable, "").strip()
    return value or None
