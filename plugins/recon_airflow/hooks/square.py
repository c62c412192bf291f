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
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from recon_airflow.hooks.processor import (
    CANCELED,
    FAILED,
    PENDING,
    REFUNDED,
    SUCCEEDED,
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
        headers = self._headers()
        params = {
            "begin_time": _rfc3339(start),
            "end_time": _rfc3339(end),
            "sort_order": "ASC",
            "limit": PAGE_SIZE,
        }
        cursor: str | None = None
        pages = count = 0
        while True:
            query = dict(params, cursor=cursor) if cursor else params
            body = self.get_json(LIST_PAYMENTS, params=query, headers=headers)
            pages += 1
            batch = body.get("payments", []) if isinstance(body, dict) else None
            if not isinstance(batch, list):
                raise ProcessorRefusedError(
                    self.conn_id, 200, f"page {pages} is not a payments list"
                )
            log.debug("square: page %d, %d payments", pages, len(batch))
            count += len(batch)
            yield from batch
            following = body.get("cursor")
            if not following:
                log.info("square: %d payments in %d pages", count, pages)
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


__all__ = ["PAGE_SIZE", "SQUARE_VERSION", "STATUS", "SquareHook", "to_transaction"]
