"""What every payment-processor hook shares: one normalised record, and HTTP with the rules.

Each processor's hook (``hooks.stripe``, ``hooks.paypal``, ``hooks.square``) pages through its
list endpoint and maps each record to ``Transaction``: exact decimals in major units, a
normalised status, the creation time in UTC. ``ProcessorHook.get_json`` does the HTTP:

- 429 waits for ``Retry-After`` (seconds; capped) and tries again;
- 5xx, timeouts and dropped connections back off exponentially and try again;
- 401/403 raise ``ProcessorAuthError`` at once (retrying cannot fix credentials);
- after ``max_attempts`` the last error is raised as ``ProcessorUnavailableError`` (transient:
  the task's own retries apply).

Credentials come only from the Airflow connection (host = base URL) and are never logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, Final, TypedDict

import httpx
from airflow.sdk import BaseHook

log = logging.getLogger(__name__)

# Normalised statuses (each hook maps its processor's words onto these).
SUCCEEDED: Final = "succeeded"
PENDING: Final = "pending"
FAILED: Final = "failed"
CANCELED: Final = "canceled"
REFUNDED: Final = "refunded"
STATUSES: Final = (SUCCEEDED, PENDING, FAILED, CANCELED, REFUNDED)
MAX_RETRY_AFTER: Final = 60.0


class Transaction(TypedDict):
    """One processor record, normalised (the extract's Parquet has exactly these columns)."""

    processor: str
    transaction_id: str
    gross: Decimal  # major units, exact
    fee: Decimal
    net: Decimal
    currency: str  # ISO 4217, upper case
    status: str  # one of STATUSES
    created_at: dt.datetime  # UTC
    reference: str | None  # what the ledger books it under (our payment id)


class ProcessorError(Exception):
    """The processor refused the request (not something a retry fixes)."""

    def __init__(self, conn_id: str, status: int | None, message: str) -> None:
        self.conn_id = conn_id
        self.status = status
        where = f"HTTP {status}" if status else "no answer"
        super().__init__(f"processor connection {conn_id!r}: {where}: {message}")


class ProcessorDataError(ValueError):
    """A record the processor sent cannot be normalised: bad data, a retry gets the same.

    Every hook's data error is one of these, so the extract maps them to a failure without
    retry in one place.
    """


class ProcessorAuthError(ProcessorError):
    """401/403: the connection's credentials were refused."""


class ProcessorUnavailableError(ProcessorError):
    """429/5xx/timeouts persisted through every attempt (transient: retry the task later)."""


def minor_to_major(amount: int, currency: str) -> Decimal:
    """Minor units (cents) to an exact major-unit Decimal; zero-decimal currencies kept whole."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    return Decimal(amount).scaleb(-exponent)


# Currencies without minor units (Stripe's list; Square and PayPal agree on these).
ZERO_DECIMAL: Final = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)


class ProcessorHook(BaseHook):
    """Base for the processors' hooks: a cached HTTP client and ``get_json`` with retries."""

    conn_name_attr = "conn_id"
    conn_type = "http"
    processor: str = ""

    def __init__(
        self,
        conn_id: str,
        *,
        max_attempts: int = 5,
        backoff: float = 1.0,
        timeout: float = 30.0,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.timeout = timeout
        self._client: httpx.Client | None = None

    def get_conn(self) -> httpx.Client:
        if self._client is None:
            conn = self.get_connection(self.conn_id)
            if not conn.host:
                raise ProcessorError(self.conn_id, None, "the connection has no host (base URL)")
            base = conn.host if "://" in conn.host else f"https://{conn.host}"
            if conn.port and "://" not in conn.host:
                base = f"{base}:{conn.port}"
            self._client = httpx.Client(base_url=base, timeout=self.timeout)
            self._login = conn.login or ""
            self._password = conn.password or ""
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> Any:
        """One request with the retry rules above; returns the decoded JSON body."""
        client = self.get_conn()
        last: ProcessorError | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = client.request(
                    method, path, params=params, headers=headers, data=data, auth=auth
                )
            except httpx.TransportError as exc:  # timeouts, refused or dropped connections
                last = ProcessorUnavailableError(self.conn_id, None, type(exc).__name__)
                wait = self._backoff(attempt)
            else:
                if response.status_code < 400:
                    return response.json()
                message = _error_message(response)
                if response.status_code in (401, 403):
                    raise ProcessorAuthError(self.conn_id, response.status_code, message)
                if response.status_code == 429:
                    last = ProcessorUnavailableError(self.conn_id, 429, message)
                    wait = _retry_after(response) or self._backoff(attempt)
                elif response.status_code >= 500:
                    last = ProcessorUnavailableError(self.conn_id, response.status_code, message)
                    wait = self._backoff(attempt)
                else:
                    raise ProcessorError(self.conn_id, response.status_code, message)
            if attempt < self.max_attempts:
                log.warning(
                    "%s: %s; attempt %d of %d, next in %.1f s",
                    self.processor or self.conn_id,
                    last,
                    attempt,
                    self.max_attempts,
                    wait,
                )
                time.sleep(wait)
        assert last is not None
        raise last

    def _backoff(self, attempt: int) -> float:
        return self.backoff * 2 ** (attempt - 1)

    def transactions(self, start: dt.datetime, end: dt.datetime) -> Iterator[Transaction]:
        """Every transaction created in ``[start, end)`` (UTC), normalised, page by page."""
        raise NotImplementedError


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return min(float(value), MAX_RETRY_AFTER) if value else None
    except ValueError:
        return None


def _error_message(response: httpx.Response) -> str:
    """The processor's own error text, whatever its shape, cut short."""
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
