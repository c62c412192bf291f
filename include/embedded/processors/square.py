"""Square's ListPayments, ListPayouts and ListPayoutEntries on loopback, with Square's rules.

Checked against Square's API reference (ListPayments, ErrorCode, Handling errors):

- ``Authorization: Bearer <access token>``; a missing or wrong token is 401
  ``AUTHENTICATION_ERROR``/``UNAUTHORIZED``. ``Square-Version`` (``YYYY-MM-DD``) is optional and
  echoed in the answer, as Square does; a malformed one is 400 ``INVALID_SQUARE_VERSION_FORMAT``.
- ``begin_time``/``end_time`` are RFC 3339 and select on ``created_at``: begin inclusive, end
  exclusive, in either order (an older general Square page swapped them for DESC; the
  ListPayments reference does not). Defaults: one year ago and now. Bad times are 400
  ``INVALID_TIME``, an end before the begin 400 ``INVALID_TIME_RANGE``.
- ``sort_order`` ``ASC`` or ``DESC`` (default ``DESC``, newest first); anything else is 400
  ``INVALID_SORT_ORDER``.
- ``limit``: default 100, which is also the maximum; a larger value is ignored and the default
  used (Square does not reject it).
- ``cursor``: opaque, continues the original query; one that does not decode, or belongs to
  another query, is 400 ``INVALID_CURSOR``.
- The answer is ``{"payments": [...], "cursor": "..."}``; the last page has no ``cursor`` and an
  empty result is ``{}``. Errors are ``{"errors": [{"category", "code", "detail", "field"?}]}``.

Payouts (``GET /v2/payouts``, ``api.load("square/payouts", [...])``) follow the same rules,
selecting on the payout's ``created_at`` with ``begin_time``/``end_time``, and filter on
``location_id`` and ``status`` (``SENT``, ``FAILED``, ``PAID``); the answer is
``{"payouts": [...], "cursor"?}``. Payout entries (``GET /v2/payouts/{payout_id}/payout-entries``,
``api.load("square/payout_entries", [...])``, each naming its ``payout_id``) take
``sort_order``, ``limit`` and ``cursor`` only, are ordered by ``effective_at``, and answer
``{"payout_entries": [...], "cursor"?}``; an unknown payout is 404 ``NOT_FOUND``.

Records are Square ``Payment`` objects (``api.load("square", [...])``; ``worlds.processor_records.payment``
builds one), ``Payout`` and ``PayoutEntry`` objects (``square_payout``, ``payout_entry``
there).
A sorted index per loaded list keeps a page at O(log n), so a million payments page quickly.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as dt
import hashlib
import json
import re
import secrets
import threading
import weakref
from collections.abc import Callable
from typing import Any, Final

from embedded.processors.wire import Api, Request, Response

PREFIX: Final = "/v2/"
NAME: Final = "square"
MAX_LIMIT: Final = 100  # also the default
DEFAULT_VERSION: Final = "2022-12-14"  # what the answer names when the request sends none
PAYOUTS: Final = f"{NAME}/payouts"
PAYOUT_ENTRIES: Final = f"{NAME}/payout_entries"
PAYOUT_STATUSES: Final = ("SENT", "FAILED", "PAID")

_RFC3339: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z"
)
_VERSION: Final = re.compile(r"\d{4}-\d{2}-\d{2}\Z")

# status -> (category, code, detail) for whole-request errors (fault injection, auth, routing)
_ERRORS: Final[dict[int, tuple[str, str, str]]] = {
    400: ("INVALID_REQUEST_ERROR", "BAD_REQUEST", "A general error occurred with the request."),
    401: ("AUTHENTICATION_ERROR", "UNAUTHORIZED", "This request could not be authorized."),
    403: ("AUTHENTICATION_ERROR", "FORBIDDEN", "A general access error occurred."),
    404: ("INVALID_REQUEST_ERROR", "NOT_FOUND", "Not Found - a general error occurred."),
    429: ("RATE_LIMIT_ERROR", "RATE_LIMITED", "Rate Limited - a general error occurred."),
    500: ("API_ERROR", "INTERNAL_SERVER_ERROR", "A general server error occurred."),
    502: ("API_ERROR", "BAD_GATEWAY", "Bad Gateway - a general error occurred."),
    503: ("API_ERROR", "SERVICE_UNAVAILABLE", "Service Unavailable - a general error occurred."),
    504: ("API_ERROR", "GATEWAY_TIMEOUT", "Gateway Timeout - a general error occurred."),
}


def error_body(status: int) -> dict[str, Any]:
    """Square's error shape for a whole-request failure with HTTP ``status``."""
    category, code, detail = _ERRORS.get(status, _ERRORS[500] if status >= 500 else _ERRORS[400])
    return _errors(category, code, detail)


