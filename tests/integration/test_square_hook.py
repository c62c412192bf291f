"""SquareHook against Square's ListPayments served on loopback (``embedded.processors.square``).

Paging, the time window, exact amounts and statuses, and the retry rules over real HTTP; the
connection comes from ``AIRFLOW_CONN_RECON_SQUARE`` only.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from embedded.base import connection_env
from embedded.processor_api import ProcessorApi
from recon_airflow.hooks.processor import (
    ProcessorAuthError,
    ProcessorError,
    ProcessorUnavailableError,
)
from recon_airflow.hooks.square import SQUARE_VERSION, SquareHook
from worlds.processor_records import payment

DAY = dt.datetime(2024, 3, 2, tzinfo=dt.UTC)
NEXT_DAY = DAY + dt.timedelta(days=1)


@pytest.fixture
def square(processor_api: ProcessorApi) -> ProcessorApi:
    """The server with no payments, no faults and no requests; connections in the env."""
    return processor_api


@pytest.fixture
def hook(square: ProcessorApi) -> Iterator[SquareHook]:
    hook = SquareHook(backoff=0.01, max_attempts=3)
    yield hook
    hook.close()


def _payments(count: int, start: dt.datetime = DAY, **fields: Any) -> list[dict[str, Any]]:
    """``count`` payments a minute apart from ``start``, ids p0000..., references ref-0000..."""
    return [
        payment(
            f"p{i:04d}",
            start + dt.timedelta(minutes=i),
            1000 + i,
            "USD",
            reference_id=f"ref-{i:04d}",
            **fields,
        )
        for i in range(count)
    ]


def _get(api: ProcessorApi, token: str | None = None, **params: Any) -> httpx.Response:
    """One raw ListPayments request (the server's own rules, without the hook)."""
    headers = {"Authorization": f"Bearer {token or api.secrets['square']['password']}"}
    return httpx.get(f"{api.url}/v2/payments", params=params, headers=headers)


# paging -------------------------------------------------------------------------------------


def test_an_empty_day_is_one_request_answered_with_an_empty_object(
    hook: SquareHook, square: ProcessorApi
) -> None:
    square.load("square", _payments(3, start=DAY - dt.timedelta(hours=1)))  # all the day before

    assert list(hook.transactions(DAY, NEXT_DAY)) == []

    [request] = square.requests_to("square")
    assert dict(request.query) == {
        "begin_time": "2024-03-02T00:00:00Z",
        "end_time": "2024-03-03T00:00:00Z",
        "sort_order": "ASC",
        "limit": "100",
    }
    assert request.headers["authorization"] == f"Bearer {square.secrets['square']['password']}"
    assert request.headers["square-version"] == SQUARE_VERSION
    answer = _get(square, begin_time="2024-03-02T00:00:00Z", end_time="2024-03-03T00:00:00Z")
    assert answer.status_code == 200 and answer.json() == {}


def test_exactly_two_full_pages_take_two_requests_and_no_third(
    hook: SquareHook, square: ProcessorApi
) -> None:
    square.load("square", list(reversed(_payments(200))))  # the server sorts, not the loader

    ids = [t["transaction_id"] for t in hook.transactions(DAY, NEXT_DAY)]

    assert ids == [f"p{i:04d}" for i in range(200)]  # oldest first, each once
    first, second = square.requests_to("square")
    assert first.param("cursor") is None and second.param("cursor")
    assert second.param("limit") == "100" and second.param("sort_order") == "ASC"


def test_a_page_failing_mid_way_fails_the_whole_extract(
    hook: SquareHook, square: ProcessorApi
) -> None:
    square.load("square", _payments(150))
    transactions = hook.transactions(DAY, NEXT_DAY)
    next(transactions)  # the first page is in
    square.fail("square", 500, times=3)

    with pytest.raises(ProcessorUnavailableError, match="HTTP 500"):
        list(transactions)


def test_the_window_keeps_its_begin_and_drops_its_end(
    hook: SquareHook, square: ProcessorApi
) -> None:
    edge = dt.timedelta(milliseconds=1)
    square.load(
        "square",
        [
            payment("before", DAY - edge, 100, "USD"),
            payment("at-begin", DAY, 100, "USD"),
            payment("offset-inside", "2024-03-02T18:30:00.250-05:00", 100, "USD"),
            payment("last-inside", NEXT_DAY - edge, 100, "USD"),
            payment("at-end", NEXT_DAY, 100, "USD"),
        ],
    )

    found = {t["transaction_id"]: t["created_at"] for t in hook.transactions(DAY, NEXT_DAY)}

    assert found == {
        "at-begin": DAY,
        "offset-inside": dt.datetime(2024, 3, 2, 23, 30, 0, 250_000, tzinfo=dt.UTC),
        "last-inside": NEXT_DAY - edge,
    }
    assert all(when.utcoffset() == dt.timedelta(0) for when in found.values())


# mapping ------------------------------------------------------------------------------------


def test_amounts_are_exact_major_units_with_fees_and_zero_decimal_currencies(
    hook: SquareHook, square: ProcessorApi
) -> None:
    square.load(
        "square",
        [
            payment("usd", DAY, 1234, "USD", fees=[66], reference_id="ours-1"),
            payment("tip", DAY, 1000, "USD", tip=200, fees=[50, -15]),  # INITIAL + ADJUSTMENT
            payment("jpy", DAY, 1500, "JPY", fees=[54], reference_id="ours-3"),
            payment("krw", DAY, 10_001, "KRW", fees=[]),
            payment("cent", DAY, 1, "EUR", status="APPROVED"),  # no fee before completion
        ],
    )

    got = {
        t["transaction_id"]: (t["gross"], t["fee"], t["net"], t["currency"], t["reference"])
        for t in hook.transactions(DAY, NEXT_DAY)
    }

    assert got == {
        "usd": (Decimal("12.34"), Decimal("0.66"), Decimal("11.68"), "USD", "ours-1"),
        "tip": (Decimal("12.00"), Decimal("0.35"), Decimal("11.65"), "USD", None),
        "jpy": (Decimal("1500"), Decimal("54"), Decimal("1446"), "JPY", "ours-3"),
        "krw": (Decimal("10001"), Decimal("0"), Decimal("10001"), "KRW", None),
        "cent": (Decimal("0.01"), Decimal("0.00"), Decimal("0.01"), "EUR", None),
    }
    # exact to the minor unit, never a float on the way
    assert [str(v) for v in got["usd"][:3]] == ["12.34", "0.66", "11.68"]
    assert [str(v) for v in got["jpy"][:3]] == ["1500", "54", "1446"]


@pytest.mark.parametrize(
    ("square_status", "refunded", "expected"),
    [
        ("COMPLETED", 0, "succeeded"),
        ("APPROVED", 0, "pending"),
        ("PENDING", 0, "pending"),
        ("FAILED", 0, "failed"),
        ("CANCELED", 0, "canceled"),
        ("COMPLETED", 1500, "refunded"),  # the whole total (amount 1000 + tip 500)
        ("COMPLETED", 1000, "succeeded"),  # the amount but not the tip: partial
    ],
    ids=["completed", "approved", "pending", "failed", "canceled", "refunded", "partial-refund"],
)
def test_every_square_status_maps_to_a_normalised_one(
    hook: SquareHook, square: ProcessorApi, square_status: str, refunded: int, expected: str
) -> None:
    record = payment("p1", DAY, 1000, "USD", tip=500, status=square_status, refunded=refunded)
    square.load("square", [record])

    [transaction] = hook.transactions(DAY, NEXT_DAY)

    assert transaction["status"] == expected
    assert transaction["processor"] == "square"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"status": "VOIDED"}, "unknown status 'VOIDED'"),
        ({"processing_fee": [{"amount_money": {"amount": 5, "currency": "EUR"}}]}, "in 'EUR'"),
        ({"total_money": {"amount": "12.34", "currency": "USD"}}, "not an integer"),
    ],
    ids=["status", "fee-currency", "float-amount"],
)
def test_a_payment_square_should_not_send_fails_naming_it(
    hook: SquareHook, square: ProcessorApi, change: dict[str, Any], words: str
) -> None:
    square.load("square", [payment("odd", DAY, 1000, "USD") | change])

    with pytest.raises(ProcessorError, match=f"payment odd: .*{words}"):
        list(hook.transactions(DAY, NEXT_DAY))


