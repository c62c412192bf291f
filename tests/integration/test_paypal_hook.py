"""PayPalHook against the local PayPal API (``embedded.processors.paypal``) over real HTTP.

Connections come from ``AIRFLOW_CONN_*`` variables only; the server counts every request.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from embedded.base import connection_env
from embedded.processor_api import ProcessorApi
from embedded.processors import paypal as paypal_api
from embedded.processors.wire import Request
from recon_airflow.hooks.paypal import PayPalDataError, PayPalHook, split_window
from recon_airflow.hooks.processor import ProcessorAuthError, ProcessorUnavailableError

UTC = dt.UTC
DAY = dt.datetime(2024, 3, 1, tzinfo=UTC)
PACIFIC = dt.timezone(-dt.timedelta(hours=7))


@pytest.fixture
def api(processor_api: ProcessorApi) -> ProcessorApi:
    return processor_api


def hook(**kwargs: Any) -> PayPalHook:
    return PayPalHook(backoff=0.01, **kwargs)


def record(
    n: int,
    when: dt.datetime,
    value: str = "12.34",
    fee: str | None = "-0.66",
    *,
    currency: str = "USD",
    status: str = "S",
    invoice_id: str | None = None,
    custom_field: str | None = None,
) -> dict[str, Any]:
    """One ``transaction_details`` item as PayPal returns it (dates in the account's offset)."""
    info: dict[str, Any] = {
        "paypal_account_id": "6STWC2LSUYYYE",
        "transaction_id": f"{n:017d}",
        "transaction_event_code": "T0006" if not value.startswith("-") else "T1107",
        "transaction_initiation_date": when.astimezone(PACIFIC).isoformat(),
        "transaction_updated_date": when.astimezone(PACIFIC).isoformat(),
        "transaction_amount": {"currency_code": currency, "value": value},
        "transaction_status": status,
        "protection_eligibility": "01",
    }
    if fee is not None:
        info["fee_amount"] = {"currency_code": currency, "value": fee}
    if invoice_id is not None:
        info["invoice_id"] = invoice_id
    if custom_field is not None:
        info["custom_field"] = custom_field
    return {
        "transaction_info": info,
        "payer_info": {"account_id": "6STWC2LSUYYYE", "email_address": "buyer@example.com"},
    }


def every(
    start: dt.datetime, step: dt.timedelta, count: int, first: int = 0
) -> list[dict[str, Any]]:
    return [record(first + i, start + i * step) for i in range(count)]


def listed(api: ProcessorApi) -> list[Request]:
    return [r for r in api.requests_to("paypal") if r.path == paypal_api.TRANSACTIONS_PATH]


def tokens_asked(api: ProcessorApi) -> list[Request]:
    return [r for r in api.requests_to("paypal") if r.path == paypal_api.TOKEN_PATH]


def ids(transactions: list[Any]) -> list[str]:
    return [t["transaction_id"] for t in transactions]


# paging --------------------------------------------------------------------------------------


def test_an_empty_day_is_one_token_and_one_page(api: ProcessorApi) -> None:
    assert list(hook().transactions(DAY, DAY + dt.timedelta(days=1))) == []

    assert [r.path for r in api.requests_to("paypal")] == [
        paypal_api.TOKEN_PATH,
        paypal_api.TRANSACTIONS_PATH,
    ]
    (page,) = listed(api)
    assert page.param("page") == "1" and page.param("page_size") == "500"
    assert page.param("start_date") == "2024-03-01T00:00:00+00:00"
    assert page.param("end_date") == "2024-03-02T00:00:00+00:00"


def test_exactly_two_full_pages_take_two_requests_not_three(api: ProcessorApi) -> None:
    api.load("paypal", every(DAY, dt.timedelta(seconds=60), 1000))

    got = list(hook().transactions(DAY, DAY + dt.timedelta(days=1)))

    assert ids(got) == [f"{n:017d}" for n in range(1000)]
    assert [(r.param("page"), r.param("page_size")) for r in listed(api)] == [
        ("1", "500"),
        ("2", "500"),
    ]
    assert len(tokens_asked(api)) == 1  # the token is reused across pages


def test_a_45_day_window_is_split_in_two_without_loss_or_duplicate(api: ProcessorApi) -> None:
    start, end = DAY, DAY + dt.timedelta(days=45)
    boundary = start + dt.timedelta(days=31)
    # every 6 hours from start to end: one falls exactly on the split boundary, one on `end`
    records = every(start, dt.timedelta(hours=6), 45 * 4 + 1)
    api.load("paypal", records)

    got = list(hook().transactions(start, end))

    assert ids(got) == [f"{n:017d}" for n in range(45 * 4)]  # all but the one at `end`, once
    assert boundary in [t["created_at"] for t in got]
    windows = [
        (
            dt.datetime.fromisoformat(r.param("start_date") or ""),
            dt.datetime.fromisoformat(r.param("end_date") or ""),
        )
        for r in listed(api)
    ]
    assert windows == [(start, boundary), (boundary, end)]
    assert all(b - a <= dt.timedelta(days=31) for a, b in windows)
    # the server's end_date is inclusive: the boundary record came twice and was kept once
    assert sum(page_total(api, r) for r in listed(api)) == 45 * 4 + 2


def page_total(api: ProcessorApi, request: Request) -> int:
    """total_items the server reports for ``request``'s window (asked again, directly)."""
    answer = httpx.get(f"{api.url}{request.path}", params=tuple(request.query), headers=bearer(api))
    return int(answer.json()["total_items"])


def test_only_transactions_initiated_inside_the_window_are_kept(api: ProcessorApi) -> None:
    end = DAY + dt.timedelta(days=1)
    second = dt.timedelta(seconds=1)
    api.load(
        "paypal",
        [
            record(1, DAY - second),  # the day before
            record(2, DAY),  # first second of the day
            record(3, end - second),  # last second of the day
            record(4, end),  # next day (end is exclusive)
            record(5, end + dt.timedelta(hours=5)),
        ],
    )

    got = list(hook().transactions(DAY, end))

    assert ids(got) == [f"{n:017d}" for n in (2, 3)]
    assert [t["created_at"] for t in got] == [DAY, end - second]
    assert all(t["created_at"].utcoffset() == dt.timedelta(0) for t in got)


# mapping -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"value": "12.34", "fee": "-0.66", "invoice_id": "PAY-1"},
            ("12.34", "0.66", "11.68", "USD", "succeeded", "PAY-1"),
        ),
        (
            {"value": "-10.00", "fee": "0.30", "status": "S", "custom_field": "PAY-2"},
            ("-10.00", "-0.30", "-9.70", "USD", "succeeded", "PAY-2"),
        ),
        (
            {"value": "1500", "fee": "-45", "currency": "jpy", "status": "P"},
            ("1500", "45", "1455", "JPY", "pending", None),
        ),
        (
            {"value": "0.10", "fee": None, "status": "D", "invoice_id": "A", "custom_field": "B"},
            ("0.10", "0", "0.10", "USD", "failed", "A"),
        ),
        (
            {"value": "99999999.99", "fee": "-2900000.01", "status": "V"},
            ("99999999.99", "2900000.01", "97099999.98", "USD", "refunded", None),
        ),
        ({"value": "7.00", "status": "F"}, ("7.00", "0.66", "6.34", "USD", "succeeded", None)),
    ],
    ids=[
        "payment",
        "refund-fee-returned",
        "jpy-pending",
        "no-fee-denied",
        "large-reversed",
        "partly-refunded",
    ],
)
def test_amounts_are_exact_and_statuses_normalised(
    api: ProcessorApi, kwargs: dict[str, Any], expected: tuple[str, ...]
) -> None:
    when = DAY + dt.timedelta(hours=3, minutes=25, seconds=7)
    api.load("paypal", [record(7, when, **kwargs)])

    (got,) = hook().transactions(DAY, DAY + dt.timedelta(days=1))

    gross, fee, net, currency, status, reference = expected
    assert {k: str(got[k]) for k in ("gross", "fee", "net")} == {
        "gross": gross,
        "fee": fee,
        "net": net,
    }
    assert all(isinstance(got[k], Decimal) for k in ("gross", "fee", "net"))
    assert got["net"] == got["gross"] - got["fee"]
    assert (got["currency"], got["status"], got["reference"]) == (currency, status, reference)
    assert (got["processor"], got["transaction_id"], got["created_at"]) == (
        "paypal",
        f"{7:017d}",
        when,
    )


