"""StripeHook against the embedded Stripe API: paging, the window, exact amounts, retry rules.

The server applies Stripe's rules (Bearer key, ``limit`` <= 100, ``starting_after``,
``created[gte]``/``[lt]``, newest first); every test counts the requests that reached it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from contextlib import closing
from decimal import Decimal
from typing import Any

import httpx
import pytest

from embedded.processor_api import ProcessorApi
from recon_airflow.hooks.processor import (
    ProcessorAuthError,
    ProcessorError,
    ProcessorUnavailableError,
    Transaction,
)
from recon_airflow.hooks.stripe import StripeDataError, StripeHook
from worlds.processor_records import balance_transaction

START = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
END = START + dt.timedelta(days=1)
T0 = int(START.timestamp())
DAY = 86_400


@pytest.fixture
def api(processor_api: ProcessorApi) -> ProcessorApi:
    return processor_api


def key(api: ProcessorApi) -> str:
    return api.secrets["stripe"]["password"]


def charge(n: int, created: int, **fields: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "amount": 1_000 + n,
        "fee": 59,
        "currency": "usd",
        "source": f"ch_{n:024d}",
        "description": f"order P{n:06d}",
    }
    return balance_transaction(f"txn_{n:024d}", created=created, **{**defaults, **fields})


def fetch(conn_id: str = "recon_stripe", **kwargs: Any) -> list[Transaction]:
    with closing(StripeHook(conn_id, backoff=0.01, **kwargs)) as hook:
        return list(hook.transactions(START, END))


def pages(api: ProcessorApi) -> list[dict[str, str]]:
    """Each request's query, as a dict (one value per name on this endpoint)."""
    return [dict(r.query) for r in api.requests_to("stripe")]


# paging -----------------------------------------------------------------------------------


def test_an_empty_day_is_one_request_and_no_transactions(api: ProcessorApi) -> None:
    api.load("stripe", [charge(1, T0 - 1), charge(2, T0 + DAY)])  # either side of the day

    assert fetch() == []
    assert pages(api) == [{"limit": "100", "created[gte]": str(T0), "created[lt]": str(T0 + DAY)}]
    assert api.requests_to("stripe")[0].headers["authorization"] == f"Bearer {key(api)}"


def test_exactly_two_full_pages_cost_two_requests(api: ProcessorApi) -> None:
    api.load("stripe", [charge(n, T0 + n * 60) for n in range(200)])

    got = fetch()

    ids = [t["transaction_id"] for t in got]
    assert ids == [f"txn_{n:024d}" for n in reversed(range(200))]  # newest first, none twice
    first, second = pages(api)  # has_more was false on the second page: no third request
    assert "starting_after" not in first
    assert second["starting_after"] == ids[99]
    assert second["limit"] == "100" and second["created[gte]"] == str(T0)


def test_the_window_keeps_start_and_drops_end_across_three_pages(api: ProcessorApi) -> None:
    inside = [charge(n, T0 + n * 300) for n in range(250)]  # the first at exactly START
    outside = [
        charge(1_000, T0 - 1),
        charge(1_001, T0 - DAY),
        charge(1_002, T0 + DAY),  # exactly END: excluded
        charge(1_003, T0 + DAY + 5),
    ]
    api.load("stripe", outside[:2] + inside + outside[2:])

    got = fetch()

    assert sorted(t["transaction_id"] for t in got) == sorted(r["id"] for r in inside)
    assert len(pages(api)) == 3
    assert min(t["created_at"] for t in got) == START
    assert all(START <= t["created_at"] < END for t in got)


# mapping ----------------------------------------------------------------------------------


def test_amounts_are_exact_major_units_with_signs_and_zero_decimal_currencies(
    api: ProcessorApi,
) -> None:
    api.load(
        "stripe",
        [
            charge(1, T0 + 10, amount=10_000, fee=320, currency="usd"),
            charge(2, T0 + 20, amount=5_000, fee=180, currency="jpy"),
            charge(
                3,
                T0 + 30,
                amount=-2_500,
                fee=0,
                type="refund",
                source="re_1",
                description="REFUND FOR CHARGE (order P000001)",
            ),
            charge(4, T0 + 40, amount=1, fee=0, currency="eur", status="pending"),
            charge(5, T0 + 50, amount=-90_000, fee=0, type="payout", description="STRIPE PAYOUT"),
        ],
    )

    by_id = {t["transaction_id"][-1]: t for t in fetch()}

    usd, jpy, refund, cent, payout = (by_id[str(n)] for n in range(1, 6))
    assert (str(usd["gross"]), str(usd["fee"]), str(usd["net"])) == ("100.00", "3.20", "96.80")
    assert (str(jpy["gross"]), str(jpy["fee"]), str(jpy["net"])) == ("5000", "180", "4820")
    assert (refund["gross"], refund["net"]) == (Decimal("-25.00"), Decimal("-25.00"))
    assert str(cent["gross"]) == "0.01" and cent["currency"] == "EUR"
    assert [t["currency"] for t in (usd, jpy, refund)] == ["USD", "JPY", "USD"]
    assert all(isinstance(t[k], Decimal) for t in by_id.values() for k in ("gross", "fee", "net"))
    assert usd == {
        "processor": "stripe",
        "transaction_id": f"txn_{1:024d}",
        "gross": Decimal("100.00"),
        "fee": Decimal("3.20"),
        "net": Decimal("96.80"),
        "currency": "USD",
        "status": "succeeded",
        "created_at": dt.datetime(2026, 11, 20, 0, 0, 10, tzinfo=dt.UTC),
        "reference": "P000001",
    }
    assert (refund["status"], refund["reference"]) == ("refunded", "P000001")
    assert (cent["status"], payout["status"], payout["reference"]) == ("pending", "succeeded", None)