# retries and credentials --------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(
    hook: SquareHook, square: ProcessorApi, caplog: pytest.LogCaptureFixture
) -> None:
    square.load("square", _payments(2))
    square.fail("square", 429, retry_after=1)
    caplog.set_level(logging.DEBUG)

    started = time.monotonic()
    ids = [t["transaction_id"] for t in hook.transactions(DAY, NEXT_DAY)]

    assert ids == ["p0000", "p0001"]
    assert time.monotonic() - started >= 1.0  # Retry-After, not the 0.01 s backoff
    assert len(square.requests_to("square")) == 2
    assert "HTTP 429" in caplog.text  # the wait was logged
    assert square.secrets["square"]["password"] not in caplog.text


def test_a_persistent_500_fails_cleanly_after_max_attempts(
    hook: SquareHook, square: ProcessorApi
) -> None:
    square.load("square", _payments(2))
    square.fail("square", 500, times=10)

    with pytest.raises(ProcessorUnavailableError) as failure:
        list(hook.transactions(DAY, NEXT_DAY))

    assert len(square.requests_to("square")) == hook.max_attempts == 3
    assert "recon_square" in str(failure.value) and "HTTP 500" in str(failure.value)
    assert "A general server error occurred." in str(failure.value)  # Square's own detail


def test_a_bad_token_fails_at_once_and_never_shows_the_token(
    square: ProcessorApi, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.loads(connection_env(square)["AIRFLOW_CONN_RECON_SQUARE"])
    good, bad = body["password"], "EAAAl-not-the-token-0123456789"
    monkeypatch.setenv("AIRFLOW_CONN_RECON_SQUARE", json.dumps(body | {"password": bad}))
    square.load("square", _payments(2))
    caplog.set_level(logging.DEBUG)
    hook = SquareHook(backoff=0.01)

    with pytest.raises(ProcessorAuthError) as failure:
        list(hook.transactions(DAY, NEXT_DAY))
    hook.close()

    assert len(square.requests_to("square")) == 1  # no retry: a retry cannot fix credentials
    assert failure.value.status == 401
    assert "This request could not be authorized." in str(failure.value)
    for secret in (good, bad):
        assert secret not in str(failure.value) and secret not in repr(failure.value)
        assert secret not in caplog.text


# the server's rules -------------------------------------------------------------------------


def test_the_server_answers_as_square_does(square: ProcessorApi) -> None:
    square.load("square", _payments(150))
    window = {"begin_time": "2024-03-02T00:00:00Z", "end_time": "2024-03-03T00:00:00Z"}

    newest_first = _get(square, **window, limit=500)  # above the maximum: the default is used
    assert newest_first.status_code == 200
    assert newest_first.headers["Square-Version"]  # Square names the version it used
    page = newest_first.json()
    assert len(page["payments"]) == 100 and page["payments"][0]["id"] == "p0149"  # DESC

    rest = _get(square, **window, limit=500, cursor=page["cursor"]).json()
    assert [p["id"] for p in rest["payments"]] == [f"p{i:04d}" for i in range(49, -1, -1)]
    assert "cursor" not in rest

    other_query = _get(square, begin_time="2024-03-01T00:00:00Z", cursor=page["cursor"])
    assert other_query.status_code == 400
    assert other_query.json()["errors"][0]["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize(
    ("params", "token", "status", "code"),
    [
        ({"cursor": "not-a-cursor"}, None, 400, "INVALID_CURSOR"),
        ({"begin_time": "2024-03-02"}, None, 400, "INVALID_TIME"),
        ({"begin_time": "2024-03-02T10:00:00"}, None, 400, "INVALID_TIME"),  # no offset
        (
            {"begin_time": "2024-03-03T00:00:00Z", "end_time": "2024-03-02T00:00:00Z"},
            None,
            400,
            "INVALID_TIME_RANGE",
        ),
        ({"sort_order": "NEWEST"}, None, 400, "INVALID_SORT_ORDER"),
        ({}, "wrong-token", 401, "UNAUTHORIZED"),
    ],
    ids=["cursor", "date-only", "naive", "range", "sort", "token"],
)
def test_the_server_refuses_what_square_refuses(
    square: ProcessorApi, params: dict[str, str], token: str | None, status: int, code: str
) -> None:
    answer = _get(square, token, **params)

    assert answer.status_code == status
    [error] = answer.json()["errors"]
    assert error["code"] == code and error["detail"]
    assert error["category"] == (
        "AUTHENTICATION_ERROR" if status == 401 else "INVALID_REQUEST_ERROR"
    )
