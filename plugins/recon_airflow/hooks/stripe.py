"""Stripe's balance transactions of a window, normalised: ``StripeHook.transactions(start, end)``.

``GET /v1/balance_transactions`` with ``created[gte]=start`` and ``created[lt]=end`` (unix
seconds), ``limit=100`` (Stripe's maximum), and ``starting_after=<last id of the page>`` while
``has_more``: a window that fills its last page exactly costs no extra empty request. The
secret key is the connection's password, sent as ``Authorization: Bearer``; never logged.

Each balance transaction becomes a ``Transaction``:

- ``transaction_id``: the balance transaction id (``txn_...``); ``source`` (``ch_``/``re_``...)
  is not kept: the ledger books our payment id, not Stripe's.
- ``gross``/``fee``/``net``: ``amount``/``fee``/``net`` in major units, exact (zero-decimal
  currencies such as JPY stay whole); signed as Stripe signs them (a refund is negative).
- ``currency``: upper case. ``created_at``: ``created`` as an aware UTC datetime.
- ``status`` (see ``normalised_status``): a refund type (``refund``, ``payment_refund``) is
  ``refunded`` whatever its availability; a failure type (``payment_failure_refund``: a bank
  debit that failed after it first succeeded; ``refund_failure``) is ``failed``; any other type
  is ``succeeded`` once ``available`` and ``pending`` while ``pending``.
- ``reference``: our payment id. Balance transactions have no ``metadata``, so we put
  ``order <payment id>`` in the charge's description, which Stripe copies onto the balance
  transaction (a refund's reads ``REFUND FOR CHARGE (order <payment id>)``); the first
  ``order <id>`` in the description is the reference, None when there is none (payouts, fees).

``payouts(start, end)`` pages ``GET /v1/payouts`` the same way (``created`` or
``arrival_date`` in the window) into ``Payout`` (status ``paid``, ``in_transit``, ``pending``,
``failed``, ``canceled`` as Stripe says them); ``balance_transactions(payout_id)`` pages
``GET /v1/balance_transactions?payout=`` into ``PayoutEntry`` (``type`` as Stripe says it:
``charge``, ``refund``, ``stripe_fee``, ``adjustment``... and the payout's own ``payout``
transaction, minus the payout's amount, so all of a payout's nets sum to zero).

A record that does not fit (a missing field, an amount that is not an integer, an unknown
status) raises ``StripeDataError``: a retry would get the same answer.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, TypeVar

from recon_airflow.hooks.processor import (
    CANCELED,
    FAILED,
    IN_TRANSIT,
    PAID,
    PENDING,
    REFUNDED,
    SUCCEEDED,
    Payout,
    PayoutEntry,
    ProcessorAuthError,
    ProcessorDataError,
    ProcessorError,
    ProcessorHook,
    Transaction,
    minor_to_major,
)

LIST_PATH: Final = "/v1/balance_transactions"
PAYOUTS_PATH: Final = "/v1/payouts"
PAGE_SIZE: Final = 100  # Stripe's maximum ``limit``
REFUND_TYPES: Final = frozenset({"refund", "payment_refund"})
FAILURE_TYPES: Final = frozenset({"payment_failure_refund", "refund_failure"})
STATUS_BY_AVAILABILITY: Final = {"available": SUCCEEDED, "pending": PENDING}
REFERENCE: Final = re.compile(r"\border ([^\s()]+)")
_AMOUNTS: Final = ("amount", "fee", "net")
T = TypeVar("T")


class StripeDataError(ProcessorError, ProcessorDataError):
    """Stripe answered, but with a record or page this hook cannot read (no retry fixes it)."""


def normalised_status(txn_type: str, status: str) -> str:
    """Our status for a balance transaction's ``type`` and ``status`` (module docstring)."""
    if status not in STATUS_BY_AVAILABILITY:
        raise ValueError(f"unknown status {status!r} (Stripe's are 'available' and 'pending')")
    if txn_type in REFUND_TYPES:
        return REFUNDED
    if txn_type in FAILURE_TYPES:
        return FAILED
    return STATUS_BY_AVAILABILITY[status]


def reference(description: str | None) -> str | None:
    """Our payment id from ``order <payment id>`` in the description, if it is there."""
    match = REFERENCE.search(description or "")
    return match.group(1) if match else None