def test_an_unknown_status_fails_with_the_transaction_and_the_codes(api: ProcessorApi) -> None:
    api.load("paypal", [record(8, DAY, status="X")])

    with pytest.raises(
        PayPalDataError,
        match=r"00000000000000008: unknown transaction_status 'X' \(expected one of S, P, D, V, F\)",
    ):
        list(hook().transactions(DAY, DAY + dt.timedelta(days=1)))


# faults --------------------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(api: ProcessorApi) -> None:
    paypal = hook()
    list(paypal.transactions(DAY, DAY + dt.timedelta(days=1)))  # token in hand
    api.load("paypal", every(DAY, dt.timedelta(minutes=1), 3))
    api.fail("paypal", 429, retry_after=1)

    began = time.monotonic()
    got = list(paypal.transactions(DAY, DAY + dt.timedelta(days=1)))

    assert time.monotonic() - began >= 1.0  # Retry-After, not the 0.01 s backoff
    assert ids(got) == [f"{n:017d}" for n in range(3)]
    assert len(listed(api)) == 3 and len(tokens_asked(api)) == 1


def test_a_persistent_500_fails_as_unavailable_after_max_attempts(api: ProcessorApi) -> None:
    paypal = hook(max_attempts=3)
    list(paypal.transactions(DAY, DAY + dt.timedelta(days=1)))
    api.fail("paypal", 500, times=5)

    with pytest.raises(
        ProcessorUnavailableError, match="'recon_paypal': HTTP 500: An internal server error"
    ) as caught:
        list(paypal.transactions(DAY, DAY + dt.timedelta(days=1)))

    assert caught.value.status == 500
    assert len(listed(api)) == 1 + 3


