"""Extract one processor's transactions for a business date into a staged Parquet snapshot.

Mapped per processor. The hook pages through the processor's API; the records stream, a batch
at a time, into the base's snapshot (``StagingOperator``), which replaces the earlier one only
once the last page is in: a page that fails mid-way fails the task and leaves no partial (or
changed) snapshot. Credentials refused or records that cannot be normalised fail without
retry; 429/5xx/timeouts that outlast the hook's own attempts fail with a transient error, so
the task's retries apply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import Context

from recon_airflow.dates import as_date
from recon_airflow.errors import BadInputError
from recon_airflow.hooks.processor import (
    ProcessorAuthError,
    ProcessorDataError,
    ProcessorHook,
    Transaction,
)
from recon_airflow.operators.staging import Fetched, StagingOperator, batched, write_snapshot

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

BATCH_ROWS = 50_000
AMOUNT_SCALE = 4  # exact decimals: more places than this would be rounded, so they are refused
COLUMNS = (
    "processor",
    "transaction_id",
    "gross",
    "fee",
    "net",
    "currency",
    "status",
    "created_at",
    "reference",
)


def hook_class(processor: str) -> type[ProcessorHook]:
    """The hook of a processor by name (imported only when a task runs)."""
    if processor == "stripe":
        from recon_airflow.hooks.stripe import StripeHook

        return StripeHook
    if processor == "paypal":
        from recon_airflow.hooks.paypal import PayPalHook

        return PayPalHook
    if processor == "square":
        from recon_airflow.hooks.square import SquareHook

        return SquareHook
    raise BadInputError(f"unknown processor {processor!r}; known: paypal, square, stripe")


def day_window(business_date: dt.date | str) -> tuple[dt.datetime, dt.datetime]:
    """``[00:00, 24:00)`` UTC of the business date."""
    try:
        day = as_date(business_date)
    except BadInputError:
        raise BadInputError(f"business_date {business_date!r} is not YYYY-MM-DD") from None
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def arrow_schema() -> pa.Schema:
    import pyarrow as pa

    money = pa.decimal128(18, AMOUNT_SCALE)
    return pa.schema(
        [
            ("processor", pa.string()),
            ("transaction_id", pa.string()),
            ("gross", money),
            ("fee", money),
            ("net", money),
            ("currency", pa.string()),
            ("status", pa.string()),
            ("created_at", pa.timestamp("us", tz="UTC")),
            ("reference", pa.string()),
        ]
    )


def transaction_frames(transactions: Iterable[Transaction]) -> Iterator[pl.DataFrame]:
    """``transactions`` as frames of ``arrow_schema()``, ``BATCH_ROWS`` at a time."""
    import polars as pl
    import pyarrow as pa

    schema = arrow_schema()
    for batch in batched(transactions, BATCH_ROWS):
        for transaction in batch:
            _check_scale(transaction)
        yield pl.DataFrame(pa.Table.from_pylist(batch, schema=schema))


def transaction_schema() -> pl.Schema:
    """The snapshot's columns: ``arrow_schema()`` as polars reads it."""
    import polars as pl

    return pl.DataFrame(arrow_schema().empty_table()).schema


def write_transactions(transactions: Iterable[Transaction], path: Path) -> int:
    """Stream ``transactions`` into ``path`` (Parquet) atomically, as the operator stages
    them; returns the row count."""
    return write_snapshot(transaction_frames(transactions), path, transaction_schema())


def _check_scale(transaction: Transaction) -> None:
    for name in ("gross", "fee", "net"):
        exponent = transaction[name].as_tuple().exponent
        if isinstance(exponent, int) and exponent < -AMOUNT_SCALE:
            raise ProcessorDataError(
                f"{transaction['processor']} transaction {transaction['transaction_id']}: "
                f"{name} {transaction[name]} has more than {AMOUNT_SCALE} decimal places"
            )


class ProcessorToStagingOperator(StagingOperator):
    """One processor's transactions of ``business_date`` (UTC day) into ``snapshot_path``.

    Its Snapshot's source is the processor.

    :param processor: ``stripe``, ``paypal`` or ``square``.
    :param conn_id: the processor's connection (default ``recon_<processor>``).
    :param settlement_hours: how far past midnight the processor side reaches (a payment
        booked late on D may settle on D+1: the recon calls it ``timing`` inside this window).
    :param max_attempts: / ``backoff``: the hook's own retries per request.
    """

    template_fields: Sequence[str] = (
        "processor",
        "business_date",
        "snapshot_path",
        "conn_id",
        "source",
        "required_columns",
    )

    def __init__(
        self,
        *,
        processor: str,
        business_date: dt.date | str,
        conn_id: str | None = None,
        settlement_hours: float = 0.0,
        max_attempts: int = 5,
        backoff: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(source=processor, **kwargs)
        self.processor = processor
        self.business_date = business_date
        self.conn_id = conn_id
        self.settlement_hours = settlement_hours
        self.max_attempts = max_attempts
        self.backoff = backoff

    @contextmanager
    def fetch(self, context: Context, workdir: Path) -> Iterator[Fetched]:
        start, end = day_window(self.business_date)
        if not 0 <= self.settlement_hours <= 24:
            raise BadInputError(
                f"settlement_hours {self.settlement_hours} must be between 0 and 24"
            )
        end += dt.timedelta(hours=self.settlement_hours)
        hook = hook_class(self.processor)(
            self.conn_id or f"recon_{self.processor}",
            max_attempts=self.max_attempts,
            backoff=self.backoff,
        )
        try:
            yield Fetched(
                frames=transaction_frames(hook.transactions(start, end)),
                file=f"{self.processor} API {start:%Y-%m-%dT%H:%M}Z..{end:%Y-%m-%dT%H:%M}Z",
                schema=transaction_schema(),
            )
        except (ProcessorAuthError, ProcessorDataError) as exc:  # retrying cannot fix these
            raise BadInputError(f"{self.processor} {self.business_date}: {exc}") from exc
        finally:
            hook.close()


__all__ = [
    "ProcessorToStagingOperator",
    "day_window",
    "hook_class",
    "transaction_frames",
    "write_transactions",
]
