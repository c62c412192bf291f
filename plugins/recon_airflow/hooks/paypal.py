"""PayPal's Transaction Search API (``GET /v1/reporting/transactions``) as ``Transaction`` rows.

The connection (default ``recon_paypal``) carries the API base URL as host, the REST app's
client id as login and its secret as password. The hook

- gets an OAuth2 client-credentials token (``POST /v1/oauth2/token``) once and reuses it until
  it expires; a 401 from the transactions endpoint fetches a new one once, a second 401 fails;
- splits the window into windows of at most 31 days (PayPal's limit) and pages each one with
  ``page=1..total_pages`` and ``page_size=500`` (PayPal's maximum);
- keeps what was initiated in ``[start, end)`` only: PayPal's ``end_date`` does not say whether
  it is inclusive, so a transaction on the boundary of two windows is kept once, by the window
  it starts.

Mapping of one ``transaction_info`` to ``Transaction``:

- ``gross`` = ``transaction_amount.value`` (signed: refunds and reversals are negative);
- ``fee`` = minus ``fee_amount.value``: PayPal reports the fee it takes as a negative amount, so
  the fee on a payment is positive here, and a fee PayPal gives back on a refund is negative;
  ``net`` = ``gross - fee``, which is exactly the change to the PayPal balance. No
  ``fee_amount`` (PayPal omits it when no fee applies) is a zero fee;
- all three exact, from PayPal's decimal strings (never through float);
- ``status``: ``S`` succeeded, ``P`` pending, ``D`` failed (denied), ``V`` refunded (fully
  reversed); ``F`` (partially refunded) is succeeded, because the payment itself settled and its
  partial refund comes as its own negative transaction. Any other code is a ``PayPalDataError``;
- ``created_at`` = ``transaction_initiation_date`` in UTC (PayPal gives the account's offset);
- ``reference`` = ``invoice_id`` (what the merchant sent with the capture: our payment id), else
  ``custom_field`` (where MassPay and some integrations put it), else ``None``.

``settlements(start, end)`` asks for the T0400 general withdrawals only
(``transaction_type=T0400``; optionally ``transaction_status``) and yields each as a
``Payout``: amount = minus ``transaction_amount`` (PayPal debits the withdrawal), status ``S``
paid, ``P`` in transit, ``D`` failed, ``V`` canceled. What a sweep settled is the balance the
transactions before it left: their ``net`` (fees T0006's ``fee_amount``, refunds T1107, fees
T01nn) in ``transactions``.

The client secret and the access token are never logged nor put in an error message.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from recon_airflow.hooks.processor import (
    CANCELED,
    FAILED,
    IN_TRANSIT,
    PAID,
    PENDING,
    REFUNDED,
    SUCCEEDED,
    Payout,
    ProcessorAuthError,
    ProcessorDataError,
    ProcessorHook,
    ProcessorRefusedError,
    Transaction,
)

log = logging.getLogger(__name__)

TOKEN_PATH: Final = "/v1/oauth2/token"
TRANSACTIONS_PATH: Final = "/v1/reporting/transactions"
MAX_WINDOW: Final = dt.timedelta(days=31)
PAGE_SIZE: Final = 500
# refetch a token this long before PayPal says it expires (clock skew, long pages)
TOKEN_MARGIN: Final = 60.0
STATUSES: Final = {"S": SUCCEEDED, "P": PENDING, "D": FAILED, "V": REFUNDED, "F": SUCCEEDED}
WITHDRAWAL: Final = "T0400"  # general withdrawal from the PayPal account: the sweep to the bank
# a withdrawal PayPal holds as pending is on its way to the bank; a reversed one was canceled
PAYOUT_STATUSES: Final = {
    "S": PAID,
    "P": IN_TRANSIT,
    "D": FAILED,
    "V": CANCELED,
    "F": PAID,
}


class PayPalDataError(ProcessorDataError):
    """A PayPal record cannot be normalised (bad data: retrying will not fix it)."""


def split_window(
    start: dt.datetime, end: dt.datetime, longest: dt.timedelta = MAX_WINDOW
) -> list[tuple[dt.datetime, dt.datetime]]:
    """``[start, end)`` cut into consecutive half-open windows of at most ``longest`` each."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError(f"window {start} .. {end}: give timezone-aware datetimes (UTC)")
    if end < start:
        raise ValueError(f"window {start} .. {end}: end is before start")
    windows = []
    while start < end:
        stop = min(start + longest, end)
        windows.append((start, stop))
        start = stop
    return windows


