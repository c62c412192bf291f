"""Square's payments as normalised transactions: ``SquareHook.transactions(start, end)``.

ListPayments (``GET /v2/payments``) with ``begin_time`` (inclusive) and ``end_time``
(exclusive) on ``created_at``, oldest first, 100 a page (Square's maximum), following
``cursor`` until an answer has none. The connection's password is the access token, sent as
``Authorization: Bearer``; ``Square-Version`` pins the API version the mapping was written for.

Mapping (Square ``Payment`` -> ``Transaction``):

- gross is ``total_money`` (amount + tip: what the buyer paid, what Square assesses its fee on
  and settles), ``amount_money`` when a payment has no total;
- fee is the sum of ``processing_fee[].amount_money`` (INITIAL and ADJUSTMENT entries; Square
  adds them once the payment completes, so 0 before); net = gross - fee;
- amounts are minor units turned into exact major units (zero-decimal currencies kept whole);
- status: COMPLETED -> succeeded, APPROVED/PENDING -> pending, FAILED -> failed, CANCELED ->
  canceled; a COMPLETED payment whose ``refunded_money`` covers its whole gross -> refunded (a
  partial refund leaves it succeeded: the payment itself settled);
- created_at in UTC; reference is ``reference_id`` (our payment id), None when absent.

``payouts(start, end)`` (ListPayouts, ``begin_time``/``end_time`` on the payout's creation,
optional ``location_id``) and ``payout_entries(payout_id)`` (ListPayoutEntries) page the same
way into ``Payout`` (SENT: in transit, PAID: paid, FAILED: failed) and ``PayoutEntry`` (the
entry's ``type`` as Square says it, CHARGE, REFUND, FEE...; gross, fee and net signed as Square
signs them, net = gross - fee checked; reference: the entry's payment id).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final
from urllib.parse import quote

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
    ProcessorRefusedError,
    Transaction,
    minor_to_major,
)

log = logging.getLogger(__name__)

LIST_PAYMENTS: Final = "/v2/payments"
LIST_PAYOUTS: Final = "/v2/payouts"
PAGE_SIZE: Final = 100  # Square's maximum (and default) for ListPayments
SQUARE_VERSION: Final = "2022-12-14"

STATUS: Final[Mapping[str, str]] = {
    "COMPLETED": SUCCEEDED,
    "APPROVED": PENDING,
    "PENDING": PENDING,
    "FAILED": FAILED,
    "CANCELED": CANCELED,
}


class SquareHook(ProcessorHook):
    """Square's Payments API from an Airflow connection (host = base URL, password = token).

    :param square_version: the ``Square-Version`` header; default ``SQUARE_VERSION``, or the
        connection extra ``square_version``.
    """

    default_conn_name = "recon_square"
    hook_name = "Square"
    processor = "square"

    def __init__(
        self,
        conn_id: str = default_conn_name,
        *,
        square_version: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id, **kwargs)
        self.square_version = square_version

    def _headers(self) -> dict[str, str]:
        conn = self.get_connection(self.conn_id)
        if not conn.password:
            raise ProcessorAuthError(
                self.conn_id, None, "the connection has no password (the Square access token)"
            )
        version = self.square_version or conn.extra_dejson.get("square_version") or SQUARE_VERSION
        return {"Authorization": f"Bearer {conn.password}", "Square-Version": str(version)}

    def payments(self, start: dt.datetime, end: dt.datetime) -> Iterator[dict[str, Any]]:
        """Square ``Payment`` objects created in ``[start, end)``, oldest first, page by page."""
        params = {"begin_time": _rfc3339(start), "end_time": _rfc3339(end), "sort_order": "ASC"}
        yield from self._paged(LIST_PAYMENTS, params, "payments")

    def payouts(
        self, start: dt.datetime, end: dt.datetime, *, location_id: str | None = None
    ) -> Iterator[Payout]:
        """Payouts created in ``[start, end)`` (of ``location_id``, else the main location),
        oldest first, page by page (``GET /v2/payouts``)."""
        params = {"begin_time": _rfc3339(start), "end_time": _rfc3339(end), "sort_order": "ASC"}
        if location_id:
            params["location_id"] = location_id
        for record in self._paged(LIST_PAYOUTS, params, "payouts"):
            yield to_payout(record, conn_id=self.conn_id)

    def payout_entries(self, payout_id: str) -> Iterator[PayoutEntry]:
        """Every entry of ``payout_id``, oldest first (``GET /v2/payouts/{id}/payout-entries``)."""
        if not payout_id:
            raise ValueError("no payout id")
        path = f"{LIST_PAYOUTS}/{quote(payout_id, safe='')}/payout-entries"
        for record in self._paged(path, {"sort_order": "ASC"}, "payout_entries"):
            yield to_payout_entry(record, conn_id=self.conn_id)

    def _paged(self, path: str, params: Mapping[str, Any], key: str) -> Iterator[dict[str, Any]]:
        """Every object under ``key`` of a Square list, 100 a page, following ``cursor``."""
        headers = self._headers()
        params = {**params, "limit": PAGE_SIZE}
        cursor: str | None = None
        pages = count = 0
        while True:
            query = dict(params, cursor=cursor) if cursor else params
            body = self.get_json(path, params=query, headers=headers)
            pages += 1
            batch = body.get(key, []) if isinstance(body, dict) else None
            if not isinstance(batch, list):
                raise ProcessorRefusedError(
                    self.conn_id, 200, f"page {pages} of {path} is not a {key} list"
                )
            log.debug("square: %s page %d, %d %s", path, pages, len(batch), key)
            count += len(batch)
            yield from batch
            following = body.get("cursor")
            if not following:
                log.info("square: %d %s in %d pages", count, key, pages)
                return
            if following == cursor:
                raise ProcessorRefusedError(self.conn_id, 200, f"page {pages} repeats its cursor")
            cursor = str(following)

    def transactions(self, start: dt.datetime, end: dt.datetime) -> Iterator[Transaction]:
        """Every payment created in ``[start, end)`` (naive times are UTC), normalised."""
        for record in self.payments(start, end):
            yield to_transaction(record, conn_id=self.conn_id)


class SquareDataError(ProcessorError, ProcessorDataError):
    """A Square payment cannot be normalised (bad data: not retried)."""


def to_transaction(payment: Mapping[str, Any], *, conn_id: str = "") -> Transaction:
    """One Square ``Payment`` as a ``Transaction`` (the rules in the module docstring)."""
    payment_id = str(payment.get("id") or "")

    def bad(problem: str) -> ProcessorError:
        return SquareDataError(conn_id, 200, f"payment {payment_id or '?'}: {problem}")

    money = payment.get("total_money") or payment.get("amount_money")
    if not payment_id or not isinstance(money, Mapping):
        raise bad("no id or no total_money/amount_money")
    currency = str(money.get("currency") or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise bad(f"currency {money.get('currency')!r} is not an ISO 4217 code")
    gross = _minor(money, currency, bad, "total_money")
    fee = 0
    for entry in payment.get("processing_fee") or []:
        fee += _minor(entry.get("amount_money") or {}, currency, bad, "processing_fee")

    square_status = str(payment.get("status") or "")
    status = STATUS.get(square_status)
    if status is None:
        raise bad(f"unknown status {square_status!r} (expected one of {', '.join(STATUS)})")
    refunded = payment.get("refunded_money")
    refunded_minor = _minor(refunded, currency, bad, "refunded_money") if refunded else 0
    if status == SUCCEEDED and 0 < gross <= refunded_minor:
        status = REFUNDED  # a partial refund leaves the payment succeeded

    try:
        created = dt.datetime.fromisoformat(str(payment.get("created_at")))
    except ValueError:
        raise bad(f"created_at {payment.get('created_at')!r} is not RFC 3339") from None
    if created.tzinfo is None:
        raise bad(f"created_at {payment.get('created_at')!r} has no UTC offset")

    reference = payment.get("reference_id")
    return Transaction(
        processor="square",
        transaction_id=payment_id,
        gross=minor_to_major(gross, currency),
        fee=minor_to_major(fee, currency),
        net=minor_to_major(gross - fee, currency),
        currency=currency,
        status=status,
        created_at=created.astimezone(dt.UTC),
        reference=str(reference) if reference else None,
    )


PAYOUT_STATUS: Final[Mapping[str, str]] = {"SENT": IN_TRANSIT, "PAID": PAID, "FAILED": FAILED}


def _money(
    record: Mapping[str, Any], field: str, bad: Callable[[str], ProcessorError]
) -> tuple[int, str]:
    """A payout Money field as (minor units, currency); ``currency`` as Square's Money names
    it, or ``currency_code`` as some of its payout examples write it."""
    money = record.get(field)
    if not isinstance(money, Mapping):
        raise bad(f"no {field}")
    currency = str(money.get("currency") or money.get("currency_code") or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise bad(f"{field} currency {currency!r} is not an ISO 4217 code")
    amount = money.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise bad(f"{field} amount {amount!r} is not an integer of minor units")
    return amount, currency


def _utc(
    record: Mapping[str, Any], field: str, bad: Callable[[str], ProcessorError]
) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(record.get(field)))
    except ValueError:
        raise bad(f"{field} {record.get(field)!r} is not RFC 3339") from None
    if moment.tzinfo is None:
        raise bad(f"{field} {record.get(field)!r} has no UTC offset")
    return moment.astimezone(dt.UTC)


def _identified(
    record: Mapping[str, Any], noun: str, conn_id: str
) -> tuple[str, Callable[[str], ProcessorError]]:
    """The record's id, and how to say what is wrong with it (raised at once without an id)."""
    record_id = str(record.get("id") or "")

    def bad(problem: str) -> ProcessorError:
        return SquareDataError(conn_id, 200, f"{noun} {record_id or '?'}: {problem}")

    if not record_id:
        raise bad("no id")
    return record_id, bad


