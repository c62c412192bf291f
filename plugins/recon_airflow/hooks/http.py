"""JSON over HTTP with the rules, for every API the pipelines read: ``JsonApiHook.get_json``.

One request, retried by these rules:

- 429 waits for ``Retry-After`` (seconds; capped at ``MAX_RETRY_AFTER``) and tries again;
- 5xx, timeouts and dropped connections back off exponentially and try again;
- 401/403 raise the hook's ``auth_error`` at once (retrying cannot fix credentials), any other
  4xx or an answer that is not JSON its ``refused_error`` (bad input, no retry);
- after ``max_attempts`` the last failure is raised as its ``unavailable_error`` (transient:
  the task's own retries apply).

The client is built once per hook (one keep-alive connection pages through a whole answer)
from an ``http`` connection: host = base URL (``https://`` unless the host or ``schema``
says otherwise). With ``connection_credentials`` (the default) the connection authenticates
every request: login and password as Basic auth, a password alone as a Bearer token, string
extras as headers (the http provider's convention), extras ``timeout`` (seconds to wait for an
answer, default 30) and ``connect_timeout`` (seconds to connect, default 10): a timeout is one
failed attempt, and once the attempts are spent, the task's retries apply.
Processor hooks turn that off and authenticate as their API wants. Credentials are never
logged nor put in a message.

Why not the http provider's ``HttpHook`` (6.3.0), though it is installed: run against the
embedded processor API (``embedded.processor_api``), it does not do this job, and making it do
it means overriding four of its defaults, two of them private methods:

- a connection with a login gets session-wide Basic auth, which replaces an explicit
  ``Authorization: Bearer`` header on every request (Stripe's key was sent as Basic: 401);
  PayPal's client id is such a login, and Basic auth is right only for its token request;
- ``check_response`` raises ``AirflowException("429:Too Many Requests")`` for any status >= 400:
  no status attribute, so 401, 429 and 500 are told apart only by parsing that text, the
  API's own error message is dropped (logged at ERROR with the whole body instead) and
  the exception carries no answer, so a tenacity ``wait`` cannot read ``Retry-After``;
- ``run`` builds a new ``requests.Session`` each call (two calls, two sessions), so retries
  and pages open new connections and re-read the connection;
- no timeout unless the connection sets one (``timeout=None``: a hung server hangs the task),
  and every other extra becomes a header (a number there fails with ``InvalidHeader``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import urlsplit

import httpx
from airflow.sdk import BaseHook

from recon_airflow.errors import BadInputError, PipelineError, ServiceUnavailableError
from recon_airflow.timeouts import HTTP_CONNECT_TIMEOUT, HTTP_READ_TIMEOUT

if TYPE_CHECKING:
    from airflow.sdk import Connection

log = logging.getLogger(__name__)

MAX_RETRY_AFTER: Final = 60.0
DEFAULT_TIMEOUT: Final = HTTP_READ_TIMEOUT
Params = Mapping[str, Any] | list[tuple[str, Any]]


class HttpApiError(PipelineError):
    """A request to an API failed; the subclass says whether a retry can help.

    :ivar conn_id: the connection; ``status``: the HTTP status (None: no answer).
    """

    service: ClassVar[str] = "HTTP connection"  # how messages name the connection

    def __init__(self, conn_id: str, status: int | None, message: str) -> None:
        self.conn_id = conn_id
        self.status = status
        where = f"HTTP {status}" if status else "no answer"
        super().__init__(f"{self.service} {conn_id!r}: {where}: {message}")


class HttpRefusedError(HttpApiError, BadInputError):
    """The API refused the request, or answered with something unusable: a retry gets the same."""


class HttpAuthError(HttpRefusedError):
    """401/403: the connection's credentials were refused."""


class HttpUnavailableError(HttpApiError, ServiceUnavailableError):
    """429/5xx/timeouts persisted through every attempt (transient: retry the task later)."""