def to_transaction(record: Mapping[str, Any]) -> Transaction:
    """One balance_transaction record as a ``Transaction``; ValueError says what does not fit."""
    try:
        txn_id, code, created = record["id"], record["currency"], record["created"]
        amount, fee, net = record["amount"], record["fee"], record["net"]
        txn_type, status = record["type"], record["status"]
    except KeyError as missing:
        raise ValueError(f"no {missing.args[0]!r} field") from None
    # a float would not be exact, and bool is not an amount: only int will do
    if not (type(amount) is int and type(fee) is int and type(net) is int):
        name, value = next(
            (n, v) for n, v in zip(_AMOUNTS, (amount, fee, net), strict=True) if type(v) is not int
        )
        raise ValueError(f"{name} {value!r} is not an integer")
    if type(created) is not int:
        raise ValueError(f"created {created!r} is not an integer")
    currency = code.upper() if isinstance(code, str) else ""
    if len(currency) != 3 or not currency.isalpha():
        raise ValueError(f"currency {code!r} is not an ISO 4217 code")
    return Transaction(
        processor="stripe",
        transaction_id=str(txn_id),
        gross=minor_to_major(amount, currency),
        fee=minor_to_major(fee, currency),
        net=minor_to_major(net, currency),
        currency=currency,
        status=normalised_status(str(txn_type), str(status)),
        created_at=dt.datetime.fromtimestamp(created, dt.UTC),
        reference=reference(record.get("description")),
    )


PAYOUT_STATUS: Final = {
    "paid": PAID,
    "in_transit": IN_TRANSIT,
    "pending": PENDING,
    "failed": FAILED,
    "canceled": CANCELED,
}


def _amounts(record: Mapping[str, Any], *names: str) -> list[int]:
    """The named integer fields (minor units); ValueError names one that is missing or not int."""
    values = []
    for name in names:
        if name not in record:
            raise ValueError(f"no {name!r} field")
        value = record[name]
        if type(value) is not int:  # a float would not be exact, and bool is not an amount
            raise ValueError(f"{name} {value!r} is not an integer")
        values.append(value)
    return values


def _currency(code: object) -> str:
    currency = code.upper() if isinstance(code, str) else ""
    if len(currency) != 3 or not currency.isalpha():
        raise ValueError(f"currency {code!r} is not an ISO 4217 code")
    return currency


def to_payout(record: Mapping[str, Any]) -> Payout:
    """One Stripe ``payout`` object as a ``Payout``; ValueError says what does not fit."""
    amount, created, arrival = _amounts(record, "amount", "created", "arrival_date")
    currency = _currency(record.get("currency"))
    status = PAYOUT_STATUS.get(str(record.get("status")))
    if status is None:
        raise ValueError(
            f"unknown status {record.get('status')!r} (Stripe's are {', '.join(PAYOUT_STATUS)})"
        )
    return Payout(
        processor="stripe",
        payout_id=str(record["id"]),
        amount=minor_to_major(amount, currency),
        currency=currency,
        status=status,
        created_at=dt.datetime.fromtimestamp(created, dt.UTC),
        arrival_date=dt.datetime.fromtimestamp(arrival, dt.UTC).date(),
    )


def to_payout_entry(record: Mapping[str, Any], payout_id: str) -> PayoutEntry:
    """One balance transaction of a payout as a ``PayoutEntry`` (Stripe's signs kept)."""
    amount, fee, net, created = _amounts(record, "amount", "fee", "net", "created")
    currency = _currency(record.get("currency"))
    if net != amount - fee:
        raise ValueError(f"net {net} is not amount {amount} - fee {fee}")
    return PayoutEntry(
        processor="stripe",
        payout_id=payout_id,
        entry_id=str(record["id"]),
        type=str(record.get("type")),
        gross=minor_to_major(amount, currency),
        fee=minor_to_major(fee, currency),
        net=minor_to_major(net, currency),
        currency=currency,
        effective_at=dt.datetime.fromtimestamp(created, dt.UTC),
        reference=reference(record.get("description")),
    )


def _window(start: dt.datetime, end: dt.datetime, field: str) -> list[tuple[str, Any]]:
    """``limit`` and ``<field>[gte]``/``[lt]`` for ``[start, end)`` in whole seconds."""
    gte, lt = unix_seconds(start, "start"), unix_seconds(end, "end")
    if gte > lt:
        raise ValueError(f"the window ends ({end.isoformat()}) before it starts")
    return [("limit", PAGE_SIZE), (f"{field}[gte]", gte), (f"{field}[lt]", lt)]