def to_payout(record: Mapping[str, Any], *, conn_id: str = "") -> Payout:
    """One Square ``Payout`` as a ``Payout`` (SENT is in transit, PAID paid, FAILED failed)."""
    payout_id, bad = _identified(record, "payout", conn_id)
    amount, currency = _money(record, "amount_money", bad)
    status = PAYOUT_STATUS.get(str(record.get("status")))
    if status is None:
        raise bad(f"unknown status {record.get('status')!r} (expected {', '.join(PAYOUT_STATUS)})")
    arrival = record.get("arrival_date")
    try:
        arrival_date = dt.date.fromisoformat(arrival) if arrival else None
    except (TypeError, ValueError):
        raise bad(f"arrival_date {arrival!r} is not YYYY-MM-DD") from None
    return Payout(
        processor="square",
        payout_id=payout_id,
        amount=minor_to_major(amount, currency),
        currency=currency,
        status=status,
        created_at=_utc(record, "created_at", bad),
        arrival_date=arrival_date,
    )


def to_payout_entry(record: Mapping[str, Any], *, conn_id: str = "") -> PayoutEntry:
    """One Square ``PayoutEntry`` (signed; net must be gross - fee, as Square computes it)."""
    entry_id, bad = _identified(record, "payout entry", conn_id)
    gross, currency = _money(record, "gross_amount_money", bad)
    fee, fee_currency = _money(record, "fee_amount_money", bad)
    net, net_currency = _money(record, "net_amount_money", bad)
    if {fee_currency, net_currency} != {currency}:
        raise bad(f"money in {currency}, {fee_currency} and {net_currency}")
    if net != gross - fee:
        raise bad(f"net {net} is not gross {gross} - fee {fee}")
    details = record.get("type_charge_details") or record.get("type_refund_details") or {}
    return PayoutEntry(
        processor="square",
        payout_id=str(record.get("payout_id") or ""),
        entry_id=entry_id,
        type=str(record.get("type") or ""),
        gross=minor_to_major(gross, currency),
        fee=minor_to_major(fee, currency),
        net=minor_to_major(net, currency),
        currency=currency,
        effective_at=_utc(record, "effective_at", bad),
        reference=details.get("payment_id") if isinstance(details, Mapping) else None,
    )


def _minor(
    money: Mapping[str, Any], currency: str, bad: Callable[[str], ProcessorError], field: str
) -> int:
    """A Money object's amount in minor units, checked to be in the payment's currency."""
    amount = money.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise bad(f"{field} amount {amount!r} is not an integer of minor units")
    if str(money.get("currency") or "").upper() != currency:
        raise bad(f"{field} in {money.get('currency')!r}, the payment in {currency!r}")
    return amount


def _rfc3339(moment: dt.datetime) -> str:
    """UTC, RFC 3339 with a ``Z`` (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


__all__ = [
    "PAGE_SIZE",
    "PAYOUT_STATUS",
    "SQUARE_VERSION",
    "STATUS",
    "SquareHook",
    "to_payout",
    "to_payout_entry",
    "to_transaction",
]