@pytest.mark.parametrize(
    ("txn_type", "status", "expected"),
    [
        ("charge", "available", "succeeded"),
        ("charge", "pending", "pending"),
        ("payment", "available", "succeeded"),
        ("refund", "available", "refunded"),
        ("refund", "pending", "refunded"),
        ("payment_refund", "available", "refunded"),
        ("payment_failure_refund", "available", "failed"),
        ("refund_failure", "available", "failed"),
        ("adjustment", "available", "succeeded"),
        ("stripe_fee", "pending", "pending"),
    ],
    ids=lambda v: str(v),
)
def test_type_and_status_map_to_one_normalised_status(
    api: ProcessorApi, txn_type: str, status: str, expected: str
) -> None:
    api.load("stripe", [charge(1, T0, type=txn_type, status=status)])

    assert [t["status"] for t in fetch()] == [expected]


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("status", "settled", "unknown status 'settled'"),
        ("amount", 10.5, "amount 10.5 is not an integer"),
        ("currency", "dollars", "currency 'dollars' is not an ISO 4217 code"),
    ],
    ids=["status", "float-amount", "currency"],
)
def test_a_record_that_does_not_fit_fails_naming_it(
    api: ProcessorApi, field: str, value: object, words: str
) -> None:
    api.load("stripe", [charge(7, T0, **{field: value})])

    with pytest.raises(StripeDataError, match=words) as caught:
        fetch()
    assert f"txn_{7:024d}" in str(caught.value)


def test_a_naive_window_is_refused_before_any_request(api: ProcessorApi) -> None:
    with closing(StripeHook()) as hook, pytest.raises(ValueError, match="no time zone"):
        list(hook.transactions(dt.datetime(2026, 11, 20), END))
    assert api.requests_to("stripe") == []


# retry rules ------------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(api: ProcessorApi) -> None:
    api.load("stripe", [charge(n, T0 + n) for n in range(3)])
    api.fail("stripe", 429, retry_after=1)

    began = time.monotonic()
    got = fetch()
    waited = time.monotonic() - began

    assert len(got) == 3
    assert len(api.requests_to("stripe")) == 2
    assert waited >= 0.9  # Retry-After (1 s) honoured, not the 0.01 s backoff


def test_persistent_500_fails_after_max_attempts(api: ProcessorApi) -> None:
    api.load("stripe", [charge(1, T0)])
    api.fail("stripe", 500, times=10)

    with pytest.raises(ProcessorUnavailableError, match="Something went wrong") as caught:
        fetch(max_attempts=3)

    assert caught.value.status == 500 and caught.value.conn_id == "recon_stripe"
    assert len(api.requests_to("stripe")) == 3


def test_a_page_failing_midway_raises_rather_than_ending_early(api: ProcessorApi) -> None:
    api.load("stripe", [charge(n, T0 + n) for n in range(150)])
    with closing(StripeHook(backoff=0.01, max_attempts=2)) as hook:
        stream = hook.transactions(START, END)
        first_page = [next(stream) for _ in range(100)]
        api.fail("stripe", 503, times=2)
        with pytest.raises(ProcessorUnavailableError):
            next(stream)
    assert len(first_page) == 100
    assert len(api.requests_to("stripe")) == 3


