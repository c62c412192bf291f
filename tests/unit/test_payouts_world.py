"""The payouts world: every payout is the net of its entries, the planted cases hold, and the
same seed gives the same world."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from worlds.fixtures import payments_day_fixture
from worlds.payments import PaymentsDay, generate_payments_day
from worlds.payouts import CASES, PayoutWorld, generate_payouts

D = dt.date(2026, 11, 20)
day = payments_day_fixture(D, per_processor=400, seed=5)


@pytest.fixture(scope="module")
def world(day: PaymentsDay) -> PayoutWorld:
    return generate_payouts(day, seed=3)


def test_every_payout_is_the_sum_of_its_entries_nets(world: PayoutWorld) -> None:
    sums = world.entries.group_by("processor", "payout_id").agg(pl.col("net").sum())
    joined = world.payouts.join(sums, on=["processor", "payout_id"], how="left", validate="1:1")
    assert joined.height == 15  # five currencies at each of three processors
    assert (joined["amount"] == joined["net"]).all()
    assert (world.entries["net"] == world.entries["gross"] - world.entries["fee"]).all()
    assert (world.payouts["amount"] > 0).all()


def test_stripe_records_agree_with_the_entries(world: PayoutWorld) -> None:
    by_id = {r["id"]: r for r in world.records["stripe"]}
    for payout in world.records["stripe/payouts"]:
        linked = [
            by_id[link["balance_transaction"]]
            for link in world.records["stripe/payout_links"]
            if link["payout"] == payout["id"]
        ]
        own = [t for t in linked if t["type"] == "payout"]
        assert [t["id"] for t in own] == [payout["balance_transaction"]]
        assert own[0]["amount"] == -payout["amount"]
        assert sum(t["net"] for t in linked) == 0  # the payout empties what it paid out


def test_paypal_sweeps_debit_the_balance_of_the_day(world: PayoutWorld) -> None:
    sweeps = [
        r["transaction_info"]
        for r in world.records["paypal"]
        if r["transaction_info"]["transaction_event_code"] == "T0400"
    ]
    amounts = {i["transaction_id"]: i["transaction_amount"]["value"] for i in sweeps}
    paypal = world.payouts.filter(pl.col("processor") == "paypal")
    assert len(amounts) == paypal.height == 5
    usd = paypal.filter(pl.col("currency") == "USD").row(0, named=True)
    assert amounts[usd["payout_id"]] == f"-{usd['amount'] // 100}.{usd['amount'] % 100:02d}"
    jpy = paypal.filter(pl.col("currency") == "JPY").row(0, named=True)
    assert amounts[jpy["payout_id"]] == f"-{jpy['amount']}"  # zero-decimal: whole yen


def test_the_truth_holds_every_planted_case(world: PayoutWorld) -> None:
    truth = world.truth
    assert truth.height == len(CASES) * 3
    assert truth["payout_id"].null_count() == 0
    for processor in ("stripe", "paypal", "square"):
        case = {r["case"]: r for r in truth.filter(pl.col("processor") == processor).to_dicts()}
        short = case["short_by_fees"]
        assert short["fees"] > 0 and short["amount"] == short["gross"] - short["fees"]
        assert case["failed"]["status"] == "failed"
        assert case["foreign_currency"]["currency"] == "JPY"
        assert case["foreign_currency"]["status"] == "in_transit"
        assert case["batched"]["entries"] >= 50
        assert case["refund_in_payout"]["refunds"] > 0
        assert case["refund_in_payout"]["amount"] < case["refund_in_payout"]["gross"]
    statuses = dict(world.records["stripe/payouts"][0])
    assert set(statuses) >= {"id", "amount", "arrival_date", "status", "currency"}


def test_the_same_seed_gives_the_same_world(day: PaymentsDay, world: PayoutWorld) -> None:
    again = generate_payouts(day, seed=3)
    assert_frame_equal(again.payouts, world.payouts)
    assert_frame_equal(again.entries, world.entries)
    assert again.records == world.records
    other = generate_payouts(day, seed=4)
    assert set(other.payouts["payout_id"]).isdisjoint(world.payouts["payout_id"])


def test_a_day_too_small_for_the_planted_currencies_says_so(tmp_path: Path) -> None:
    small = generate_payments_day(tmp_path, business_date=D, per_processor=36, seed=5)
    with pytest.raises(
        ValueError, match=r"stripe: no settled transaction of D in GBP.*larger per_processor"
    ):
        generate_payouts(small)
