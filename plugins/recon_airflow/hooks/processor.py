"""What every payment-processor hook shares: one normalised record, and HTTP with the rules.

Each processor's hook (``hooks.stripe``, ``hooks.paypal``, ``hooks.square``) pages through its
list endpoint and maps each record to ``Transaction``: exact decimals in major units, a
normalised status, the creation time in UTC. The HTTP is ``hooks.http.JsonApiHook``'s:

- 429 waits for ``Retry-After`` (seconds; capped) and tries again;
- 5xx, timeouts and dropped connections back off exponentially and try again;
- 401/403 raise ``ProcessorAuthError`` at once (retrying cannot fix credentials);
- after ``max_attempts`` the last error is raised as ``ProcessorUnavailableError`` (transient:
  the task's own retries apply).

Credentials come only from the Airflow connection (host = base URL) and are never logged; each
processor's hook puts them on its requests as its API wants.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, TypedDict

from recon_airflow.errors import BadInputError
from recon_airflow.hooks.http import (
    HttpApiError,
    HttpAuthError,
    HttpRefusedError,
    HttpUnavailableError,
    JsonApiHook,
)

# Normalised statuses (each hook maps its processor's words onto these).
SUCCEEDED: Final = "succeeded"
PENDING: Final = "pending"
FAILED: Final = "failed"
CANCELED: Final = "canceled"
REFUNDED: Final = "refunded"
STATUSES: Final = (SUCCEEDED, PENDING, FAILED, CANCELED, REFUNDED)


class Transaction(TypedDict):
    """One processor record, normalised (the extract's Parquet has exactly these columns)."""

    processor: str
    transaction_id: str
    gross: Decimal  # major units, exact
    fee: Decimal
    net: Decimal
    currency: str  # ISO 4217, upper case
    status: str  # one of STATUSES
    created_at: dt.datetime  # UTC
    reference: str | None  # what the ledger books it under (our payment id)


# Normalised payout statuses (each hook maps its processor's words onto these).
PAID: Final = "paid"
IN_TRANSIT: Final = "in_transit"
PAYOUT_STATUSES: Final = (PAID, IN_TRANSIT, PENDING, FAILED, CANCELED)


@dataclass(frozen=True)
class Payout:
    """One transfer from a processor balance to the bank, normalised.

    :ivar amount: major units, exact; positive: what leaves the processor for the bank.
    :ivar status: one of ``PAYOUT_STATUSES``.
    :ivar arrival_date: when the bank should see it (None where the processor does not say).
    """

    processor: str
    payout_id: str
    amount: Decimal
    currency: str
    status: str
    created_at: dt.datetime  # UTC
    arrival_date: dt.date | None = None


@dataclass(frozen=True)
class PayoutEntry:
    """One movement a payout settles (a charge, a refund, a fee), signed, exact major units.

    :ivar type: the processor's own word (Stripe ``charge``/``refund``/``stripe_fee``/``payout``,
        Square ``CHARGE``/``REFUND``/``FEE``...).
    :ivar reference: the payment it belongs to, where the processor names one.
    """

    processor: str
    payout_id: str
    entry_id: str
    type: str
    gross: Decimal
    fee: Decimal
    net: Decimal  # gross - fee
    currency: str
    effective_at: dt.datetime  # UTC
    reference: str | None = None


class ProcessorError(HttpApiError):
    """A processor's request failed (``conn_id``, ``status``); the subclass says whether a
    retry can help."""

    service = "processor connection"


class ProcessorRefusedError(ProcessorError, HttpRefusedError):
    """The processor refused the request or sent an unusable page (not something a retry fixes)."""


class ProcessorDataError(BadInputError):
    """A record the processor sent cannot be normalised: bad data, a retry gets the same.

    Every hook's data error is one of these, so the extract maps them to a failure without
    retry in one place.
    """


class ProcessorAuthError(ProcessorError, HttpAuthError):
    """401/403: the connection's credentials were refused."""


class ProcessorUnavailableError(ProcessorError, HttpUnavailableError):
    """429/5xx/timeouts persisted through every attempt (transient: retry the task later)."""


def minor_to_major(amount: int, currency: str) -> Decimal:
    """Minor units (cents) to an exact major-unit Decimal; zero-decimal currencies kept whole."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    return Decimal(amount).scaleb(-exponent)


# Currencies without minor units (Stripe's list; Square and PayPal agree on these).
ZERO_DECIMAL: Final = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)


class ProcessorHook(JsonApiHook):
    """Base for the processors' hooks: ``JsonApiHook``'s HTTP under the processor's errors."""

    processor: str = ""
    # each processor puts the connection's credentials on its requests as its API wants
    connection_credentials = False
    refused_error = ProcessorRefusedError
    auth_error = ProcessorAuthError
    unavailable_error = ProcessorUnavailableError

    @property
    def label(self) -> str:
        return self.processor or self.conn_id

    def transactions(self, start: dt.datetime, end: dt.datetime) -> Iterator[Transaction]:
        """Every transaction created in ``[start, end)`` (UTC), normalised, page by page."""
        raise NotImplementedError
