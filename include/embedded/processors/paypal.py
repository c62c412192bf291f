"""PayPal's Transaction Search API (``GET /v1/reporting/transactions``) and its OAuth2 token.

The rules served, as PayPal documents them (developer.paypal.com, Transaction Search v1 and
REST authentication):

- ``POST /v1/oauth2/token``: HTTP Basic with the client id and secret, form body
  ``grant_type=client_credentials``; answers ``{"access_token", "token_type": "Bearer",
  "expires_in": 32400, ...}``. Wrong credentials: 401 ``{"error": "invalid_client", ...}``.
- ``GET /v1/reporting/transactions``: ``Authorization: Bearer <token>`` (else 401
  ``AUTHENTICATION_FAILURE``); ``start_date`` and ``end_date`` required, Internet date-time with
  seconds and an offset, at most 31 days apart; ``page`` (1-based, default 1), ``page_size``
  1..500 (default 100); ``fields`` (default ``transaction_info``, or ``all``, or a list). Any
  rule broken: 400 ``INVALID_REQUEST`` with ``details[].issue``.

Records are ``transaction_details`` items (``{"transaction_info": {...}, ...}``) as loaded with
``api.load("paypal", records)``, served oldest first. PayPal does not say whether ``end_date``
is inclusive; its own examples end windows at ``23:59:59``, so both ends are inclusive here and
a client splitting a long window must drop what falls on the shared boundary itself.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import re
import secrets
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from embedded.processors.wire import Api, Request, Response

NAME: Final = "paypal"
TOKEN_PATH: Final = "/v1/oauth2/token"
TRANSACTIONS_PATH: Final = "/v1/reporting/transactions"
MAX_RANGE: Final = dt.timedelta(days=31)
MAX_PAGE_SIZE: Final = 500
DEFAULT_PAGE_SIZE: Final = 100
TOKEN_SECONDS: Final = 32400
ACCOUNT_NUMBER: Final = "4ZBV6SBH8QQ7W"
SCOPE: Final = "https://uri.paypal.com/services/reporting/search/read"
FIELDS: Final = frozenset(
    [
        "transaction_info",
        "payer_info",
        "shipping_info",
        "auction_info",
        "cart_info",
        "incentive_info",
        "store_info",
    ]
)
# PayPal's own pattern for start_date/end_date (seconds required, offset required)
DATE_TIME: Final = re.compile(
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])[Tt]([0-1][0-9]|2[0-3]):[0-5][0-9]:"
    r"([0-5][0-9]|60)([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)

_ERRORS: Final = {
    400: (
        "INVALID_REQUEST",
        "Request is not well-formed, syntactically incorrect, or violates schema.",
    ),
    401: (
        "AUTHENTICATION_FAILURE",
        "Authentication failed due to invalid authentication credentials or a missing "
        "Authorization header.",
    ),
    403: ("NOT_AUTHORIZED", "Authorization failed due to insufficient permissions."),
    404: ("RESOURCE_NOT_FOUND", "The specified resource does not exist."),
    429: ("RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting."),
    500: ("INTERNAL_SERVER_ERROR", "An internal server error occurred."),
    503: ("SERVICE_UNAVAILABLE", "Service Unavailable."),
}


def error_body(status: int, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """PayPal's REST error shape: ``name``, ``message``, ``debug_id``, ``details``, ``links``."""
    name, message = _ERRORS.get(
        status, ("INTERNAL_SERVER_ERROR", "An internal server error occurred.")
    )
    body: dict[str, Any] = {"name": name, "message": message, "debug_id": secrets.token_hex(7)}
    if details:
        body["details"] = details
    body["links"] = [
        {
            "href": f"https://developer.paypal.com/docs/api/transaction-search/v1/#error-{name}",
            "rel": "information_link",
        }
    ]
    return body


# per-server state ----------------------------------------------------------------------------


@dataclass
class _State:
    """What one ``Api`` remembers for PayPal: issued tokens and a date index."""

    tokens: set[str] = field(default_factory=set)  # accepted now
    issued: list[str] = field(default_factory=list)  # every one ever issued
    refusals: int = 0  # the next list requests answered 401 whatever their token
    lock: threading.Lock = field(default_factory=threading.Lock)
    # records sorted by initiation time, for the list object api.records["paypal"] held then
    source: list[dict[str, Any]] | None = None
    source_len: int = 0
    times: list[dt.datetime] = field(default_factory=list)
    ordered: list[dict[str, Any]] = field(default_factory=list)