def test_a_500_on_the_token_request_is_retried_too(api: ProcessorApi) -> None:
    api.fail("paypal", 500, times=2)

    assert list(hook().transactions(DAY, DAY + dt.timedelta(days=1))) == []

    assert len(tokens_asked(api)) == 3 and len(listed(api)) == 1


def test_a_bad_client_secret_fails_after_one_token_request(
    api: ProcessorApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.loads(connection_env(api)["AIRFLOW_CONN_RECON_PAYPAL"])
    body["password"] = "not-the-secret"
    monkeypatch.setenv("AIRFLOW_CONN_RECON_PAYPAL_WRONG", json.dumps(body))

    with pytest.raises(
        ProcessorAuthError, match="'recon_paypal_wrong': HTTP 401: Client Authentication failed"
    ) as caught:
        list(hook(conn_id="recon_paypal_wrong").transactions(DAY, DAY + dt.timedelta(days=1)))

    assert "not-the-secret" not in str(caught.value)
    assert [r.path for r in api.requests_to("paypal")] == [paypal_api.TOKEN_PATH]


def test_an_expired_token_is_replaced_once(api: ProcessorApi) -> None:
    paypal = hook()
    list(paypal.transactions(DAY, DAY + dt.timedelta(days=1)))
    paypal_api.expire_tokens(api)
    api.load("paypal", [record(1, DAY)])

    assert ids(list(paypal.transactions(DAY, DAY + dt.timedelta(days=1)))) == [f"{1:017d}"]

    assert [r.path for r in api.requests_to("paypal")] == [
        paypal_api.TOKEN_PATH,
        paypal_api.TRANSACTIONS_PATH,
        paypal_api.TRANSACTIONS_PATH,  # 401
        paypal_api.TOKEN_PATH,
        paypal_api.TRANSACTIONS_PATH,
    ]


def test_a_token_refused_twice_fails_without_a_third_token(api: ProcessorApi) -> None:
    paypal = hook()
    list(paypal.transactions(DAY, DAY + dt.timedelta(days=1)))
    paypal_api.refuse_tokens(api, times=2)

    with pytest.raises(ProcessorAuthError, match="HTTP 401: Authentication failed"):
        list(paypal.transactions(DAY, DAY + dt.timedelta(days=1)))

    assert [r.path for r in api.requests_to("paypal")] == [
        paypal_api.TOKEN_PATH,
        paypal_api.TRANSACTIONS_PATH,
        paypal_api.TRANSACTIONS_PATH,  # 401
        paypal_api.TOKEN_PATH,  # a new token, once
        paypal_api.TRANSACTIONS_PATH,  # 401 again: give up
    ]


def test_neither_the_secret_nor_a_token_reaches_logs_or_errors(
    api: ProcessorApi,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    earlier = len(paypal_api.issued_tokens(api))
    api.load("paypal", every(DAY, dt.timedelta(minutes=2), 600))
    paypal = hook(max_attempts=2)
    errors: list[str] = []

    list(paypal.transactions(DAY, DAY + dt.timedelta(days=1)))
    paypal_api.expire_tokens(api)  # a 401 and a second token
    api.fail("paypal", 429, retry_after=1)
    list(paypal.transactions(DAY, DAY + dt.timedelta(days=1)))
    paypal_api.refuse_tokens(api, times=2)  # a third token, refused too
    with pytest.raises(ProcessorAuthError) as refused:
        list(paypal.transactions(DAY, DAY + dt.timedelta(days=1)))
    errors.append(str(refused.value))
    api.fail("paypal", 503, times=2)
    with pytest.raises(ProcessorUnavailableError) as unavailable:
        list(hook(max_attempts=2).transactions(DAY, DAY + dt.timedelta(days=1)))
    errors.append(str(unavailable.value))

    body = json.loads(connection_env(api)["AIRFLOW_CONN_RECON_PAYPAL"])
    body["password"] = f"{api.secrets['paypal']['password']}-x"
    monkeypatch.setenv("AIRFLOW_CONN_RECON_PAYPAL_WRONG", json.dumps(body))
    with pytest.raises(ProcessorAuthError) as wrong:
        list(hook(conn_id="recon_paypal_wrong").transactions(DAY, DAY + dt.timedelta(days=1)))
    errors.append(str(wrong.value))

    tokens = paypal_api.issued_tokens(api)[earlier:]
    assert len(tokens) == 3
    secrets = [api.secrets["paypal"]["password"], *tokens]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    printed = "".join(capsys.readouterr())  # Airflow's structlog writes to stdout
    assert "access token refused" in logged and "HTTP 503" in logged
    for secret in secrets:
        assert secret not in logged
        assert secret not in printed
        assert all(secret not in error for error in errors)


# the server's own rules ----------------------------------------------------------------------


def bearer(api: ProcessorApi) -> dict[str, str]:
    secret = api.secrets["paypal"]
    answer = httpx.post(
        f"{api.url}{paypal_api.TOKEN_PATH}",
        auth=(secret["login"], secret["password"]),
        data={"grant_type": "client_credentials"},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 32400
    return {"Authorization": f"Bearer {body['access_token']}"}


@pytest.mark.parametrize(
    ("params", "issue"),
    [
        (
            {"start_date": "2024-03-01T00:00:00Z", "end_date": "2024-04-01T00:00:01Z"},
            "Date range is greater than 31 days",
        ),
        ({"start_date": "2024-03-01T00:00:00Z"}, "MISSING_REQUIRED_PARAMETER"),
        (
            {"start_date": "2024-03-01T00:00:00", "end_date": "2024-03-02T00:00:00Z"},
            "INVALID_PARAMETER_SYNTAX",
        ),
        (
            {"start_date": "2024-03-01T00:00Z", "end_date": "2024-03-02T00:00:00Z"},
            "INVALID_PARAMETER_SYNTAX",
        ),
        (
            {
                "start_date": "2024-03-01T00:00:00Z",
                "end_date": "2024-03-02T00:00:00Z",
                "page_size": "501",
            },
            "page_size must be an integer from 1 to 500",
        ),
        (
            {"start_date": "2024-03-01T00:00:00Z", "end_date": "2024-03-02T00:00:00Z", "page": "0"},
            "page must be an integer from 1 to",
        ),
    ],
    ids=["over-31-days", "no-end-date", "no-offset", "no-seconds", "page-size-501", "page-0"],
)
def test_the_server_refuses_what_paypal_refuses(
    api: ProcessorApi, params: dict[str, str], issue: str
) -> None:
    answer = httpx.get(
        f"{api.url}{paypal_api.TRANSACTIONS_PATH}", params=params, headers=bearer(api)
    )

    assert answer.status_code == 400
    body = answer.json()
    assert body["name"] == "INVALID_REQUEST"
    assert any(d["issue"].startswith(issue) for d in body["details"])


def test_the_server_accepts_31_days_and_serves_transaction_info_by_default(
    api: ProcessorApi,
) -> None:
    api.load("paypal", [record(1, DAY)])
    params = {"start_date": "2024-03-01T00:00:00Z", "end_date": "2024-04-01T00:00:00Z"}

    plain = httpx.get(
        f"{api.url}{paypal_api.TRANSACTIONS_PATH}", params=params, headers=bearer(api)
    ).json()
    full = httpx.get(
        f"{api.url}{paypal_api.TRANSACTIONS_PATH}",
        params={**params, "fields": "all"},
        headers=bearer(api),
    ).json()

    assert (plain["total_items"], plain["total_pages"], plain["page"]) == (1, 1, 1)
    assert list(plain["transaction_details"][0]) == ["transaction_info"]
    assert list(full["transaction_details"][0]) == ["transaction_info", "payer_info"]


def test_the_server_wants_a_bearer_token_and_the_right_client(api: ProcessorApi) -> None:
    params = {"start_date": "2024-03-01T00:00:00Z", "end_date": "2024-03-02T00:00:00Z"}
    anonymous = httpx.get(f"{api.url}{paypal_api.TRANSACTIONS_PATH}", params=params)
    forged = httpx.get(
        f"{api.url}{paypal_api.TRANSACTIONS_PATH}",
        params=params,
        headers={"Authorization": "Bearer A21AAforged"},
    )
    wrong = httpx.post(
        f"{api.url}{paypal_api.TOKEN_PATH}",
        auth=(api.secrets["paypal"]["login"], "wrong"),
        data={"grant_type": "client_credentials"},
    )

    assert anonymous.status_code == forged.status_code == 401
    assert anonymous.json()["name"] == forged.json()["name"] == "AUTHENTICATION_FAILURE"
    assert (wrong.status_code, wrong.json()) == (
        401,
        {"error": "invalid_client", "error_description": "Client Authentication failed"},
    )


@pytest.mark.parametrize(
    ("days", "expected"),
    [(1, 1), (31, 1), (31.5, 2), (45, 2), (62, 2), (63, 3)],
    ids=["1d", "31d", "31.5d", "45d", "62d", "63d"],
)
def test_split_window_covers_the_window_in_pieces_of_at_most_31_days(
    days: float, expected: int
) -> None:
    end = DAY + dt.timedelta(days=days)

    windows = split_window(DAY, end)

    assert len(windows) == expected
    assert windows[0][0] == DAY and windows[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
    assert all(b - a <= dt.timedelta(days=31) for a, b in windows)


def test_split_window_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        split_window(dt.datetime(2024, 3, 1), dt.datetime(2024, 3, 2))