def test_a_bad_key_fails_at_once_without_showing_the_key(
    api: ProcessorApi, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "sk_test_" + "W" * 20 + "9876"
    body = json.loads(os.environ["AIRFLOW_CONN_RECON_STRIPE"])
    monkeypatch.setenv("AIRFLOW_CONN_RECON_STRIPE_BAD", json.dumps({**body, "password": wrong}))
    api.load("stripe", [charge(1, T0)])

    with caplog.at_level(logging.DEBUG), pytest.raises(ProcessorAuthError) as caught:
        fetch("recon_stripe_bad")

    assert len(api.requests_to("stripe")) == 1  # no retry: credentials do not heal
    assert caught.value.status == 401
    assert "Invalid API Key provided: sk_test_" in str(caught.value)
    assert "recon_stripe_bad" in str(caught.value)
    for text in (str(caught.value), repr(caught.value), caplog.text):
        assert wrong not in text and key(api) not in text


def test_the_key_is_never_logged_on_the_happy_path(
    api: ProcessorApi, caplog: pytest.LogCaptureFixture
) -> None:
    api.load("stripe", [charge(n, T0 + n) for n in range(120)])
    api.fail("stripe", 429, retry_after=0)  # a logged retry warning, too

    with caplog.at_level(logging.DEBUG):
        assert len(fetch()) == 120

    assert "attempt 1 of 5" in caplog.text
    assert key(api) not in caplog.text


def test_a_connection_without_a_key_is_refused_before_any_request(
    api: ProcessorApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.loads(os.environ["AIRFLOW_CONN_RECON_STRIPE"])
    del body["password"]
    monkeypatch.setenv("AIRFLOW_CONN_RECON_STRIPE_NOKEY", json.dumps(body))

    with pytest.raises(ProcessorAuthError, match="no password"):
        fetch("recon_stripe_nokey")
    assert api.requests_to("stripe") == []


# the server's own rules (what the hook relies on) -------------------------------------------


def stripe_get(
    api: ProcessorApi, params: dict[str, Any] | None = None, *, auth: str | None = None
) -> httpx.Response:
    headers = {"Authorization": auth if auth is not None else f"Bearer {key(api)}"}
    return httpx.get(f"{api.url}/v1/balance_transactions", params=params, headers=headers)


@pytest.mark.parametrize(
    ("params", "param", "words"),
    [
        ({"limit": 0}, "limit", "greater than or equal to 1"),
        ({"limit": 101}, "limit", "less than or equal to 100"),
        ({"limit": "ten"}, "limit", "Invalid integer: ten"),
        (
            {"starting_after": "txn_nope"},
            "starting_after",
            "No such balance transaction: 'txn_nope'",
        ),
        ({"created[gte]": "today"}, "created[gte]", "Invalid integer: today"),
        ({"created[since]": 1}, "created[since]", "Received unknown parameter: created[since]"),
    ],
    ids=["limit-0", "limit-101", "limit-text", "unknown-cursor", "created-text", "unknown-param"],
)
def test_the_server_refuses_bad_parameters_as_stripe_does(
    api: ProcessorApi, params: dict[str, Any], param: str, words: str
) -> None:
    answer = stripe_get(api, params)

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert words in error["message"]


def test_the_server_pages_newest_first_with_a_default_limit(api: ProcessorApi) -> None:
    api.load("stripe", [charge(n, T0 + n) for n in range(25)])

    first = stripe_get(api).json()
    after = stripe_get(api, {"starting_after": first["data"][-1]["id"]}).json()
    before = stripe_get(api, {"ending_before": after["data"][0]["id"]}).json()
    gt_lte = stripe_get(api, {"created[gt]": T0 + 3, "created[lte]": T0 + 5}).json()

    assert first["object"] == "list" and first["url"] == "/v1/balance_transactions"
    assert [r["created"] - T0 for r in first["data"]] == list(range(24, 14, -1))
    assert first["has_more"] is True
    assert [r["created"] - T0 for r in after["data"]] == list(range(14, 4, -1))
    assert before["data"] == first["data"][-10:]
    assert [r["created"] - T0 for r in gt_lte["data"]] == [5, 4] and not gt_lte["has_more"]


@pytest.mark.parametrize(
    ("auth", "words"),
    [
        ("", "You did not provide an API key"),
        (
            "Bearer sk_test_abcdefghijklmnop1234",
            "Invalid API Key provided: sk_test_" + "*" * 16 + "1234",
        ),
    ],
    ids=["missing", "wrong"],
)
def test_the_server_refuses_a_bad_key_masking_it(api: ProcessorApi, auth: str, words: str) -> None:
    answer = stripe_get(api, auth=auth)

    assert answer.status_code == 401
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert words in answer.json()["error"]["message"]
    assert "abcdefghijklmnop" not in answer.text


def test_the_server_takes_the_key_as_basic_auth_user_too(api: ProcessorApi) -> None:
    answer = httpx.get(f"{api.url}/v1/balance_transactions", auth=(key(api), ""))

    assert answer.status_code == 200 and answer.json()["data"] == []


def test_a_wrong_hook_call_is_a_clean_processor_error(api: ProcessorApi) -> None:
    with closing(StripeHook()) as hook, pytest.raises(ProcessorError, match="HTTP 400") as caught:
        hook.get_json(
            "/v1/balance_transactions",
            params={"limit": 500},
            headers={"Authorization": f"Bearer {key(api)}"},
        )
    assert not isinstance(caught.value, ProcessorUnavailableError | ProcessorAuthError)
    assert len(api.requests_to("stripe")) == 1