_STATES: weakref.WeakKeyDictionary[Api, _State] = weakref.WeakKeyDictionary()
_STATES_LOCK = threading.Lock()


def _state(api: Api) -> _State:
    with _STATES_LOCK:
        state = _STATES.get(api)
        if state is None:
            state = _STATES[api] = _State()
        return state


def issued_tokens(api: Api) -> list[str]:
    """Every access token this server has issued, expired ones too (for tests)."""
    state = _state(api)
    with state.lock:
        return list(state.issued)


def expire_tokens(api: Api) -> None:
    """Forget every issued token, as if they had all expired: the next call answers 401."""
    state = _state(api)
    with state.lock:
        state.tokens.clear()


def refuse_tokens(api: Api, times: int = 1) -> None:
    """Answer the next ``times`` list requests 401, valid token or not (tokens stay valid).

    ``api.fail`` counts every PayPal request, the token requests too; this hits the list
    endpoint only, to test a client that renews its token once and then gives up.
    """
    state = _state(api)
    with state.lock:
        state.refusals += times


def _index(api: Api) -> tuple[list[dt.datetime], list[dict[str, Any]]]:
    """The records and their UTC initiation times, oldest first (rebuilt when ``load`` runs)."""
    state = _state(api)
    records = api.records[NAME]
    with state.lock:
        if state.source is not records or state.source_len != len(records):
            keyed = sorted(
                (_initiated(record), record["transaction_info"]["transaction_id"], n)
                for n, record in enumerate(records)
            )
            state.times = [when for when, _, _ in keyed]
            state.ordered = [records[n] for _, _, n in keyed]
            state.source, state.source_len = records, len(records)
        return state.times, state.ordered


def _initiated(record: dict[str, Any]) -> dt.datetime:
    value = record["transaction_info"]["transaction_initiation_date"]
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


# routes --------------------------------------------------------------------------------------


def token(api: Api, request: Request) -> Response:
    """``POST /v1/oauth2/token``: client credentials in HTTP Basic, a Bearer token back."""
    expected = api.secrets[NAME]
    if _basic_auth(request.headers.get("authorization", "")) != (
        expected["login"],
        expected["password"],
    ):
        return Response(
            401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        )
    form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
    if form.get("grant_type") != "client_credentials":
        return Response(
            400,
            {
                "error": "unsupported_grant_type",
                "error_description": f"Grant Type is {form.get('grant_type') or 'NULL'}",
            },
        )
    access_token = f"A21AA{secrets.token_urlsafe(48)}"
    state = _state(api)
    with state.lock:
        state.tokens.add(access_token)
        state.issued.append(access_token)
    return Response(
        200,
        {
            "scope": SCOPE,
            "access_token": access_token,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": TOKEN_SECONDS,
            "nonce": f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}{secrets.token_hex(8)}",
        },
    )


def transactions(api: Api, request: Request) -> Response:
    """``GET /v1/reporting/transactions``: one page of the window's transactions."""
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    state = _state(api)
    with state.lock:
        known = scheme.lower() == "bearer" and bearer in state.tokens and not state.refusals
        state.refusals = max(state.refusals - 1, 0)
    if not known:
        return Response(401, error_body(401))

    problems: list[dict[str, str]] = []
    start = _date_param(request, "start_date", problems)
    end = _date_param(request, "end_date", problems)
    page = _int_param(request, "page", 1, 1, 2**31 - 1, problems)
    page_size = _int_param(request, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, problems)
    fields = _fields_param(request, problems)
    filters = _filters(request, problems)
    if start is not None and end is not None:
        if end < start:
            problems.append(_issue("end_date", request, "end_date must not be before start_date"))
        elif end - start > MAX_RANGE:  # the limit is documented; this issue text is ours
            problems.append(_issue("end_date", request, "Date range is greater than 31 days"))
    if problems or start is None or end is None or page is None or page_size is None:
        return Response(400, error_body(400, problems))

    times, ordered = _index(api)
    first, stop = bisect.bisect_left(times, start), bisect.bisect_right(times, end)
    if filters:  # a filtered window is cut from its own list (the unfiltered one is not copied)
        kept = [r for r in ordered[first:stop] if _kept(r, filters)]
        ordered, first, stop = kept, 0, len(kept)
    total = stop - first
    total_pages = -(-total // page_size)
    offset = first + (page - 1) * page_size
    chosen = ordered[offset : min(offset + page_size, stop)] if offset < stop else []
    return Response(
        200,
        {
            "transaction_details": [_project(record, fields) for record in chosen],
            "account_number": ACCOUNT_NUMBER,
            "start_date": request.param("start_date"),
            "end_date": request.param("end_date"),
            "last_refreshed_datetime": f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%S}+0000",
            "page": page,
            "total_items": total,
            "total_pages": total_pages,
            "links": _links(api, request, page, total_pages),
        },
    )