@dataclass(frozen=True)
class ClientSettings:
    """What an httpx client is built from (``repr`` leaves the credentials out)."""

    base_url: str
    timeout: float  # seconds to wait for an answer (and to send, and for a pooled connection)
    connect_timeout: float = HTTP_CONNECT_TIMEOUT
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    auth: tuple[str, str] | None = field(default=None, repr=False)


def client_settings(
    conn: Connection, *, timeout: float | None = None, credentials: bool = True
) -> ClientSettings:
    """An ``http`` connection as client settings; ValueError says what is missing or wrong.

    :param timeout: seconds; wins over the connection's ``timeout`` extra (and bounds the
        connect timeout too).
    :param credentials: whether the connection's login/password and extras go on every request.
    """
    if not conn.host:
        raise ValueError("the connection has no host (base URL)")
    base = conn.host if "://" in conn.host else f"{conn.schema or 'https'}://{conn.host}"
    if conn.port and "://" not in conn.host:
        base = f"{base}:{conn.port}"
    extras = dict(conn.extra_dejson) if credentials else {}
    given = _seconds(extras.pop("timeout", None), "timeout")
    connect = _seconds(extras.pop("connect_timeout", None), "connect_timeout")
    wrong = sorted(name for name, value in extras.items() if not isinstance(value, str))
    if wrong:
        raise ValueError(f"extras {', '.join(wrong)} are not header values (strings)")
    headers = {str(name): str(value) for name, value in extras.items()}
    auth = None
    if credentials and conn.login:
        auth = (conn.login, conn.password or "")
    elif credentials and conn.password:
        headers["Authorization"] = f"Bearer {conn.password}"
    seconds = float((timeout if timeout is not None else given) or DEFAULT_TIMEOUT)
    connecting = connect if connect is not None else min(HTTP_CONNECT_TIMEOUT, seconds)
    return ClientSettings(base, seconds, float(connecting), headers, auth)


def _seconds(value: Any, name: str) -> float | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValueError(f"the extra `{name}` is {value!r}, not a number of seconds")
    return None if value is None else float(value)


