"""Stripe's ``GET /v1/balance_transactions`` with Stripe's rules, for ``embedded.processor_api``.

- Auth: the secret key as ``Authorization: Bearer <key>`` (or as the Basic-auth user name, as
  Stripe also accepts); anything else is 401 with Stripe's error shape and the key masked.
- ``limit`` 1..100 (default 10), cursor ``starting_after`` / ``ending_before`` (object ids; an
  unknown id is 400 "No such balance transaction"), ``created`` as an exact unix time or
  ``created[gt|gte|lt|lte]``. Newest first (ties: higher id first), ``has_more`` says whether
  anything older is left. Any other parameter is 400 "Received unknown parameter" (Stripe's
  other filters, ``type``/``currency``/``payout``/``source``/``expand[]``, are not served here).

Records are served as loaded (``api.load("stripe", records)``), in Stripe's balance_transaction
shape; ``worlds.processor_records.balance_transaction`` builds one. Balance transactions carry no ``metadata``: our
payment id travels in the charge's ``description`` as ``order <payment id>``, which Stripe
copies onto the charge's balance transaction and wraps for a refund's
(``REFUND FOR CHARGE (order <payment id>)``).

Pages are cut by binary search over a per-load index, so paging a million records stays cheap.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from embedded.processors.wire import Api, Request, Response

NAME: Final = "stripe"
PREFIX: Final = "/v1/"
LIST_PATH: Final = "/v1/balance_transactions"
DEFAULT_LIMIT: Final = 10
MAX_LIMIT: Final = 100
_CREATED_OPS: Final = ("gt", "gte", "lt", "lte")
_KNOWN_PARAMS: Final = frozenset(
    {
        "limit",
        "starting_after",
        "ending_before",
        "created",
        *(f"created[{op}]" for op in _CREATED_OPS),
    }
)
_DOCS: Final = "See https://stripe.com/docs/api or we can help at https://support.stripe.com/."


def error_body(status: int, message: str | None = None, **details: str) -> dict[str, Any]:
    """Stripe's error shape: ``{"error": {"type", "message", ...}}``."""
    if status == 429:
        error: dict[str, Any] = {
            "type": "invalid_request_error",
            "code": "rate_limit",
            "message": "Too many requests hit the API too quickly. "
            "We recommend an exponential backoff of your requests.",
        }
    elif status >= 500:
        error = {"type": "api_error", "message": "Something went wrong on Stripe's end."}
    elif status == 404:
        error = {"type": "invalid_request_error", "message": f"Unrecognized request URL. {_DOCS}"}
    else:
        error = {"type": "invalid_request_error", "message": "Invalid request."}
    if message is not None:
        error["message"] = message
    error.update(details)
    return {"error": error}


def _bad_request(message: str, *, param: str | None = None, code: str | None = None) -> Response:
    details = {k: v for k, v in (("param", param), ("code", code)) if v is not None}
    return Response(400, error_body(400, message, **details))


# auth ------------------------------------------------------------------------------------------


def _masked(key: str) -> str:
    """Stripe's way of naming a refused key: its prefix and last four characters only."""
    prefix = key[: key.rfind("_") + 1] if key.startswith(("sk_", "rk_", "pk_")) else ""
    return f"{prefix}{'*' * max(len(key) - len(prefix) - 4, 4)}{key[-4:]}"


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            user, _, _ = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return user
    return None


def _refused(api: Api, request: Request) -> Response | None:
    """401 unless the request carries the accepted secret key."""
    key = _presented_key(request)
    if key == api.secrets[NAME]["password"]:
        return None
    if not key:
        message = (
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            f"YOUR_SECRET_KEY'). {_DOCS}"
        )
    else:
        message = f"Invalid API Key provided: {_masked(key)}"
    return Response(401, error_body(401, message), {"WWW-Authenticate": 'Bearer realm="Stripe"'})


# paging ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Index:
    """One load's records oldest first, with their ``created`` and positions by id."""

    source: list[dict[str, Any]]
    ascending: list[dict[str, Any]]
    created: list[int]
    position: dict[str, int]


