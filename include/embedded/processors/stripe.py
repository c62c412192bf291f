"""Stripe's ``GET /v1/balance_transactions`` and ``GET /v1/payouts``, for ``embedded.processor_api``.

- Auth: the secret key as ``Authorization: Bearer <key>`` (or as the Basic-auth user name, as
  Stripe also accepts); anything else is 401 with Stripe's error shape and the key masked.
- Both lists: ``limit`` 1..100 (default 10), cursor ``starting_after`` / ``ending_before``
  (object ids; an unknown id is 400 "No such balance transaction" / "No such payout"),
  ``created`` as an exact unix time or ``created[gt|gte|lt|lte]``. Newest first (ties: higher
  id first), ``has_more`` says whether anything older is left. Any other parameter is 400
  "Received unknown parameter".
- ``/v1/balance_transactions`` also filters on ``type``, ``currency`` and ``payout`` (the
  transactions an automatic payout paid out, its own ``payout`` transaction included; an
  unknown payout is 400 "No such payout"). ``source`` and ``expand[]`` are not served.
- ``/v1/payouts`` also filters on ``arrival_date`` (exact or ``[gt|gte|lt|lte]``, unix
  seconds), ``status`` (``paid``, ``pending``, ``in_transit``, ``canceled``, ``failed``) and
  ``destination``.

Records are served as loaded: balance transactions with ``api.load("stripe", records)``
(``worlds.processor_records.balance_transaction`` builds one), payout objects with
``api.load("stripe/payouts", payouts)`` (``worlds.processor_records.stripe_payout``). Which
balance transactions a payout paid out is Stripe's own bookkeeping, not a field of either
object: it is loaded beside them as ``api.load("stripe/payout_links", [{"payout": "po_...",
"balance_transaction": "txn_..."}, ...])``. Balance transactions carry no ``metadata``: our
payment id travels in the charge's ``description`` as ``order <payment id>``, which Stripe
copies onto the charge's balance transaction and wraps for a refund's
(``REFUND FOR CHARGE (order <payment id>)``).

Pages are cut by binary search over an index per load (and per filter), so paging a million
records stays cheap.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from embedded.processors.wire import Api, Request, Response

NAME: Final = "stripe"
PREFIX: Final = "/v1/"
LIST_PATH: Final = "/v1/balance_transactions"
DEFAULT_LIMIT: Final = 10
MAX_LIMIT: Final = 100
_CREATED_OPS: Final = ("gt", "gte", "lt", "lte")
PAYOUTS_PATH: Final = "/v1/payouts"
PAYOUTS: Final = f"{NAME}/payouts"
PAYOUT_LINKS: Final = f"{NAME}/payout_links"
PAYOUT_STATUSES: Final = frozenset({"paid", "pending", "in_transit", "canceled", "failed"})
_PAGING_PARAMS: Final = frozenset(
    {
        "limit",
        "starting_after",
        "ending_before",
        "created",
        *(f"created[{op}]" for op in _CREATED_OPS),
    }
)
_KNOWN_PARAMS: Final = _PAGING_PARAMS | {"type", "currency", "payout"}
_PAYOUT_PARAMS: Final = _PAGING_PARAMS | {
    "arrival_date",
    *(f"arrival_date[{op}]" for op in _CREATED_OPS),
    "status",
    "destination",
}
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
    """One load's records (or those a filter keeps) oldest first, with ``created`` and positions."""

    source: list[dict[str, Any]]
    size: int
    ascending: list[dict[str, Any]]
    created: list[int]
    position: dict[str, int]


_indexes: weakref.WeakKeyDictionary[Api, dict[str, _Index]] = weakref.WeakKeyDictionary()


def _index(
    api: Api,
    collection: str = NAME,
    keep: Callable[[dict[str, Any]], bool] | None = None,
    key: str = "",
) -> _Index:
    """The index of ``api.records[collection]`` (the records ``keep`` keeps, cached by ``key``),
    rebuilt when a ``load`` replaces them."""
    records = api.records.get(collection, [])
    cached = _indexes.setdefault(api, {})
    name = f"{collection}?{key}"
    index = cached.get(name)
    if index is None or index.source is not records or index.size != len(records):
        kept = records if keep is None else [r for r in records if keep(r)]
        ascending = sorted(kept, key=lambda r: (r["created"], r["id"]))
        index = _Index(
            records,
            len(records),
            ascending,
            [r["created"] for r in ascending],
            {r["id"]: i for i, r in enumerate(ascending)},
        )
        cached[name] = index
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