def unix_seconds(moment: dt.datetime, name: str) -> int:
    """The first whole second at or after an aware ``moment`` (Stripe filters whole seconds)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} {moment.isoformat()} has no time zone: pass an aware datetime")
    return math.ceil(moment.timestamp())


class StripeHook(ProcessorHook):
    """Stripe's balance transactions through an Airflow connection (password = secret key)."""

    default_conn_name = "recon_stripe"
    hook_name = "Stripe"
    processor = "stripe"

    def __init__(self, conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)

    def _headers(self) -> dict[str, str]:
        self.get_conn()
        if not self._password:
            raise ProcessorAuthError(
                self.conn_id, None, "the connection has no password (the Stripe secret key)"
            )
        return {"Authorization": f"Bearer {self._password}"}

    def transactions(self, start: dt.datetime, end: dt.datetime) -> Iterator[Transaction]:
        """Every balance transaction created in ``[start, end)``, newest first, page by page."""
        window = _window(start, end, "created")
        yield from self._mapped(LIST_PATH, window, to_transaction, "balance transaction")

    def payouts(
        self, start: dt.datetime, end: dt.datetime, *, by: str = "created"
    ) -> Iterator[Payout]:
        """Every payout created (``by="arrival_date"``: arriving) in ``[start, end)``, newest
        first, page by page (``GET /v1/payouts``)."""
        if by not in ("created", "arrival_date"):
            raise ValueError(f"by={by!r}: payouts are listed by 'created' or 'arrival_date'")
        yield from self._mapped(PAYOUTS_PATH, _window(start, end, by), to_payout, "payout")

    def balance_transactions(self, payout_id: str) -> Iterator[PayoutEntry]:
        """Every balance transaction ``payout_id`` paid out, its own ``payout`` one included
        (``GET /v1/balance_transactions?payout=``), newest first."""
        if not payout_id:
            raise ValueError("no payout id")
        params = [("limit", PAGE_SIZE), ("payout", payout_id)]

        def entry(record: Mapping[str, Any]) -> PayoutEntry:
            return to_payout_entry(record, payout_id)

        yield from self._mapped(LIST_PATH, params, entry, "balance transaction")

    def _mapped(
        self,
        path: str,
        params: list[tuple[str, Any]],
        mapping: Callable[[Mapping[str, Any]], T],
        noun: str,
    ) -> Iterator[T]:
        """Each object of a Stripe list, through ``mapping`` (a ValueError: StripeDataError)."""
        for record in self._paged(path, params):
            try:
                yield mapping(record)
            except ValueError as err:
                where = record.get("id", "?") if isinstance(record, Mapping) else "?"
                raise StripeDataError(self.conn_id, 200, f"{noun} {where!r}: {err}") from None

    def _paged(self, path: str, params: list[tuple[str, Any]]) -> Iterator[Any]:
        """Every object of a Stripe list: ``starting_after=<last id>`` while ``has_more``."""
        headers = self._headers()
        cursor: str | None = None
        while True:
            query = params if cursor is None else [*params, ("starting_after", cursor)]
            page = self.get_json(path, params=query, headers=headers)
            data, has_more = self._read_page(page, cursor)
            yield from data
            if not has_more:
                return
            cursor = str(data[-1]["id"])

    def _read_page(self, page: Any, cursor: str | None) -> tuple[list[Any], bool]:
        """``data`` and ``has_more`` of a list answer, or StripeDataError saying what is odd."""
        after = f" after {cursor!r}" if cursor else ""
        if not (
            isinstance(page, Mapping)
            and isinstance(page.get("data"), list)
            and isinstance(page.get("has_more"), bool)
        ):
            raise StripeDataError(self.conn_id, 200, f"the page{after} is not a Stripe list")
        data: list[Any] = page["data"]
        if page["has_more"] and not (data and isinstance(data[-1], Mapping) and "id" in data[-1]):
            # paging on would repeat the same request forever
            raise StripeDataError(
                self.conn_id, 200, f"the page{after} has more but no last id to page from"
            )
        return data, page["has_more"]


__all__ = [
    "PAYOUT_STATUS",
    "StripeDataError",
    "StripeHook",
    "normalised_status",
    "reference",
    "to_payout",
    "to_payout_entry",
    "to_transaction",
]
