"""The payments test world: processors' records in their own API shapes, the ledger, and truth.

The hooks that read these records import Airflow, so the references and amounts are checked on
the raw fields here, by each hook's documented rule (the integration test runs the hooks).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from worlds.fixtures import payments_day_fixture
from worlds.payments import (
    EXPECTED,
    PROCESSORS,
    SHARES,
    PaymentsDay,
    generate_payments_day,
    kind_counts,
    read_truth,
)
from worlds.processor_records import balance_transaction, payment
from worlds.snapshots import LEDGER_SCHEMA

D = dt.date(2026, 11, 20)
PER_PROCESSOR = 400
STRIPE_REFERENCE = re.compile(r"\border ([^\s()]+)")  # the Stripe hook's rule


day = payments_day_fixture(D, per_processor=PER_PROCESSOR, seed=5)


@pytest.fixture(scope="module")
def truth(day: PaymentsDay) -> pl.DataFrame:
    return read_truth(day.truth)


def major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(0 if currency == "JPY" else -2)


def raw(processor: str, record: dict[str, Any]) -> dict[str, Any]:
    """What each hook reads from a record, taken from the raw fields by its documented rule."""
    if processor == "stripe":
        match = STRIPE_REFERENCE.search(record["description"] or "")
        currency = record["currency"].upper()
        return {
            "id": record["id"],
            "reference": match.group(1) if match else None,
            "currency": currency,
            "amount": major(record["amount"], currency),
            "fee": major(record["fee"], currency),
            "created": dt.datetime.fromtimestamp(record["created"], dt.UTC),
        }
    if processor == "paypal":
        info = record["transaction_info"]
        fee = info.get("fee_amount")
        return {
            "id": info["transaction_id"],
            "reference": info.get("invoice_id") or info.get("custom_field"),
            "currency": info["transaction_amount"]["currency_code"],
            "amount": Decimal(info["transaction_amount"]["value"]),
            "fee": -Decimal(fee["value"]) if fee else Decimal(0),
            "created": dt.datetime.fromisoformat(info["transaction_initiation_date"]).astimezone(
                dt.UTC
            ),
        }
    currency = record["total_money"]["currency"]
    fees = sum(f["amount_money"]["amount"] for f in record.get("processing_fee", []))
    return {
        "id": record["id"],
        "reference": record.get("reference_id"),
        "currency": currency,
        "amount": major(record["total_money"]["amount"], currency),
        "fee": major(fees, currency),
        "created": dt.datetime.fromisoformat(record["created_at"]),
    }


def cases(truth: pl.DataFrame, processor: str) -> dict[str, dict[str, Any]]:
    return {row["payment_id"]: row for row in truth.filter(processor=processor).to_dicts()}


# -- determinism and shares ---------------------------------------------------------------------


def test_a_seed_always_gives_the_same_day(tmp_path: Path) -> None:
    first = generate_payments_day(tmp_path / "a", business_date=D, per_processor=120, seed=9)
    again = generate_payments_day(tmp_path / "b", business_date=D, per_processor=120, seed=9)
    other = generate_payments_day(tmp_path / "c", business_date=D, per_processor=120, seed=10)

    assert first.records == again.records
    assert first.truth.read_bytes() == again.truth.read_bytes()
    assert_frame_equal(pl.read_parquet(first.ledger), pl.read_parquet(again.ledger))
    assert first.counts == again.counts
    assert other.truth.read_bytes() != first.truth.read_bytes()
    assert other.records != first.records


@pytest.mark.parametrize("processor", PROCESSORS)
def test_each_processor_has_every_kind_in_its_share(truth: pl.DataFrame, processor: str) -> None:
    got = dict(truth.filter(processor=processor).group_by("kind").len().iter_rows())

    assert got == kind_counts(PER_PROCESSOR)
    for kind, share in SHARES.items():
        assert got[kind] == pytest.approx(PER_PROCESSOR * share, abs=1), kind
    assert got["exact"] / PER_PROCESSOR > 0.8


def test_counts_and_statuses_follow_the_truth(day: PaymentsDay, truth: pl.DataFrame) -> None:
    assert day.counts == dict(truth.group_by("kind").len().iter_rows())
    assert sum(day.counts.values()) == PER_PROCESSOR * len(PROCESSORS)
    assert truth["status"].to_list() == [EXPECTED[k] for k in truth["kind"]]
    assert day.statuses == dict(truth.group_by("status").len().iter_rows())


def test_too_few_cases_or_a_window_out_of_range_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"per_processor=20 is too small: .* give \d+ or more"):
        generate_payments_day(tmp_path, business_date=D, per_processor=20)
    with pytest.raises(ValueError, match="settlement_window 8:00:00 is out of range"):
        generate_payments_day(tmp_path, business_date=D, settlement_window=dt.timedelta(hours=8))


# -- accounting ---------------------------------------------------------------------------------


def test_every_ledger_row_belongs_to_a_case(day: PaymentsDay, truth: pl.DataFrame) -> None:
    ledger = pl.read_parquet(day.ledger)
    booked = ledger.group_by("processor", "payment_id").len("ledger_rows")
    expected = truth.filter(pl.col("ledger_rows") > 0).select(
        "processor", "payment_id", pl.col("ledger_rows").cast(pl.UInt32)
    )

    assert_frame_equal(booked, expected, check_row_order=False)
    assert ledger.height == truth["ledger_rows"].sum()
    assert dict(ledger.schema) == LEDGER_SCHEMA
    assert (ledger["processor_reference"] == ledger["payment_id"]).all()
    assert set(ledger["status"]) == {"paid", "pending", "failed", "refunded"}


@pytest.mark.parametrize("processor", PROCESSORS)
def test_every_record_belongs_to_a_case_by_the_reference_its_hook_reads(
    day: PaymentsDay, truth: pl.DataFrame, processor: str
) -> None:
    seen = [raw(processor, record) for record in day.records[processor]]
    by_reference = Counter(r["reference"] for r in seen)
    mine = cases(truth, processor)
    expected = {pid: row["processor_rows"] for pid, row in mine.items() if row["processor_rows"]}
    ids = {r["id"] for r in seen}

    assert by_reference == expected
    assert len(ids) == len(seen) == truth.filter(processor=processor)["processor_rows"].sum()
    named = truth.filter(processor=processor).select(
        pl.concat_list("transaction_id", "second_transaction_id").list.drop_nulls().explode()
    )
    assert ids == set(named.to_series().drop_nulls())


def test_paypal_carries_the_reference_in_invoice_id_or_custom_field(day: PaymentsDay) -> None:
    infos = [record["transaction_info"] for record in day.records["paypal"]]
    places = Counter(("invoice_id" in i, "custom_field" in i) for i in infos)

    assert set(places) == {(True, False), (False, True)}
    assert places[(False, True)] < places[(True, False)]


@pytest.mark.parametrize("processor", PROCESSORS)
def test_each_record_shows_its_case_values(
    day: PaymentsDay, truth: pl.DataFrame, processor: str
) -> None:
    mine = cases(truth, processor)
    for record in day.records[processor]:
        seen = raw(processor, record)
        case = mine[seen["reference"]]
        assert seen["id"] in (case["transaction_id"], case["second_transaction_id"])
        assert seen["amount"] == case["processor_amount"], case
        assert seen["fee"] == case["processor_fee"], case
        assert seen["currency"] == case["processor_currency"], case
        if seen["id"] == case["transaction_id"]:
            assert seen["created"] == case["created_at"], case


# -- the planted kinds --------------------------------------------------------------------------


def test_one_thing_differs_per_break(truth: pl.DataFrame) -> None:
    both = truth.filter((pl.col("ledger_rows") > 0) & (pl.col("processor_rows") > 0))
    same = {
        "amount": pl.col("ledger_amount") == pl.col("processor_amount"),
        "currency": pl.col("ledger_currency") == pl.col("processor_currency"),
        "fee": pl.col("ledger_fee") == pl.col("processor_fee"),
    }
    differs = both.select(
        "kind", "processor", *(expr.not_().alias(name) for name, expr in same.items())
    )
    for kind, column in (("amount", "amount"), ("currency", "currency"), ("fee_mismatch", "fee")):
        rows = differs.filter(kind=kind)
        assert rows[column].all(), kind
        assert (
            not rows.select(pl.any_horizontal(pl.exclude("kind", "processor", column)))
            .to_series()
            .any()
        )
    untouched = differs.filter(
        ~pl.col("kind").is_in(["amount", "currency", "fee_mismatch", "failed_payment"])
    )
    assert not untouched.select(pl.any_horizontal("amount", "currency", "fee")).to_series().any()


def test_a_failed_payment_looks_like_a_failure_at_each_processor(
    day: PaymentsDay, truth: pl.DataFrame
) -> None:
    failed = truth.filter(kind="failed_payment")
    assert set(failed["ledger_status"]) == {"paid"}
    assert set(failed["processor_status"]) == {"failed"}
    assert (failed["processor_fee"] == 0).all() and (failed["ledger_fee"] > 0).all()
    ids = set(failed["transaction_id"])

    stripe = [r for r in day.records["stripe"] if r["id"] in ids]
    assert stripe and all(
        r["type"] == "payment_failure_refund" and r["amount"] < 0 and r["fee"] == 0 for r in stripe
    )
    paypal = [r["transaction_info"] for r in day.records["paypal"]]
    paypal = [i for i in paypal if i["transaction_id"] in ids]
    assert paypal and all(i["transaction_status"] == "D" and "fee_amount" not in i for i in paypal)
    square = [r for r in day.records["square"] if r["id"] in ids]
    assert square and all(r["status"] == "FAILED" and "processing_fee" not in r for r in square)


def test_duplicates_repeat_the_reference_on_one_side(day: PaymentsDay, truth: pl.DataFrame) -> None:
    ledger = pl.read_parquet(day.ledger)
    twice = truth.filter(kind="duplicate_in_ledger")
    rows = ledger.join(twice.select("payment_id"), on="payment_id", validate="m:1")
    assert rows.height == 2 * twice.height
    assert rows.drop("booked_at").unique().height == twice.height  # the same booking, twice

    at_processor = truth.filter(kind="duplicate_at_processor")
    assert at_processor["second_transaction_id"].null_count() == 0
    assert (at_processor["transaction_id"] != at_processor["second_transaction_id"]).all()
    assert (
        truth.filter(pl.col("kind") != "duplicate_at_processor")["second_transaction_id"]
        .is_null()
        .all()
    )


def test_timing_cases_straddle_midnight_inside_the_window(
    day: PaymentsDay, truth: pl.DataFrame
) -> None:
    window = day.settlement_window
    timing = truth.filter(kind="timing")

    assert timing.height == day.counts["timing"]
    for row in timing.iter_rows(named=True):
        assert day.start <= row["booked_at"] < day.end <= row["created_at"] < day.settlement_end
        assert row["created_at"] - row["booked_at"] <= window
    settled = truth.filter(kind="previous_day_settled")
    for row in settled.iter_rows(named=True):
        assert row["booked_at"] < day.start <= row["created_at"] < day.start + window
    in_window = truth.filter(kind="next_day_in_window")
    for row in in_window.iter_rows(named=True):
        assert day.end <= row["booked_at"] <= row["created_at"] < day.settlement_end


def test_the_other_days_are_outside_the_window_and_the_day_inside(
    day: PaymentsDay, truth: pl.DataFrame
) -> None:
    edge = day.start - day.settlement_window
    before = truth.filter(kind="previous_day")
    assert (before["booked_at"] < edge).all() and (before["created_at"] < edge).all()
    after = truth.filter(kind="next_day")
    assert (after["booked_at"] >= day.settlement_end).all()
    assert (after["created_at"] >= day.settlement_end).all()

    on_day = truth.filter(pl.col("status") != "excluded", pl.col("kind") != "timing")
    for column in ("booked_at", "created_at"):
        present = on_day[column].drop_nulls()
        assert present.is_between(day.start, day.end, closed="left").all(), column


def test_jpy_is_whole_everywhere(day: PaymentsDay, truth: pl.DataFrame) -> None:
    ledger = pl.read_parquet(day.ledger).filter(currency="JPY")
    assert ledger.height > 0
    for column in ("amount", "fee"):
        assert (ledger[column] == ledger[column].cast(pl.Int64).cast(pl.Decimal(18, 2))).all()
    currency = pl.coalesce("ledger_currency", "processor_currency")
    jpy_kinds = truth.filter(currency == "JPY").group_by("processor").agg(pl.col("kind"))
    for processor, kinds in jpy_kinds.iter_rows():
        assert set(kinds) == set(EXPECTED) - {"currency"}, processor

    for info in (r["transaction_info"] for r in day.records["paypal"]):
        if info["transaction_amount"]["currency_code"] == "JPY":
            assert "." not in info["transaction_amount"]["value"]
            assert "." not in info.get("fee_amount", {"value": ""})["value"]
    for record in day.records["stripe"]:
        if record["currency"] == "jpy":
            assert isinstance(record["amount"], int)
    whole = truth.filter(processor_currency="JPY")["processor_amount"]
    assert (whole == whole.cast(pl.Int64).cast(pl.Decimal(18, 2))).all()


# -- the shapes match the embedded APIs' own builders ------------------------------------------


def test_stripe_records_are_balance_transactions(day: PaymentsDay) -> None:
    for record in day.records["stripe"][:50] + day.records["stripe"][-50:]:
        built = balance_transaction(
            record["id"],
            amount=record["amount"],
            fee=record["fee"],
            currency=record["currency"],
            created=record["created"],
            type=record["type"],
            status=record["status"],
            source=record["source"],
            description=record["description"],
        )
        assert built == record


def test_square_records_are_payments(day: PaymentsDay) -> None:
    for record in day.records["square"]:
        built = payment(
            record["id"],
            dt.datetime.fromisoformat(record["created_at"]),
            record["amount_money"]["amount"],
            record["amount_money"]["currency"],
            status=record["status"],
            fees=[f["amount_money"]["amount"] for f in record.get("processing_fee", [])],
            refunded=record.get("refunded_money", {}).get("amount", 0),
            reference_id=record["reference_id"],
        )
        assert built == record