def _created_range(
    request: Request, field: str = "created"
) -> tuple[int | None, int | None] | Response:
    """``created`` (or ``arrival_date``) filters as a half-open range [low, high) of seconds."""
    low: int | None = None
    high: int | None = None
    for suffix, to_low, to_high in (
        ("", 0, 1),
        ("[gte]", 0, None),
        ("[gt]", 1, None),
        ("[lt]", None, 0),
        ("[lte]", None, 1),
    ):
        value = _integer(request, field + suffix)
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


def _unknown(request: Request, known: frozenset[str]) -> Response | None:
    for name, _ in request.query:
        if name not in known:
            return _bad_request(f"Received unknown parameter: {name}", param=name)
    return None


def _list(api: Api, request: Request, index: _Index, path: str, noun: str) -> Response:
    """One page of ``index`` by Stripe's list rules (``limit``, cursors, ``created``)."""
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
    cursors: dict[str, int | None] = {}
    for name, object_id in (("starting_after", after_id), ("ending_before", before_id)):
        cursors[name] = None
        if object_id:
            if object_id not in index.position:
                return _bad_request(
                    f"No such {noun}: '{object_id}'", param=name, code="resource_missing"
                )
            cursors[name] = index.position[object_id]
    low, high = window
    first = 0 if low is None else bisect.bisect_left(index.created, low)
    last = len(index.created) if high is None else bisect.bisect_left(index.created, high)
    data, has_more = _page(
        index, first, last, limit, cursors["starting_after"], cursors["ending_before"]
    )
    return Response(200, {"object": "list", "data": list(data), "has_more": has_more, "url": path})


def _payout_members(api: Api, payout_id: str) -> frozenset[str] | None:
    """The balance transaction ids ``payout_id`` paid out; None for an unknown payout."""
    if not any(p["id"] == payout_id for p in api.records.get(PAYOUTS, [])):
        return None
    links = api.records.get(PAYOUT_LINKS, [])
    return frozenset(link["balance_transaction"] for link in links if link["payout"] == payout_id)


def list_balance_transactions(api: Api, request: Request) -> Response:
    """``GET /v1/balance_transactions``."""
    refused = _refused(api, request) or _unknown(request, _KNOWN_PARAMS)
    if refused is not None:
        return refused
    filters = {name: request.param(name) for name in ("type", "currency", "payout")}
    members: frozenset[str] | None = None
    if filters["payout"] is not None:
        members = _payout_members(api, filters["payout"])
        if members is None:
            return _bad_request(
                f"No such payout: '{filters['payout']}'", param="payout", code="resource_missing"
            )

    def keep(record: dict[str, Any]) -> bool:
        return (
            (members is None or record["id"] in members)
            and filters["type"] in (None, record["type"])
            and filters["currency"] in (None, record["currency"])
        )

    chosen = {k: v for k, v in filters.items() if v is not None}
    index = _index(api, NAME, keep if chosen else None, repr(sorted(chosen.items())))
    return _list(api, request, index, LIST_PATH, "balance transaction")


def list_payouts(api: Api, request: Request) -> Response:
    """``GET /v1/payouts``."""
    refused = _refused(api, request) or _unknown(request, _PAYOUT_PARAMS)
    if refused is not None:
        return refused
    status, destination = request.param("status"), request.param("destination")
    if status is not None and status not in PAYOUT_STATUSES:
        return _bad_request(
            f"Invalid status: must be one of {', '.join(sorted(PAYOUT_STATUSES))}", param="status"
        )
    arrival = _created_range(request, "arrival_date")
    if isinstance(arrival, Response):
        return arrival
    low, high = arrival

    def keep(payout: dict[str, Any]) -> bool:
        when = payout["arrival_date"]
        return (
            status in (None, payout["status"])
            and destination in (None, payout.get("destination"))
            and (low is None or when >= low)
            and (high is None or when < high)
        )

    chosen = (status, destination, low, high)
    filtered = any(v is not None for v in chosen)
    index = _index(api, PAYOUTS, keep if filtered else None, repr(chosen))
    return _list(api, request, index, PAYOUTS_PATH, "payout")


ROUTES: Final = {
    ("GET", LIST_PATH): list_balance_transactions,
    ("GET", PAYOUTS_PATH): list_payouts,
}