ROUTES = {("POST", TOKEN_PATH): token, ("GET", TRANSACTIONS_PATH): transactions}


# helpers -------------------------------------------------------------------------------------


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        login, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except ValueError:  # bad base64 or bad UTF-8
        return None
    return (login, password) if sep else None


def _issue(name: str, request: Request, issue: str) -> dict[str, str]:
    return {
        "field": name,
        "value": request.param(name) or "",
        "location": "query",
        "issue": issue,
    }


def _date_param(request: Request, name: str, problems: list[dict[str, str]]) -> dt.datetime | None:
    value = request.param(name)
    if not value:
        problems.append(_issue(name, request, "MISSING_REQUIRED_PARAMETER"))
        return None
    if not DATE_TIME.match(value):
        problems.append(_issue(name, request, "INVALID_PARAMETER_SYNTAX"))
        return None
    try:
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC)
    except ValueError:  # matches the pattern but is no date (2024-02-31)
        problems.append(_issue(name, request, "INVALID_PARAMETER_VALUE"))
        return None


def _int_param(
    request: Request,
    name: str,
    default: int,
    low: int,
    high: int,
    problems: list[dict[str, str]],
) -> int | None:
    value = request.param(name)
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        problems.append(_issue(name, request, f"{name} must be an integer from {low} to {high}"))
        return None
    return int(value)


_FILTERS: Final = {
    "transaction_type": re.compile(r"^T[0-9]{4}$"),
    "transaction_status": re.compile(r"^[DPSV]$"),
    "transaction_currency": re.compile(r"^[A-Z]{3}$"),
}


def _filters(request: Request, problems: list[dict[str, str]]) -> dict[str, str]:
    """The filters asked for (by their name in the query), each checked against PayPal's form."""
    chosen = {}
    for name, pattern in _FILTERS.items():
        value = request.param(name)
        if value is None:
            continue
        if not pattern.match(value):
            problems.append(_issue(name, request, "INVALID_PARAMETER_SYNTAX"))
        chosen[name] = value
    return chosen


def _kept(record: dict[str, Any], filters: dict[str, str]) -> bool:
    info = record["transaction_info"]
    found = {
        "transaction_type": info.get("transaction_event_code"),
        "transaction_status": info.get("transaction_status"),
        "transaction_currency": (info.get("transaction_amount") or {}).get("currency_code"),
    }
    return all(found[name] == value for name, value in filters.items())


def _fields_param(request: Request, problems: list[dict[str, str]]) -> frozenset[str] | None:
    """``None`` for every field; else the requested groups (default ``transaction_info``)."""
    value = request.param("fields") or "transaction_info"
    if value == "all":
        return None
    names = frozenset(part.strip() for part in value.split(","))
    if not names <= FIELDS:
        problems.append(_issue("fields", request, "INVALID_PARAMETER_VALUE"))
    return names


def _project(record: dict[str, Any], fields: frozenset[str] | None) -> dict[str, Any]:
    if fields is None:
        return record
    return {key: value for key, value in record.items() if key in fields}


def _links(api: Api, request: Request, page: int, total_pages: int) -> list[dict[str, Any]]:
    def href(number: int) -> str:
        query = [(k, v) for k, v in request.query if k != "page"] + [("page", str(number))]
        return f"{api.url}{TRANSACTIONS_PATH}?{urlencode(query)}"

    links = [{"href": href(page), "rel": "self", "method": "GET"}]
    if page < total_pages:
        links.append({"href": href(page + 1), "rel": "next", "method": "GET"})
    if total_pages:
        links.append({"href": href(total_pages), "rel": "last", "method": "GET"})
    return links