def _errors(category: str, code: str, detail: str, field: str | None = None) -> dict[str, Any]:
    error = {"category": category, "code": code, "detail": detail}
    if field is not None:
        error["field"] = field
    return {"errors": [error]}


def _invalid(code: str, detail: str, field: str | None = None) -> Response:
    return Response(400, _errors("INVALID_REQUEST_ERROR", code, detail, field))


# records ------------------------------------------------------------------------------------


def _parse_time(value: str) -> dt.datetime | None:
    if not _RFC3339.match(value):
        return None
    try:
        return dt.datetime.fromisoformat(value.upper().replace(" ", "T"))
    except ValueError:
        return None


Key = tuple[dt.datetime, str]  # (created_at, id): the order ListPayments pages in


class _Index:
    """Loaded records (those ``keep`` keeps) sorted by (``field`` time, id), rebuilt when
    ``api.load`` replaces them."""

    def __init__(
        self,
        records: list[dict[str, Any]],
        field: str = "created_at",
        keep: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self.source = records
        self.size = len(records)
        kept = records if keep is None else [r for r in records if keep(r)]
        # loaded records are trusted test data: fromisoformat alone (the regex costs 2x at 1M)
        parse, utc = dt.datetime.fromisoformat, dt.UTC
        keys = [(parse(r[field]).astimezone(utc), r["id"]) for r in kept]
        order = sorted(range(len(kept)), key=keys.__getitem__)
        self.keys: list[Key] = [keys[i] for i in order]
        self.records = [kept[i] for i in order]


_indexes: weakref.WeakKeyDictionary[Api, dict[str, _Index]] = weakref.WeakKeyDictionary()
_index_lock = threading.Lock()


def _index(
    api: Api,
    collection: str = NAME,
    field: str = "created_at",
    keep: Callable[[dict[str, Any]], bool] | None = None,
    key: str = "",
) -> _Index:
    """The index of ``api.records[collection]`` (what ``keep`` keeps, cached under ``key``)."""
    records = api.records.get(collection, [])
    with _index_lock:
        cached = _indexes.setdefault(api, {})
        name = f"{collection}?{key}"
        index = cached.get(name)
        if index is None or index.source is not records or index.size != len(records):
            index = cached[name] = _Index(records, field, keep)
        return index


# cursor -------------------------------------------------------------------------------------


_BOUND: Final = ("begin_time", "end_time", "sort_order", "location_id", "status")


def _fingerprint(request: Request) -> str:
    """What a cursor is bound to: the query's filters and order (``limit`` may change)."""
    parts = [request.param(n) or "" for n in _BOUND]
    parts += [f"{k}={v}" for k, v in sorted(request.path_params.items())]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _encode_cursor(key: Key, fingerprint: str) -> str:
    body = json.dumps({"k": [key[0].isoformat(), key[1]], "q": fingerprint})
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> Key | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body = json.loads(raw)
        when, payment_id = body["k"]
        if body["q"] != fingerprint:
            return None
        moment = dt.datetime.fromisoformat(when)
        return (moment, str(payment_id)) if moment.tzinfo is not None else None
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None


# route --------------------------------------------------------------------------------------


def _authorised(api: Api, request: Request) -> bool:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    expected = api.secrets[NAME]["password"]
    return scheme.lower() == "bearer" and secrets.compare_digest(token.strip(), expected)


def _refused(request: Request, api: Api) -> Response | None:
    """401 without the access token; 400 for a malformed ``Square-Version``."""
    if not _authorised(api, request):
        return Response(401, error_body(401))
    version = request.headers.get("square-version")
    if version is not None and not _VERSION.match(version):
        return _invalid(
            "INVALID_SQUARE_VERSION_FORMAT",
            f"Invalid Square-Version format '{version}': expected YYYY-MM-DD.",
        )
    return None


def _version(request: Request) -> dict[str, str]:
    return {"Square-Version": request.headers.get("square-version") or DEFAULT_VERSION}


def _window(request: Request) -> tuple[dt.datetime, dt.datetime] | Response:
    """``begin_time`` (inclusive) and ``end_time`` (exclusive), defaults a year ago and now."""
    now = dt.datetime.now(dt.UTC)
    window: dict[str, dt.datetime] = {}
    for name, default in (("begin_time", now - dt.timedelta(days=365)), ("end_time", now)):
        text = request.param(name)
        parsed = default if text is None else _parse_time(text)
        if parsed is None:
            return _invalid("INVALID_TIME", f"Invalid {name}: '{text}' is not RFC 3339.", name)
        window[name] = parsed.astimezone(dt.UTC)
    begin, end = window["begin_time"], window["end_time"]
    if end < begin:
        return _invalid("INVALID_TIME_RANGE", "The end_time is before the begin_time.", "end_time")
    return begin, end


def _page(
    request: Request,
    index: _Index,
    key: str,
    window: tuple[dt.datetime, dt.datetime] | None,
    headers: dict[str, str],
) -> Response:
    """One page of ``index`` (inside ``window`` if given) by ``sort_order``, ``limit`` and
    ``cursor``, answered as ``{key: [...], "cursor"?}``."""
    order = request.param("sort_order", "DESC") or "DESC"
    if order not in ("ASC", "DESC"):
        return _invalid(
            "INVALID_SORT_ORDER", f"Invalid sort_order '{order}': use ASC or DESC.", "sort_order"
        )

    limit_text = request.param("limit")
    try:
        limit = MAX_LIMIT if limit_text is None else int(limit_text)
    except ValueError:
        return _invalid(
            "EXPECTED_INTEGER", f"Expected an integer limit, got '{limit_text}'.", "limit"
        )
    if limit < 1:
        return _invalid("VALUE_TOO_LOW", f"limit must be at least 1, got {limit}.", "limit")
    if limit > MAX_LIMIT:
        limit = MAX_LIMIT  # Square ignores a larger value and uses the default

    fingerprint = _fingerprint(request)
    after: Key | None = None
    cursor = request.param("cursor")
    if cursor is not None:
        after = _decode_cursor(cursor, fingerprint)
        if after is None:
            return _invalid("INVALID_CURSOR", "The pagination cursor is invalid.", "cursor")

    lo, hi = 0, len(index.keys)
    if window is not None:
        lo = bisect.bisect_left(index.keys, (window[0], ""))  # begin inclusive
        hi = bisect.bisect_left(index.keys, (window[1], ""))  # end exclusive
    if order == "ASC":
        if after is not None:
            lo = max(lo, bisect.bisect_right(index.keys, after))
        chosen = range(lo, min(hi, lo + limit))
        more = lo + limit < hi
    else:
        if after is not None:
            hi = min(hi, bisect.bisect_left(index.keys, after))
        chosen = range(hi - 1, max(lo, hi - limit) - 1, -1)
        more = hi - limit > lo

    page = [index.records[i] for i in chosen]
    body: dict[str, Any] = {}
    if page:
        body[key] = page
    if more and chosen:
        body["cursor"] = _encode_cursor(index.keys[chosen[-1]], fingerprint)
    return Response(200, body, headers)


def _checked_window(api: Api, request: Request) -> tuple[dt.datetime, dt.datetime] | Response:
    """The request's window once its credentials and version passed, else the refusal."""
    return _refused(request, api) or _window(request)


def list_payments(api: Api, request: Request) -> Response:
    """``GET /v2/payments``: one page of payments in the window, in the asked order."""
    window = _checked_window(api, request)
    if isinstance(window, Response):
        return window
    return _page(request, _index(api), "payments", window, _version(request))


def list_payouts(api: Api, request: Request) -> Response:
    """``GET /v2/payouts``: one page of payouts created in the window, in the asked order."""
    window = _checked_window(api, request)
    if isinstance(window, Response):
        return window
    location, status = request.param("location_id"), request.param("status")
    if status is not None and status not in PAYOUT_STATUSES:
        return _invalid(
            "INVALID_ENUM_VALUE",
            f"Invalid status '{status}': use one of {', '.join(PAYOUT_STATUSES)}.",
            "status",
        )

    def keep(payout: dict[str, Any]) -> bool:
        return location in (None, payout.get("location_id")) and status in (
            None,
            payout.get("status"),
        )

    filtered = location is not None or status is not None
    index = _index(api, PAYOUTS, "created_at", keep if filtered else None, f"{location}|{status}")
    return _page(request, index, "payouts", window, _version(request))


def list_payout_entries(api: Api, request: Request) -> Response:
    """``GET /v2/payouts/{payout_id}/payout-entries``: one page of a payout's entries."""
    refused = _refused(request, api)
    if refused is not None:
        return refused
    payout_id = request.path_params["payout_id"]
    if not any(p["id"] == payout_id for p in api.records.get(PAYOUTS, [])):
        return Response(
            404,
            _errors("INVALID_REQUEST_ERROR", "NOT_FOUND", f"Payout {payout_id} not found."),
        )
    index = _index(
        api, PAYOUT_ENTRIES, "effective_at", lambda e: e["payout_id"] == payout_id, payout_id
    )
    return _page(request, index, "payout_entries", None, _version(request))


ROUTES: Final = {
    ("GET", "/v2/payments"): list_payments,
    ("GET", "/v2/payouts"): list_payouts,
    ("GET", "/v2/payouts/{payout_id}/payout-entries"): list_payout_entries,
}
