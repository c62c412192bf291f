"""Processor records in each API's own shape (minor units), built from plain values.

The local processor APIs (``embedded.processors``) serve them and the payments generator
(``worlds.payments``) writes them: one builder per shape, so the two cannot drift.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

__all__ = ["balance_transaction", "payment", "rfc3339"]


def balance_transaction(
    txn_id: str,
    *,
    amount: int,
    fee: int,
    currency: str,
    created: int,
    type: str = "charge",
    status: str = "available",
    source: str | None = None,
    description: str | None = None,
    available_on: int | None = None,
    reporting_category: str | None = None,
) -> dict[str, Any]:
    """One record in Stripe's balance_transaction shape (amounts signed, in minor units)."""
    return {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": created + 2 * 86_400 if available_on is None else available_on,
        "created": created,
        "currency": currency.lower(),
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": (
            [
                {
                    "amount": fee,
                    "application": None,
                    "currency": currency.lower(),
                    "description": "Stripe processing fees",
                    "type": "stripe_fee",
                }
            ]
            if fee
            else []
        ),
        "net": amount - fee,
        "reporting_category": reporting_category or _REPORTING_CATEGORY.get(type, type),
        "source": source,
        "status": status,
        "type": type,
    }


_REPORTING_CATEGORY: Final = {
    "charge": "charge",
    "payment": "charge",
    "refund": "refund",
    "payment_refund": "refund",
    "payout": "payout",
    "adjustment": "other_adjustment",
    "stripe_fee": "fee",
}


def payment(
    payment_id: str,
    created_at: dt.datetime | str,
    amount: int,
    currency: str,
    *,
    status: str = "COMPLETED",
    tip: int = 0,
    fees: Sequence[int] | None = None,
    refunded: int = 0,
    reference_id: str | None = None,
    source_type: str = "CARD",
    note: str | None = None,
) -> dict[str, Any]:
    """A Square ``Payment`` as ListPayments returns it (amounts in minor units).

    :param fees: processing fee amounts; default: one INITIAL fee of 2.9% + 30 minor units
        once COMPLETED (Square adds ``processing_fee`` when the payment completes), none before.
    """
    when = created_at if isinstance(created_at, str) else rfc3339(created_at)

    def money(value: int) -> dict[str, Any]:
        return {"amount": value, "currency": currency}

    record: dict[str, Any] = {
        "id": payment_id,
        "created_at": when,
        "updated_at": when,
        "amount_money": money(amount),
        "total_money": money(amount + tip),
        "approved_money": money(amount + tip),
        "status": status,
        "source_type": source_type,
        "location_id": "L0CATI0N0000",
        "order_id": f"order-{payment_id}",
    }
    if tip:
        record["tip_money"] = money(tip)
    if fees is None:
        fees = [round((amount + tip) * 0.029) + 30] if status == "COMPLETED" else []
    if fees:
        record["processing_fee"] = [
            {
                "effective_at": when,
                "type": "INITIAL" if i == 0 else "ADJUSTMENT",
                "amount_money": money(fee),
            }
            for i, fee in enumerate(fees)
        ]
    if refunded:
        record["refunded_money"] = money(refunded)
    if reference_id is not None:
        record["reference_id"] = reference_id
    if note is not None:
        record["note"] = note
    return record


def rfc3339(value: dt.datetime) -> str:
    """UTC, milliseconds, ``Z``: how Square writes its times."""
    text = value.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")