class JsonApiHook(BaseHook):
    """A JSON API through an Airflow ``http`` connection: a cached client and ``get_json``.

    :param max_attempts: tries per request (the rules in the module docstring).
    :param backoff: the first wait after a 5xx or a timeout, doubled each time.
    :param timeout: seconds per request; None: the connection's ``timeout`` extra, else 30.
    """

    conn_name_attr = "conn_id"
    default_conn_name = "http_default"
    conn_type = "http"
    hook_name = "JSON API"
    connection_credentials: ClassVar[bool] = True
    refused_error: ClassVar[type[HttpApiError]] = HttpRefusedError
    auth_error: ClassVar[type[HttpApiError]] = HttpAuthError
    unavailable_error: ClassVar[type[HttpApiError]] = HttpUnavailableError

    def __init__(
        self,
        conn_id: str = default_conn_name,
        *,
        max_attempts: int = 5,
        backoff: float = 1.0,
        timeout: float | None = None,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.timeout = timeout
        self._client: httpx.Client | None = None
        self._settings: ClientSettings | None = None
        self._login = ""
        self._password = ""

    @property
    def label(self) -> str:
        """How log lines name what is asked (the connection id)."""
        return self.conn_id

    def get_conn(self) -> httpx.Client:
        if self._client is None:
            conn = self.get_connection(self.conn_id)
            try:
                settings = client_settings(
                    conn, timeout=self.timeout, credentials=self.connection_credentials
                )
            except ValueError as err:
                raise self.refused_error(self.conn_id, None, str(err)) from None
            self._settings = settings
            self._client = httpx.Client(
                base_url=settings.base_url,
                timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
                headers=settings.headers,
                auth=settings.auth,
            )
            self._login = conn.login or ""
            self._password = conn.password or ""
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def same_origin(self, link: str) -> str:
        """``link`` (a next-page link) if it is a path or a URL on the connection's own base;
        anything else is refused, so the connection's credentials never go to another host."""
        base = self.get_conn().base_url
        parts = urlsplit(link)
        if not parts.scheme and not parts.netloc:
            return link
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc.decode()):
            raise self.refused_error(
                self.conn_id, None, f"the next link {link!r} leaves {base.scheme}://{base.host}"
            )
        return link

    def get_json(
        self,
        path: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        exact: bool = False,
    ) -> Any:
        """One request with the retry rules above; returns the decoded JSON body.

        :param exact: numbers with a fraction or an exponent as exact ``Decimal``s, never
            through float (default: ``float``).
        """
        client = self.get_conn()
        last: HttpApiError | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = client.request(
                    method,
                    path,
                    params=params,
                    headers=headers,
                    data=data,
                    auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TransportError as exc:  # timeouts, refused or dropped connections
                last = self.unavailable_error(self.conn_id, None, self._no_answer(exc))
                wait = self._backoff(attempt)
            else:
                if response.status_code < 400:
                    return self._decoded(response, exact)
                message = error_message(response)
                if response.status_code in (401, 403):
                    raise self.auth_error(self.conn_id, response.status_code, message)
                if response.status_code == 429:
                    last = self.unavailable_error(self.conn_id, 429, message)
                    wait = retry_after(response) or self._backoff(attempt)
                elif response.status_code >= 500:
                    last = self.unavailable_error(self.conn_id, response.status_code, message)
                    wait = self._backoff(attempt)
                else:
                    raise self.refused_error(self.conn_id, response.status_code, message)
            if attempt < self.max_attempts:
                log.warning(
                    "%s: %s; attempt %d of %d, next in %.1f s",
                    self.label,
                    last,
                    attempt,
                    self.max_attempts,
                    wait,
                )
                time.sleep(wait)
        assert last is not None
        raise last

    def _no_answer(self, exc: httpx.TransportError) -> str:
        """What a transport error was, with the timeout that ran out for a timeout."""
        settings = self._settings
        if settings is not None and isinstance(exc, httpx.ConnectTimeout):
            return f"{type(exc).__name__} (connect_timeout {settings.connect_timeout:g} s)"
        if settings is not None and isinstance(exc, httpx.TimeoutException):
            return f"{type(exc).__name__} (timeout {settings.timeout:g} s)"
        return type(exc).__name__

    def _decoded(self, response: httpx.Response, exact: bool) -> Any:
        try:
            return json.loads(response.content, parse_float=Decimal) if exact else response.json()
        except ValueError:
            shown = response.text[:80] or "an empty body"
            raise self.refused_error(
                self.conn_id, response.status_code, f"the answer is not JSON: {shown!r}"
            ) from None

    def _backoff(self, attempt: int) -> float:
        return self.backoff * 2 ** (attempt - 1)


def retry_after(response: httpx.Response) -> float | None:
    """The answer's ``Retry-After`` in seconds (capped), None when absent or a date."""
    value = response.headers.get("Retry-After")
    try:
        return min(float(value), MAX_RETRY_AFTER) if value else None
    except ValueError:
        return None


def error_message(response: httpx.Response) -> str:
    """The API's own error text, whatever its shape, cut short."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error") or body.get("errors") or body
        if isinstance(error, dict):
            return str(error.get("message") or error.get("detail") or error)[:200]
        if isinstance(error, list) and error and isinstance(error[0], dict):
            return str(error[0].get("detail") or error[0].get("message") or error[0])[:200]
        return str(body.get("message") or body.get("error_description") or error)[:200]
    return str(body)[:200]


__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_RETRY_AFTER",
    "ClientSettings",
    "HttpApiError",
    "HttpAuthError",
    "HttpRefusedError",
    "HttpUnavailableError",
    "JsonApiHook",
    "client_settings",
    "error_message",
    "retry_after",
]
