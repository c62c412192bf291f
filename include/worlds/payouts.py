"""The payouts of a payments day: each processor's settled transactions of D paid out to the bank.

``generate_payouts(day)`` takes a generated ``PaymentsDay`` and groups, per processor and
currency, what settled on D into one payout (so a day with five currencies has five payouts,
foreign ones included):

- Stripe: the ``available`` charges created on D, a refund and a ``stripe_fee`` in the main
  currency, each payout's own ``payout`` balance transaction (minus its amount); a payout's
  ``amount`` is the sum of its transactions' ``net`` (charges minus fees minus refunds);
- Square: the COMPLETED, unrefunded payments of D as CHARGE entries (net = gross - fee), a
  REFUND and a FEE entry in the main currency; the payout's ``amount_money`` is the entries'
  net;
- PayPal: the ``S`` T0006 payments of D, a T1107 refund (PayPal gives back the fee's variable
  part) and a T0100 fee in the main currency, then one T0400 general withdrawal per currency at
  D+1 00:00 UTC sweeping the balance those left (its amount is minus their net).

Planted cases, one payout each per processor, kept in ``truth``: ``short_by_fees`` (the payout
is its gross less the fees), ``failed`` (Stripe ``failed`` with a failure balance transaction,
Square ``FAILED``, PayPal ``D``), ``foreign_currency`` (the zero-decimal JPY payout, still on its
way: ``in_transit`` / ``SENT`` / ``P``), ``batched`` (the main currency's payout of many
transactions) and ``refund_in_payout`` (the main currency's payout holds a refund).

Money is integers of minor units throughout (as the APIs send it); ``payouts`` and ``entries``
are the expected read-back, in the hooks' normalised words.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Protocol

import numpy as np
import polars as pl

from worlds.payments import PaymentsDay
from worlds.payments.cases import FEES, ZERO_DECIMAL
from worlds.payments.records import PAYPAL_OFFSET
from worlds.processor_records import (
    balance_transaction,
    payout_entry,
    paypal_transaction,
    square_payout,
    stripe_payout,
)

MAIN: Final = "USD"  # the account's own currency: the batched payout, with a refund and a fee
FAILED_CURRENCY: Final = "GBP"
FOREIGN_CURRENCY: Final = "JPY"
SHORT_BY_FEES_CURRENCY: Final = "EUR"
CASES: Final[Mapping[str, str]] = {
    "short_by_fees": SHORT_BY_FEES_CURRENCY,
    "failed": FAILED_CURRENCY,
    "foreign_currency": FOREIGN_CURRENCY,
    "batched": MAIN,
    "refund_in_payout": MAIN,
}
# normalised payout status (the hooks' words) per currency; every other payout is paid
STATUS_BY_CURRENCY: Final = {FAILED_CURRENCY: "failed", FOREIGN_CURRENCY: "in_transit"}
STRIPE_STATUS: Final = {"paid": "paid", "failed": "failed", "in_transit": "in_transit"}
SQUARE_STATUS: Final = {"paid": "PAID", "failed": "FAILED", "in_transit": "SENT"}
PAYPAL_STATUS: Final = {"paid": "S", "failed": "D", "in_transit": "P"}
STRIPE_FEE_PER_CHARGE: Final = 5  # Radar, billed as a stripe_fee balance transaction
SQUARE_FEE: Final = 300  # a FEE entry (a monthly fee) in the main payout
PAYPAL_FEE: Final = 500  # a T0100 non-payment fee
_DAY: Final = 86_400
_ALNUM: Final = np.frombuffer(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "u1"
)

ENTRY_SCHEMA: Final[dict[str, pl.DataType]] = {
    "processor": pl.String(),
    "payout_id": pl.String(),
    "entry_id": pl.String(),
    "type": pl.String(),
    "gross": pl.Int64(),
    "fee": pl.Int64(),
    "net": pl.Int64(),
    "currency": pl.String(),
    "reference": pl.String(),
}
PAYOUT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "processor": pl.String(),
    "payout_id": pl.String(),
    "amount": pl.Int64(),
    "currency": pl.String(),
    "status": pl.String(),
    "created_at": pl.Datetime("us", "UTC"),
}


class Loader(Protocol):
    def load(self, processor: str, records: list[dict[str, Any]]) -> None: ...


@dataclass(frozen=True)
class PayoutWorld:
    """A day's payouts: what the processor APIs serve, and what reading them must give back.

    :ivar records: ``ProcessorApi.load`` name -> records (``stripe``, ``stripe/payouts``,
        ``stripe/payout_links``, ``square/payouts``, ``square/payout_entries``, ``paypal``).
    :ivar payouts: one row per payout (minor units, normalised status).
    :ivar entries: one row per entry of a payout (Stripe's own ``payout`` transaction left out;
        PayPal: the transactions a withdrawal swept), signed minor units, net = gross - fee.
    :ivar truth: one row per planted case and processor: the payout, its amount, gross, fees,
        refunds and entry count.
    """

    business_date: dt.date
    records: Mapping[str, list[dict[str, Any]]]
    payouts: pl.DataFrame
    entries: pl.DataFrame
    truth: pl.DataFrame

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.business_date, dt.time(), dt.UTC)

    def load(self, api: Loader) -> None:
        """Serve every record of this world from ``api`` (a ``ProcessorApi``)."""
        for name, records in self.records.items():
            api.load(name, records)


class _Ids:
    """Processor-shaped random ids from one seeded generator (deterministic per seed)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def __call__(self, prefix: str, length: int, upper: bool = False) -> str:
        alphabet = _ALNUM[:36] if upper else _ALNUM
        return prefix + alphabet[self.rng.integers(0, alphabet.size, length)].tobytes().decode()