def to_transaction(detail: Mapping[str, Any]) -> Transaction:
    """One ``transaction_details`` item as a normalised ``Transaction``."""
    info = detail.get("transaction_info") or {}
    txn_id = info.get("transaction_id")
    if not txn_id:
        raise PayPalDataError(f"a PayPal transaction has no transaction_id: {_keys(info)}")
    amount = info.get("transaction_amount") or {}
    currency = str(amount.get("currency_code") or "").upper()
    if len(currency) != 3:
        raise PayPalDataError(
            f"PayPal transaction {txn_id}: currency_code {currency!r} is not an ISO 4217 code"
        )
    gross = _decimal(txn_id, "transaction_amount", amount.get("value"))
    fee_amount = info.get("fee_amount")
    fee = Decimal(0)
    if fee_amount:
        if str(fee_amount.get("currency_code") or "").upper() != currency:
            raise PayPalDataError(
                f"PayPal transaction {txn_id}: fee in {fee_amount.get('currency_code')!r} but "
                f"amount in {currency!r}"
            )
        fee = -_decimal(txn_id, "fee_amount", fee_amount.get("value"))
    code = info.get("transaction_status")
    status = STATUSES.get(str(code))
    if status is None:
        raise PayPalDataError(
            f"PayPal transaction {txn_id}: unknown transaction_status {code!r} "
            f"(expected one of {', '.join(STATUSES)})"
        )
    return Transaction(
        processor="paypal",
        transaction_id=str(txn_id),
        gross=gross,
        fee=fee,
        net=gross - fee,
        currency=currency,
        status=status,
        created_at=_initiated(txn_id, info.get("transaction_initiation_date")),
        reference=info.get("invoice_id") or info.get("custom_field") or None,
    )


def to_payout(detail: Mapping[str, Any]) -> Payout:
    """A T0400 withdrawal as a ``Payout``: its amount (negative at PayPal) as a positive one."""
    transaction = to_transaction(detail)
    info = detail.get("transaction_info") or {}
    code = info.get("transaction_event_code")
    if code != WITHDRAWAL:
        raise PayPalDataError(
            f"PayPal transaction {transaction['transaction_id']}: event code {code!r} is not "
            f"{WITHDRAWAL} (general withdrawal)"
        )
    return Payout(
        processor="paypal",
        payout_id=transaction["transaction_id"],
        amount=-transaction["gross"],
        currency=transaction["currency"],
        status=PAYOUT_STATUSES[str(info.get("transaction_status"))],
        created_at=transaction["created_at"],
    )


