"""The payout hooks against the local processor APIs serving a generated payouts world.

Every payout and entry read back equals the world's, across pages; the servers' paging rules;
a fault retried then succeeding; refused credentials as an error naming the connection.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal

import httpx
import polars as pl
import pytest

from embedded.base import connection_env
from embedded.processor_api import ProcessorApi
from recon_airflow.hooks.paypal import PayPalHook
from recon_airflow.hooks.processor import Payout, PayoutEntry, ProcessorAuthError
from recon_airflow.hooks.square import SquareHook
from recon_airflow.hooks.stripe import StripeHook
from worlds.fixtures import payments_day_fixture
from worlds.payments import PaymentsDay
from worlds.payouts import PayoutWorld, generate_payouts

D = dt.date(2026, 11, 20)
START = dt.datetime.combine(D, dt.time(), dt.UTC)
# payouts of D are made after it closes: read [D, D+2)
WINDOW = (START, START + dt.timedelta(days=2))
day = payments_day_fixture(D, per_processor=400, seed=5)


@pytest.fixture(scope="module")
def world(day: PaymentsDay) -> PayoutWorld:
    return generate_payouts(day, seed=3)


@pytest.fixture
def api(processor_api: ProcessorApi, world: PayoutWorld) -> ProcessorApi:
    world.load(processor_api)
    return processor_api


def major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(0 if currency == "JPY" else -2)


def expected_payouts(world: PayoutWorld, processor: str) -> dict[str, tuple[Decimal, str, str]]:
    rows = world.payouts.filter(pl.col("processor") == processor).iter_rows(named=True)
    return {
        r["payout_id"]: (major(r["amount"], r["currency"]), r["currency"], r["status"])
        for r in rows
    }


def expected_entries(world: PayoutWorld, payout_id: str) -> set[tuple[str, str, Decimal, Decimal]]:
    rows = world.entries.filter(pl.col("payout_id") == payout_id).iter_rows(named=True)
    return {
        (r["entry_id"], r["type"], major(r["gross"], r["currency"]), major(r["fee"], r["currency"]))
        for r in rows
    }


def got(payouts: list[Payout]) -> dict[str, tuple[Decimal, str, str]]:
    return {p.payout_id: (p.amount, p.currency, p.status) for p in payouts}


def entries(read: list[PayoutEntry]) -> set[tuple[str, str, Decimal, Decimal]]:
    return {(e.entry_id, e.type, e.gross, e.fee) for e in read}


@pytest.fixture
def stripe(api: ProcessorApi) -> Iterator[StripeHook]:
    with closing(StripeHook(backoff=0.01, max_attempts=3)) as hook:
        yield hook


@pytest.fixture
def square(api: ProcessorApi) -> Iterator[SquareHook]:
    with closing(SquareHook(backoff=0.01, max_attempts=3)) as hook:
        yield hook


# read back ---------------------------------------------------------------------------------


def test_stripe_payouts_and_their_transactions_read_back_equal_the_world(
    api: ProcessorApi, world: PayoutWorld, stripe: StripeHook
) -> None:
    payouts = list(stripe.payouts(*WINDOW))

    assert got(payouts) == expected_payouts(world, "stripe")
    assert all(p.arrival_date == D + dt.timedelta(days=3) for p in payouts)
    for payout in payouts:
        read = list(stripe.balance_transactions(payout.payout_id))
        own = [e for e in read if e.type == "payout"]
        assert [e.net for e in own] == [-payout.amount]  # the payout's own transaction
        assert entries([e for e in read if e.type != "payout"]) == expected_entries(
            world, payout.payout_id
        )
        assert sum(e.net for e in read) == 0
        assert all(e.net == e.gross - e.fee and isinstance(e.net, Decimal) for e in read)
    usd = next(p for p in payouts if p.currency == "USD")
    asked = [dict(r.query) for r in api.requests_to("stripe") if r.path.endswith("transactions")]
    usd_pages = [q for q in asked if q["payout"] == usd.payout_id]
    assert len(usd_pages) == 2 and usd_pages[1]["starting_after"]  # 188 transactions: 2 pages


def test_square_payouts_and_entries_read_back_equal_the_world(
    api: ProcessorApi, world: PayoutWorld, square: SquareHook
) -> None:
    payouts = list(square.payouts(*WINDOW))

    assert got(payouts) == expected_payouts(world, "square")
    assert [p.created_at for p in payouts] == sorted(p.created_at for p in payouts)
    for payout in payouts:
        read = list(square.payout_entries(payout.payout_id))
        assert entries(read) == expected_entries(world, payout.payout_id)
        assert sum(e.net for e in read) == payout.amount
        assert [e.effective_at for e in read] == sorted(e.effective_at for e in read)
    usd = next(p for p in payouts if p.currency == "USD")
    pages = [r for r in api.requests_to("square") if usd.payout_id in r.path]
    assert len(pages) == 2 and dict(pages[1].query)["cursor"]


def test_paypal_sweeps_read_back_and_equal_the_net_of_the_day(
    api: ProcessorApi, world: PayoutWorld
) -> None:
    with closing(PayPalHook(backoff=0.01)) as hook:
        sweeps = list(hook.settlements(*WINDOW))
        paid = list(hook.settlements(*WINDOW, status="S"))
        day_net: dict[str, Decimal] = {}
        for t in hook.transactions(START, START + dt.timedelta(days=1)):
            if t["status"] in ("succeeded", "refunded"):  # S, and T0006's partial refunds
                day_net[t["currency"]] = day_net.get(t["currency"], Decimal(0)) + t["net"]

    assert got(sweeps) == expected_payouts(world, "paypal")
    assert {p.status for p in paid} == {"paid"} and len(paid) == 3
    queries = [dict(r.query) for r in api.requests_to("paypal") if r.method == "GET"]
    assert queries[0]["transaction_type"] == "T0400"
    for sweep in sweeps:  # every payment, refund and fee of D in the currency, swept
        settled = world.entries.filter(pl.col("payout_id") == sweep.payout_id)
        assert sweep.amount == major(settled["net"].sum(), sweep.currency)
    assert day_net["USD"] >= next(s.amount for s in sweeps if s.currency == "USD")


# paging rules ------------------------------------------------------------------------------


def stripe_get(api: ProcessorApi, path: str, **params: object) -> httpx.Response:
    key = api.secrets["stripe"]["password"]
    return httpx.get(f"{api.url}{path}", params=params, headers={"Authorization": f"Bearer {key}"})


def test_stripe_payouts_page_with_both_cursors_and_filter_on_arrival(
    api: ProcessorApi, world: PayoutWorld
) -> None:
    first = stripe_get(api, "/v1/payouts", limit=2).json()
    assert first["has_more"] is True and len(first["data"]) == 2
    after = first["data"][-1]["id"]
    rest = stripe_get(api, "/v1/payouts", limit=10, starting_after=after).json()
    assert len(rest["data"]) == 3 and rest["has_more"] is False
    back = stripe_get(api, "/v1/payouts", limit=10, ending_before=rest["data"][0]["id"]).json()
    assert [p["id"] for p in back["data"]] == [p["id"] for p in first["data"]]
    arrival = world.records["stripe/payouts"][0]["arrival_date"]
    assert len(stripe_get(api, "/v1/payouts", **{"arrival_date[gte]": arrival}).json()["data"]) == 5
    assert stripe_get(api, "/v1/payouts", **{"arrival_date[gt]": arrival}).json()["data"] == []
    failed = stripe_get(api, "/v1/payouts", status="failed").json()["data"]
    assert [p["currency"] for p in failed] == ["gbp"]
    assert failed[0]["failure_code"] == "account_closed"

    unknown = stripe_get(api, "/v1/balance_transactions", payout="po_nope")
    assert unknown.status_code == 400 and "No such payout: 'po_nope'" in unknown.text
    fees = stripe_get(api, "/v1/balance_transactions", payout=first["data"][0]["id"], type="charge")
    assert {t["type"] for t in fees.json()["data"]} <= {"charge"}


def test_square_entries_cursor_belongs_to_its_payout(api: ProcessorApi, world: PayoutWorld) -> None:
    token = api.secrets["square"]["password"]
    headers = {"Authorization": f"Bearer {token}"}
    ids = [p["id"] for p in world.records["square/payouts"]]
    url = f"{api.url}/v2/payouts/{{}}/payout-entries"
    page = httpx.get(url.format(ids[0]), params={"limit": 2}, headers=headers).json()
    assert len(page["payout_entries"]) == 2 and page["cursor"]
    other = httpx.get(url.format(ids[1]), params={"cursor": page["cursor"]}, headers=headers)
    assert other.status_code == 400 and other.json()["errors"][0]["code"] == "INVALID_CURSOR"
    missing = httpx.get(url.format("po_missing"), headers=headers)
    assert missing.status_code == 404
    located = httpx.get(
        f"{api.url}/v2/payouts",
        params={"location_id": "elsewhere", "begin_time": "2026-11-20T00:00:00Z"},
        headers=headers,
    )
    assert located.json() == {}


# faults and credentials --------------------------------------------------------------------


def test_a_rate_limit_and_server_errors_are_retried_then_succeed(
    api: ProcessorApi, world: PayoutWorld, stripe: StripeHook, square: SquareHook
) -> None:
    api.fail("stripe", 429, retry_after=1)
    assert len(list(stripe.payouts(*WINDOW))) == 5
    assert len(api.requests_to("stripe")) == 2

    payout_id = world.records["square/payouts"][0]["id"]
    api.fail("square", 500, times=2)
    read = list(square.payout_entries(payout_id))
    assert entries(read) == expected_entries(world, payout_id)
    assert len(api.requests_to("square")) >= 3

    api.fail("paypal", 503, times=1)
    with closing(PayPalHook(backoff=0.01)) as hook:
        assert len(list(hook.settlements(*WINDOW))) == 5


def test_refused_credentials_name_the_connection_and_never_show_the_key(
    api: ProcessorApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.loads(connection_env(api)["AIRFLOW_CONN_RECON_STRIPE"])
    bad = "sk_test_not-the-key-0123456789"
    monkeypatch.setenv("AIRFLOW_CONN_RECON_STRIPE", json.dumps(body | {"password": bad}))

    with closing(StripeHook(backoff=0.01)) as hook, pytest.raises(ProcessorAuthError) as failure:
        list(hook.payouts(*WINDOW))

    assert failure.value.status == 401 and "'recon_stripe'" in str(failure.value)
    assert bad not in str(failure.value) and body["password"] not in str(failure.value)
    assert len(api.requests_to("stripe")) == 1