_indexes: weakref.WeakKeyDictionary[Api, _Index] = weakref.WeakKeyDictionary()


def _index(api: Api) -> _Index:
    records = api.records[NAME]
    index = _indexes.get(api)
    if index is None or index.source is not records or len(index.ascending) != len(records):
        ascending = sorted(records, key=lambda r: (r["created"], r["id"]))
        index = _Index(
            records,
            ascending,
            [r["created"] for r in ascending],
            {r["id"]: i for i, r in enumerate(ascending)},
        )
        _indexes[api] = index
    return index


def _integer(request: Request, name: str) -> int | Response | None:
    value = request.param(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return _bad_request(f"Invalid integer: {value}", param=name)


def _limit(request: Request) -> int | Response:
    limit = _integer(request, "limit")
    if limit is None or isinstance(limit, Response):
        return DEFAULT_LIMIT if limit is None else limit
    if limit < 1:
        return _bad_request("This value must be greater than or equal to 1.", param="limit")
    if limit > MAX_LIMIT:
        return _bad_request(f"This value must be less than or equal to {MAX_LIMIT}.", param="limit")
    return limit


def _created_range(request: Request) -> tuple[int | None, int | None] | Response:
    """``created`` filters as a half-open range [low, high) of unix seconds."""
    low: int | None = None
    high: int | None = None
    for name, to_low, to_high in (
        ("created", 0, 1),
        ("created[gte]", 0, None),
        ("created[gt]", 1, None),
        ("created[lt]", None, 0),
        ("created[lte]", None, 1),
    ):
        value = _integer(request, name)
        if isinstance(value, Response):
            return value
        if value is None:
            continue
        if to_low is not None:
            low = value + to_low if low is None else max(low, value + to_low)
        if to_high is not None:
            high = value + to_high if high is None else min(high, value + to_high)
    return low, high


def _page(
    index: _Index, low: int, high: int, limit: int, after: int | None, before: int | None
) -> tuple[Sequence[dict[str, Any]], bool]:
    """Newest first within ascending positions [low, high), next to the cursor if any."""
    if before is not None:  # the page just newer than the cursor, still newest first
        low = max(low, before + 1)
        end = min(low + limit, high)
        return index.ascending[low:end][::-1], end < high
    if after is not None:
        high = min(high, after)
    start = max(low, high - limit)
    return index.ascending[start:high][::-1], start > low


def list_balance_transactions(api: Api, request: Request) -> Response:
    """``GET /v1/balance_transactions``."""
    refused = _refused(api, request)
    if refused is not None:
        return refused
    for name, _ in request.query:
        if name not in _KNOWN_PARAMS:
            return _bad_request(f"Received unknown parameter: {name}", param=name)
    limit = _limit(request)
    if isinstance(limit, Response):
        return limit
    window = _created_range(request)
    if isinstance(window, Response):
        return window
    after_id, before_id = request.param("starting_after"), request.param("ending_before")
    if after_id and before_id:
        return _bad_request(
            "Received both starting_after and ending_before parameters. Please pass in only one."
        )

    index = _index(api)
    cursors: dict[str, int | None] = {}
    for name, object_id in (("starting_after", after_id), ("ending_before", before_id)):
        cursors[name] = None
        if object_id:
            if object_id not in index.position:
                return _bad_request(
                    f"No such balance transaction: '{object_id}'",
                    param=name,
                    code="resource_missing",
                )
            cursors[name] = index.position[object_id]
    low, high = window
    first = 0 if low is None else bisect.bisect_left(index.created, low)
    last = len(index.created) if high is None else bisect.bisect_left(index.created, high)
    data, has_more = _page(
        index, first, last, limit, cursors["starting_after"], cursors["ending_before"]
    )
    return Response(
        200, {"object": "list", "data": list(data), "has_more": has_more, "url": LIST_PATH}
    )


ROUTES: Final = {("GET", LIST_PATH): list_balance_transactions}