class PayPalHook(ProcessorHook):
    """PayPal's transactions of a window, normalised; see the module docstring for the rules."""

    default_conn_name = "recon_paypal"
    hook_name = "PayPal"
    processor = "paypal"

    def __init__(self, conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        self._token: str | None = None
        self._token_expires = 0.0  # time.monotonic() deadline

    def transactions(self, start: dt.datetime, end: dt.datetime) -> Iterator[Transaction]:
        """Every transaction initiated in ``[start, end)``, window by window, page by page."""
        for detail in self._details(start, end, {}):
            yield to_transaction(detail)

    def settlements(
        self, start: dt.datetime, end: dt.datetime, *, status: str | None = None
    ) -> Iterator[Payout]:
        """Every T0400 general withdrawal (the sweep of the balance to the bank) initiated in
        ``[start, end)`` as a ``Payout``; ``status`` (``S``, ``P``, ``D``, ``V``) asks PayPal
        for those only."""
        filters = {"transaction_type": WITHDRAWAL}
        if status is not None:
            filters["transaction_status"] = status
        for detail in self._details(start, end, filters):
            yield to_payout(detail)

    def _details(
        self, start: dt.datetime, end: dt.datetime, filters: Mapping[str, str]
    ) -> Iterator[Mapping[str, Any]]:
        """The ``transaction_details`` of ``[start, end)`` PayPal keeps with ``filters``, each
        once: what falls outside its window (PayPal's inclusive end) is the next window's."""
        for window_start, window_end in split_window(start, end):
            page, total_pages = 1, 1
            while page <= total_pages:
                body = self._get_transactions(
                    {
                        "start_date": _iso(window_start),
                        "end_date": _iso(window_end),
                        **filters,
                        "page": page,
                        "page_size": PAGE_SIZE,
                    }
                )
                total_pages = int(body.get("total_pages") or 0)
                if page == 1:
                    log.info(
                        "paypal: %s .. %s: %d transactions in %d pages",
                        _iso(window_start),
                        _iso(window_end),
                        int(body.get("total_items") or 0),
                        total_pages,
                    )
                log.debug("paypal: page %d of %d", page, total_pages)
                for detail in body.get("transaction_details") or []:
                    info = detail.get("transaction_info") or {}
                    moment = _initiated(
                        info.get("transaction_id"), info.get("transaction_initiation_date")
                    )
                    if window_start <= moment < window_end:
                        yield detail
                page += 1

    def _get_transactions(self, params: Mapping[str, Any]) -> Any:
        """One page; a 401 (the token expired or was revoked) gets a new token once."""
        headers = self._bearer()  # outside the try: refused client credentials fail at once
        try:
            return self.get_json(TRANSACTIONS_PATH, params=params, headers=headers)
        except ProcessorAuthError as exc:
            if exc.status != 401:
                raise
            log.warning("paypal: access token refused (%s); getting a new one", exc)
            self._token = None
            return self.get_json(TRANSACTIONS_PATH, params=params, headers=self._bearer())

    def _bearer(self) -> dict[str, str]:
        if self._token is None or time.monotonic() >= self._token_expires:
            self._token, lifetime = self._fetch_token()
            self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN, 0.0)
        return {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}

    def _fetch_token(self) -> tuple[str, float]:
        self.get_conn()  # reads login/password from the connection
        body = self.get_json(
            TOKEN_PATH,
            method="POST",
            data={"grant_type": "client_credentials"},
            auth=(self._login, self._password),
            headers={"Accept": "application/json"},
        )
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token or str(body.get("token_type", "")).lower() != "bearer":
            raise ProcessorRefusedError(
                self.conn_id, 200, "the token answer has no Bearer access_token"
            )
        log.info("paypal: got an access token for %d s", int(body.get("expires_in") or 0))
        return str(token), float(body.get("expires_in") or 0)


def _iso(moment: dt.datetime) -> str:
    """Internet date-time with seconds and an explicit UTC offset, as PayPal requires."""
    return moment.astimezone(dt.UTC).isoformat()


def _decimal(txn_id: object, name: str, value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal("NaN")
    if value is None or not amount.is_finite():
        raise PayPalDataError(
            f"PayPal transaction {txn_id}: {name}.value {value!r} is not a number"
        )
    return amount


def _initiated(txn_id: object, value: object) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise PayPalDataError(
            f"PayPal transaction {txn_id}: transaction_initiation_date {value!r} is not a date-time"
            " with an offset"
        )
    return moment.astimezone(dt.UTC)


def _keys(info: Mapping[str, Any]) -> str:
    return ", ".join(sorted(info)) or "empty transaction_info"
