"""Processor records in each API's own shape (minor units), built from plain values.

The local processor APIs (``embedded.processors``) serve them and the payments generator
(``worlds.payments``) writes them: one builder per shape, so the two cannot drift.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

__all__ = [
    "balance_transaction",
    "payment",
    "payout_entry",
    "paypal_transaction",
    "rfc3339",
    "square_payout",
    "stripe_payout",
]


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


def stripe_payout(
    payout_id: str,
    *,
    amount: int,
    currency: str,
    created: int,
    arrival_date: int,
    balance_transaction: str,
    status: str = "paid",
    failure_balance_transaction: str | None = None,
    failure_code: str | None = None,
    failure_message: str | None = None,
) -> dict[str, Any]:
    """A Stripe ``payout`` object (``amount`` positive, in minor units; times unix seconds)."""
    return {
        "id": payout_id,
        "object": "payout",
        "amount": amount,
        "arrival_date": arrival_date,
        "automatic": True,
        "balance_transaction": balance_transaction,
        "created": created,
        "currency": currency.lower(),
        "description": "STRIPE PAYOUT",
        "destination": "ba_1RECONBANKACCOUNT0000000",
        "failure_balance_transaction": failure_balance_transaction,
        "failure_code": failure_code,
        "failure_message": failure_message,
        "livemode": False,
        "metadata": {},
        "method": "standard",
        "reconciliation_status": "completed" if status == "paid" else "in_progress",
        "source_type": "card",
        "statement_descriptor": None,
        "status": status,
        "type": "bank_account",
    }


def square_payout(
    payout_id: str,
    *,
    amount: int,
    currency: str,
    created_at: dt.datetime,
    arrival_date: dt.date,
    status: str = "PAID",
    location_id: str = "L0CATI0N0000",
) -> dict[str, Any]:
    """A Square ``Payout`` as ListPayouts returns it (``amount`` in minor units)."""
    when = rfc3339(created_at)
    return {
        "id": payout_id,
        "status": status,
        "location_id": location_id,
        "created_at": when,
        "updated_at": when,
        "amount_money": {"amount": amount, "currency": currency},
        "destination": {"type": "BANK_ACCOUNT", "id": "bact:RECONBANK0000001"},
        "version": 1,
        "type": "BATCH",
        "payout_fee": [],
        "arrival_date": arrival_date.isoformat(),
        "end_to_end_id": f"L2100000{payout_id[-12:].upper()}",
    }


def payout_entry(
    entry_id: str,
    payout_id: str,
    *,
    effective_at: dt.datetime | str,
    type: str,
    gross: int,
    fee: int,
    currency: str,
    payment_id: str | None = None,
    refund_id: str | None = None,
) -> dict[str, Any]:
    """A Square ``PayoutEntry`` (signed minor units; net = gross - fee, as Square computes it).

    Square's Money object names its currency ``currency``; some of its payout examples write
    ``currency_code``: the hook reads either.
    """

    def money(value: int) -> dict[str, Any]:
        return {"amount": value, "currency": currency}

    entry: dict[str, Any] = {
        "id": entry_id,
        "payout_id": payout_id,
        "effective_at": effective_at if isinstance(effective_at, str) else rfc3339(effective_at),
        "type": type,
        "gross_amount_money": money(gross),
        "fee_amount_money": money(fee),
        "net_amount_money": money(gross - fee),
    }
    if type == "CHARGE" and payment_id is not None:
        entry["type_charge_details"] = {"payment_id": payment_id}
    elif type == "REFUND" and payment_id is not None:
        entry["type_refund_details"] = {"payment_id": payment_id, "refund_id": refund_id}
    return entry


def paypal_transaction(
    txn_id: str,
    *,
    event_code: str,
    initiated: str,
    currency: str,
    value: str,
    status: str = "S",
    fee: str | None = None,
    invoice_id: str | None = None,
    account_id: str | None = None,
) -> dict[str, Any]:
    """A ``transaction_details`` item of PayPal's Transaction Search (money as PayPal's decimal
    text; ``fee`` as PayPal signs it: what it takes is negative)."""
    info: dict[str, Any] = {
        "transaction_id": txn_id,
        "transaction_event_code": event_code,
        "transaction_initiation_date": initiated,
        "transaction_updated_date": initiated,
        "transaction_amount": {"currency_code": currency, "value": value},
        "transaction_status": status,
    }
    if account_id is not None:
        info["paypal_account_id"] = account_id
    if fee is not None:
        info["fee_amount"] = {"currency_code": currency, "value": fee}
    if invoice_id is not None:
        info["invoice_id"] = invoice_id
    return {"transaction_info": info}
