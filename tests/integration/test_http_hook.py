"""The generic JSON-over-HTTP hook: an ``http`` connection as client settings, and which of
the plugin's errors each failure is (whether Airflow's retries apply)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from airflow.sdk import Connection

from recon_airflow.errors import BadInputError, ServiceUnavailableError, is_retryable
from recon_airflow.hooks.http import (
    HttpAuthError,
    HttpRefusedError,
    HttpUnavailableError,
    client_settings,
)
from recon_airflow.hooks.mongo import MongoUnavailableError
from recon_airflow.hooks.paypal import PayPalDataError
from recon_airflow.hooks.processor import (
    ProcessorAuthError,
    ProcessorDataError,
    ProcessorRefusedError,
    ProcessorUnavailableError,
)
from recon_airflow.hooks.square import SquareDataError
from recon_airflow.hooks.stripe import StripeDataError
from recon_airflow.ledger_positions import LedgerDataError


def http(extra: dict[str, Any] | None = None, **fields: Any) -> Connection:
    extras = {"extra": json.dumps(extra)} if extra is not None else {}
    return Connection(conn_id="shop_api", conn_type="http", **fields, **extras)


@pytest.mark.parametrize(
    ("fields", "base_url"),
    [
        ({"host": "api.example.test"}, "https://api.example.test"),
        ({"host": "api.example.test", "port": 8443}, "https://api.example.test:8443"),
        ({"host": "api.example.test", "schema": "http", "port": 80}, "http://api.example.test:80"),
        ({"host": "http://127.0.0.1:8080", "port": 9}, "http://127.0.0.1:8080"),
    ],
    ids=["https-default", "port", "schema", "url-as-host"],
)
def test_the_base_url(fields: dict[str, Any], base_url: str) -> None:
    assert client_settings(http(**fields)).base_url == base_url


def test_credentials_extras_and_timeout() -> None:
    basic = client_settings(http(host="h", login="me", password="pw"))
    bearer = client_settings(http(host="h", password="tok", extra={"X-Tenant": "eu"}))
    timed = client_settings(http(host="h", extra={"timeout": 5}), timeout=None)
    explicit = client_settings(http(host="h", extra={"timeout": 5}), timeout=2)

    assert (basic.auth, basic.headers) == (("me", "pw"), {})
    assert (bearer.auth, bearer.headers) == (
        None,
        {"X-Tenant": "eu", "Authorization": "Bearer tok"},
    )
    assert (timed.timeout, explicit.timeout, basic.timeout) == (5.0, 2.0, 30.0)
    assert "pw" not in repr(basic) and "tok" not in repr(bearer)


def test_without_connection_credentials_nothing_of_the_connection_is_sent() -> None:
    settings = client_settings(
        http(host="h", login="me", password="pw", extra={"square_version": "2022-12-14"}),
        credentials=False,
    )
    assert (settings.auth, settings.headers) == (None, {})


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({}, "the connection has no host (base URL)"),
        (
            {"host": "h", "extra": {"timeout": "soon"}},
            "the extra `timeout` is 'soon', not a number",
        ),
        (
            {"host": "h", "extra": {"page_size": 100, "verify": False}},
            "extras page_size, verify are not header values (strings)",
        ),
    ],
    ids=["no-host", "timeout", "not-headers"],
)
def test_a_connection_that_cannot_be_used(fields: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(words)):
        client_settings(http(**fields))


@pytest.mark.parametrize(
    ("error", "branch"),
    [
        (HttpRefusedError("c", 400, "x"), BadInputError),
        (HttpAuthError("c", 401, "x"), BadInputError),
        (HttpUnavailableError("c", 503, "x"), ServiceUnavailableError),
        (ProcessorRefusedError("c", 400, "x"), BadInputError),
        (ProcessorAuthError("c", 401, "x"), BadInputError),
        (ProcessorUnavailableError("c", 429, "x"), ServiceUnavailableError),
        (ProcessorDataError("x"), BadInputError),
        (StripeDataError("c", 200, "x"), BadInputError),
        (SquareDataError("c", 200, "x"), BadInputError),
        (PayPalDataError("x"), BadInputError),
        (LedgerDataError("x"), BadInputError),
        (MongoUnavailableError("x"), ServiceUnavailableError),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else value.__name__,
)
def test_each_error_sits_on_its_branch_of_the_plugin_tree(
    error: Exception, branch: type[Exception]
) -> None:
    assert isinstance(error, branch)
    assert is_retryable(error) is (branch is ServiceUnavailableError)


def test_messages_name_the_connection_as_before() -> None:
    assert str(ProcessorUnavailableError("recon_paypal", 500, "boom")) == (
        "processor connection 'recon_paypal': HTTP 500: boom"
    )
    assert str(HttpRefusedError("shop_api", None, "no host")) == (
        "HTTP connection 'shop_api': no answer: no host"
    )