def _need(groups: Mapping[str, list[Any]], processor: str) -> None:
    missing = sorted(set(CASES.values()) - {c for c, rows in groups.items() if rows})
    if missing:
        raise ValueError(
            f"{processor}: no settled transaction of D in {', '.join(missing)}: the planted "
            "payouts need each; generate the day with a larger per_processor"
        )


def _settled(
    records: list[dict[str, Any]],
    day_start: int,
    moment: Callable[[dict[str, Any]], float],
    currency: Callable[[dict[str, Any]], str],
    settled: Callable[[dict[str, Any]], bool],
) -> dict[str, list[dict[str, Any]]]:
    """The ``settled`` records of the day, by currency, in the order they came."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if settled(r) and day_start <= moment(r) < day_start + _DAY:
            groups[currency(r)].append(r)
    return groups


def _entry(
    processor: str,
    payout_id: str,
    entry_id: str,
    kind: str,
    gross: int,
    fee: int,
    currency: str,
    reference: str | None,
) -> dict[str, Any]:
    return {
        "processor": processor,
        "payout_id": payout_id,
        "entry_id": entry_id,
        "type": kind,
        "gross": gross,
        "fee": fee,
        "net": gross - fee,
        "currency": currency,
        "reference": reference,
    }


# Stripe ------------------------------------------------------------------------------------


def _stripe(day_start: int, records: list[dict[str, Any]], ids: _Ids) -> dict[str, Any]:
    groups = _settled(
        records,
        day_start,
        lambda r: r["created"],
        lambda r: r["currency"].upper(),
        lambda r: r["type"] == "charge" and r["status"] == "available",
    )
    _need(groups, "stripe")
    balance, payouts, links, rows, entries = list(records), [], [], [], []
    created, arrival = day_start + _DAY + 2 * 3_600, day_start + 3 * _DAY
    for currency in sorted(groups):
        members = list(groups[currency])
        if currency == MAIN:
            charge = members[0]
            refund = balance_transaction(
                ids("txn_", 24),
                amount=-charge["amount"],
                fee=0,
                currency=currency,
                created=min(charge["created"] + 3_600, day_start + _DAY - 1),
                type="refund",
                source=ids("re_", 24),
                description=f"REFUND FOR CHARGE ({charge['description']})",
            )
            radar = balance_transaction(
                ids("txn_", 24),
                amount=-STRIPE_FEE_PER_CHARGE * len(members),
                fee=0,
                currency=currency,
                created=day_start + _DAY - 60,
                type="stripe_fee",
                description=f"Radar ({dt.date.fromtimestamp(day_start):%Y-%m-%d})",
            )
            members += [refund, radar]
            balance += [refund, radar]
        payout_id, own = ids("po_", 24), ids("txn_", 24)
        amount = sum(m["net"] for m in members)
        status = STATUS_BY_CURRENCY.get(currency, "paid")
        failure = ids("txn_", 24) if status == "failed" else None
        payouts.append(
            stripe_payout(
                payout_id,
                amount=amount,
                currency=currency,
                created=created,
                arrival_date=arrival,
                balance_transaction=own,
                status=STRIPE_STATUS[status],
                failure_balance_transaction=failure,
                failure_code="account_closed" if failure else None,
                failure_message="The bank account has been closed." if failure else None,
            )
        )
        own_txn = balance_transaction(
            own,
            amount=-amount,
            fee=0,
            currency=currency,
            created=created,
            type="payout",
            source=payout_id,
            description="STRIPE PAYOUT",
        )
        balance.append(own_txn)
        if failure:  # the funds come back, in a later payout
            balance.append(
                balance_transaction(
                    failure,
                    amount=amount,
                    fee=0,
                    currency=currency,
                    created=arrival,
                    type="payout_failure",
                    source=payout_id,
                    description="STRIPE PAYOUT",
                )
            )
        links += [{"payout": payout_id, "balance_transaction": m["id"]} for m in members]
        links.append({"payout": payout_id, "balance_transaction": own})
        rows.append(_payout("stripe", payout_id, amount, currency, status, created))
        entries += [
            _entry(
                "stripe",
                payout_id,
                m["id"],
                m["type"],
                m["amount"],
                m["fee"],
                currency,
                m["description"],
            )
            for m in members
        ]
    return {
        "records": {"stripe": balance, "stripe/payouts": payouts, "stripe/payout_links": links},
        "payouts": rows,
        "entries": entries,
    }


# Square ------------------------------------------------------------------------------------


def _square(day_start: int, records: list[dict[str, Any]], ids: _Ids) -> dict[str, Any]:
    start = dt.datetime.fromtimestamp(day_start, dt.UTC)
    groups = _settled(
        records,
        day_start,
        lambda r: dt.datetime.fromisoformat(r["created_at"]).timestamp(),
        lambda r: r["total_money"]["currency"],
        lambda r: r["status"] == "COMPLETED" and "refunded_money" not in r,
    )
    _need(groups, "square")
    payouts, objects, rows, entries = [], [], [], []
    created_at = start + dt.timedelta(days=1, hours=1)
    for currency in sorted(groups):
        payout_id = ids("po_", 32).lower()
        mine = []
        for p in groups[currency]:
            fee = sum(f["amount_money"]["amount"] for f in p.get("processing_fee", []))
            mine.append(("CHARGE", p["total_money"]["amount"], fee, p["created_at"], p["id"]))
        if currency == MAIN:
            first = groups[currency][0]
            late = min(created_at - dt.timedelta(minutes=61), start + dt.timedelta(hours=23))
            mine.append(("REFUND", -first["total_money"]["amount"], 0, late, first["id"]))
            mine.append(("FEE", -SQUARE_FEE, 0, late, None))
        amount = sum(gross - fee for _, gross, fee, _, _ in mine)
        status = STATUS_BY_CURRENCY.get(currency, "paid")
        payouts.append(
            square_payout(
                payout_id,
                amount=amount,
                currency=currency,
                created_at=created_at,
                arrival_date=(start + dt.timedelta(days=2)).date(),
                status=SQUARE_STATUS[status],
            )
        )
        rows.append(_payout("square", payout_id, amount, currency, status, created_at))
        for kind, gross, fee, when, payment_id in mine:
            entry_id = ids("poe_", 28)
            objects.append(
                payout_entry(
                    entry_id,
                    payout_id,
                    effective_at=when,
                    type=kind,
                    gross=gross,
                    fee=fee,
                    currency=currency,
                    payment_id=payment_id,
                    refund_id=f"{payment_id}_{ids('', 16)}" if kind == "REFUND" else None,
                )
            )
            entries.append(
                _entry("square", payout_id, entry_id, kind, gross, fee, currency, payment_id)
            )
    return {
        "records": {"square/payouts": payouts, "square/payout_entries": objects},
        "payouts": rows,
        "entries": entries,
    }


# PayPal ------------------------------------------------------------------------------------


def _minor(value: str, currency: str) -> int:
    return int(Decimal(value).scaleb(0 if currency in ZERO_DECIMAL else 2))


def _text(minor: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return str(minor)
    return str(Decimal(minor).scaleb(-2))


def _paypal_time(moment: dt.datetime) -> str:
    return moment.astimezone(PAYPAL_OFFSET).isoformat()


def _paypal(day_start: int, records: list[dict[str, Any]], ids: _Ids) -> dict[str, Any]:
    start = dt.datetime.fromtimestamp(day_start, dt.UTC)
    sweep_at = start + dt.timedelta(days=1)
    groups = _settled(
        [r["transaction_info"] for r in records],
        day_start,
        lambda i: dt.datetime.fromisoformat(i["transaction_initiation_date"]).timestamp(),
        lambda i: i["transaction_amount"]["currency_code"],
        lambda i: i["transaction_status"] == "S" and i["transaction_event_code"] == "T0006",
    )
    _need(groups, "paypal")
    added, rows, entries = [], [], []
    for currency in sorted(groups):
        mine = []
        for info in groups[currency]:
            fee = -_minor(info["fee_amount"]["value"], currency) if "fee_amount" in info else 0
            gross = _minor(info["transaction_amount"]["value"], currency)
            reference = info.get("invoice_id") or info.get("custom_field")
            mine.append((info["transaction_id"], "T0006", gross, fee, reference))
        if currency == MAIN:
            first = groups[currency][0]
            gross = _minor(first["transaction_amount"]["value"], currency)
            kept = FEES["paypal"][1]  # PayPal keeps the fixed part of the fee on a refund
            returned = -max(mine[0][3] - kept, 0)
            refund_id, fee_id = ids("", 17, upper=True), ids("", 17, upper=True)
            when = dt.datetime.fromisoformat(first["transaction_initiation_date"])
            late = min(when + dt.timedelta(hours=1), sweep_at - dt.timedelta(minutes=5))
            reference = first.get("invoice_id") or first.get("custom_field")
            added.append(
                paypal_transaction(
                    refund_id,
                    event_code="T1107",
                    initiated=_paypal_time(late),
                    currency=currency,
                    value=_text(-gross, currency),
                    fee=_text(-returned, currency),
                    invoice_id=reference,
                )
            )
            added.append(
                paypal_transaction(
                    fee_id,
                    event_code="T0100",
                    initiated=_paypal_time(sweep_at - dt.timedelta(minutes=2)),
                    currency=currency,
                    value=_text(-PAYPAL_FEE, currency),
                )
            )
            mine += [
                (refund_id, "T1107", -gross, returned, reference),
                (fee_id, "T0100", -PAYPAL_FEE, 0, None),
            ]
        amount = sum(gross - fee for _, _, gross, fee, _ in mine)
        status = STATUS_BY_CURRENCY.get(currency, "paid")
        sweep_id = ids("", 17, upper=True)
        added.append(
            paypal_transaction(
                sweep_id,
                event_code="T0400",
                initiated=_paypal_time(sweep_at),
                currency=currency,
                value=_text(-amount, currency),
                status=PAYPAL_STATUS[status],
            )
        )
        rows.append(_payout("paypal", sweep_id, amount, currency, status, sweep_at))
        entries += [
            _entry("paypal", sweep_id, txn_id, code, gross, fee, currency, reference)
            for txn_id, code, gross, fee, reference in mine
        ]
    return {"records": {"paypal": [*records, *added]}, "payouts": rows, "entries": entries}


def _payout(
    processor: str, payout_id: str, amount: int, currency: str, status: str, created: Any
) -> dict[str, Any]:
    when = (
        created if isinstance(created, dt.datetime) else dt.datetime.fromtimestamp(created, dt.UTC)
    )
    return {
        "processor": processor,
        "payout_id": payout_id,
        "amount": amount,
        "currency": currency,
        "status": status,
        "created_at": when,
    }


_BUILDERS: Final = {"stripe": _stripe, "paypal": _paypal, "square": _square}


def generate_payouts(day: PaymentsDay, *, seed: int = 23) -> PayoutWorld:
    """The payouts of ``day``'s business date (see the module docstring); deterministic per seed."""
    ids = _Ids(seed)
    day_start = int(day.start.timestamp())
    records: dict[str, list[dict[str, Any]]] = {}
    payouts: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for processor, build in _BUILDERS.items():
        built = build(day_start, day.records[processor], ids)
        records.update(built["records"])
        payouts += built["payouts"]
        entries += built["entries"]
    payout_frame = pl.DataFrame(payouts, schema=PAYOUT_SCHEMA)
    entry_frame = pl.DataFrame(entries, schema=ENTRY_SCHEMA)
    return PayoutWorld(
        day.business_date, records, payout_frame, entry_frame, _truth(payout_frame, entry_frame)
    )


def _truth(payouts: pl.DataFrame, entries: pl.DataFrame) -> pl.DataFrame:
    """One row per planted case and processor, with the payout's sums (minor units)."""
    sums = entries.group_by("processor", "payout_id").agg(
        pl.col("gross").filter(pl.col("gross") > 0).sum().alias("gross"),
        pl.col("fee").sum().alias("fees"),
        (-pl.col("gross").filter(pl.col("type").is_in(["refund", "REFUND", "T1107"])))
        .sum()
        .alias("refunds"),
        pl.len().alias("entries"),
    )
    cases = pl.DataFrame(
        {"case": list(CASES), "currency": list(CASES.values())},
        schema={"case": pl.String(), "currency": pl.String},
    )
    return (
        cases.join(payouts, on="currency", how="left", validate="m:m")
        .join(sums, on=["processor", "payout_id"], how="left", validate="m:1")
        .with_columns(pl.col("entries").cast(pl.Int64))
        .select(
            "processor",
            "case",
            "payout_id",
            "currency",
            "status",
            "amount",
            "gross",
            "fees",
            "refunds",
            "entries",
        )
        .sort("processor", "case")
    )


__all__ = ["CASES", "PayoutWorld", "generate_payouts"]
