"""Each processor's records of a day's cases, in the processor's own API shape.

Stripe balance transactions, PayPal ``transaction_details`` items, Square ``Payment`` objects,
each carrying our payment id where that processor's hook reads the reference (see the package's
docstring); built with ``worlds.processor_records`` so the tests' records have the same shape.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import polars as pl

from worlds.payments.cases import ZERO_DECIMAL, utc
from worlds.processor_records import balance_transaction, payment

PAYPAL_OFFSET: Final = dt.timezone(dt.timedelta(hours=-8))  # PayPal dates in the account's zone


def _processor_rows(cases: pl.DataFrame) -> pl.DataFrame:
    """One row per processor record (a duplicate's second record too), oldest first."""
    columns = (
        "payment_id",
        pl.col("processor_currency").alias("currency"),
        pl.col("processor_minor").alias("amount"),
        pl.col("processor_fee_minor").alias("fee"),
        pl.col("ledger_fee_minor").alias("booked_fee"),
        pl.col("processor_status").alias("status"),
        "payer",
        "in_custom_field",
        "fee_adjusted",
    )
    first = cases.filter(pl.col("processor_rows") >= 1).select(
        "transaction_id", "created", *columns
    )
    second = cases.filter(pl.col("processor_rows") == 2).select(
        pl.col("second_transaction_id").alias("transaction_id"),
        pl.col("second_created").alias("created"),
        *columns,
    )
    return pl.concat([first, second]).sort("created", "transaction_id")


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic GC while building records: millions of small acyclic dicts would make it
    rescan everything again and again (half the time of a million records)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _rows(frame: pl.DataFrame, *columns: str | pl.Expr) -> Iterator[tuple[Any, ...]]:
    """The frame's rows as tuples of the given columns (expressions computed in one pass)."""
    chosen = frame.select(
        (pl.col(column) if isinstance(column, str) else column).alias(f"c{i}")
        for i, column in enumerate(columns)
    )
    return zip(*(series.to_list() for series in chosen.iter_columns()), strict=True)


def _stripe_records(cases: pl.DataFrame) -> list[dict[str, Any]]:
    """Stripe balance transactions of the processor-side cases."""
    records = []
    failed = pl.col("status") == "failed"
    rows = _rows(
        _processor_rows(cases),
        "transaction_id",
        "created",
        "amount",
        "fee",
        pl.col("currency").str.to_lowercase(),
        pl.when(failed)
        .then(pl.format("PAYMENT FAILURE REFUND (order {})", "payment_id"))
        .otherwise(pl.format("order {}", "payment_id")),
        pl.when(failed).then(pl.lit("payment_failure_refund")).otherwise(pl.lit("charge")),
        pl.when(failed).then(pl.lit("py_")).otherwise(pl.lit("ch_"))
        + pl.col("transaction_id").str.slice(4),
        pl.when(pl.col("status") == "pending")
        .then(pl.lit("pending"))
        .otherwise(pl.lit("available")),
    )
    for txn_id, created, amount, fee, currency, description, txn_type, source, status in rows:
        records.append(
            balance_transaction(
                txn_id,
                amount=amount,
                fee=fee,
                currency=currency,
                created=created,
                type=txn_type,
                status=status,
                source=source,
                description=description,
            )
        )
    return records


_PAYPAL_STATUS: Final = {"succeeded": "S", "pending": "P", "failed": "D", "refunded": "V"}


def _paypal_records(cases: pl.DataFrame) -> list[dict[str, Any]]:
    """``transaction_details`` items as the Transaction Search API returns them."""
    records = []
    offset = PAYPAL_OFFSET.utcoffset(None)
    hours, minutes = divmod(abs(int(offset.total_seconds())) // 60, 60)
    zone = f"{'-' if offset < dt.timedelta(0) else '+'}{hours:02d}:{minutes:02d}"
    rows = _rows(
        _processor_rows(cases),
        "transaction_id",
        (utc("created") + offset).dt.strftime(f"%Y-%m-%dT%H:%M:%S{zone}"),
        "currency",
        _money_text("amount", "currency"),
        pl.when(pl.col("fee") != 0).then(_money_text(-pl.col("fee"), "currency")),
        pl.col("status").replace_strict(_PAYPAL_STATUS, return_dtype=pl.String),
        pl.when("in_custom_field").then(pl.lit("custom_field")).otherwise(pl.lit("invoice_id")),
        "payment_id",
        "payer",
        pl.col("payer").str.to_lowercase() + "@example.com",
    )
    for txn_id, when, currency, value, fee, status, where, payment_id, payer, email in rows:
        info: dict[str, Any] = {
            "paypal_account_id": payer,
            "transaction_id": txn_id,
            "transaction_event_code": "T0006",
            "transaction_initiation_date": when,
            "transaction_updated_date": when,
            "transaction_amount": {"currency_code": currency, "value": value},
            "transaction_status": status,
            "protection_eligibility": "01",
        }
        if fee is not None:  # PayPal omits fee_amount when no fee applies, and signs it minus
            info["fee_amount"] = {"currency_code": currency, "value": fee}
        info[where] = payment_id  # invoice_id, or custom_field (the hook's fallback)
        records.append(
            {"transaction_info": info, "payer_info": {"account_id": payer, "email_address": email}}
        )
    return records


_SQUARE_STATUS: Final = {
    "succeeded": "COMPLETED",
    "pending": "APPROVED",
    "failed": "FAILED",
    "refunded": "COMPLETED",
}


def _square_records(cases: pl.DataFrame) -> list[dict[str, Any]]:
    """Square ``Payment`` objects of the processor-side cases."""
    records = []
    rows = _rows(
        _processor_rows(cases),
        "transaction_id",
        utc("created").dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "amount",
        "currency",
        "fee",
        "booked_fee",
        "fee_adjusted",
        "status",
        "payment_id",
    )
    for txn_id, when, amount, currency, fee, booked_fee, adjusted, status, payment_id in rows:
        square_status = _SQUARE_STATUS[status]
        # Square adds processing_fee once a payment completes; a correction is an ADJUSTMENT
        fees = [fee] if fee or square_status == "COMPLETED" else []
        if adjusted and fee != booked_fee:
            fees = [booked_fee, fee - booked_fee]
        records.append(
            payment(
                txn_id,
                when,
                amount,
                currency,
                status=square_status,
                fees=fees,
                refunded=amount if status == "refunded" else 0,
                reference_id=payment_id,
            )
        )
    return records


RECORDS: Final = {"stripe": _stripe_records, "paypal": _paypal_records, "square": _square_records}


def _money_text(minor: str | pl.Expr, currency: str) -> pl.Expr:
    """Minor units as PayPal writes money: ``12.34``, ``-0.66``; zero-decimal whole: ``1200``."""
    value = pl.col(minor) if isinstance(minor, str) else minor
    units = (value.abs() // 100).cast(pl.String)
    cents = (value.abs() % 100).cast(pl.String).str.zfill(2)
    sign = pl.when(value < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return (
        pl.when(pl.col(currency).is_in(list(ZERO_DECIMAL)))
        .then(value.cast(pl.String))
        .otherwise(pl.format("{}{}.{}", sign, units, cents))
    )
