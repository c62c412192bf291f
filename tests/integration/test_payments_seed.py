"""A generated payments day in the real Postgres and behind the local processor APIs.

The ledger must land in ``ledger.payments`` exactly (duplicates included, re-seeding replaces);
each processor's hook must read back exactly the business date's records, with the values the
truth table promises.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from embedded.payments_seed import load_processor_apis, seed_ledger_postgres
from embedded.postgres import EmbeddedPostgres
from embedded.processor_api import ProcessorApi
from recon_airflow.hooks.paypal import PayPalHook
from recon_airflow.hooks.processor import ProcessorHook, Transaction
from recon_airflow.hooks.square import SquareHook
from recon_airflow.hooks.stripe import StripeHook
from worlds.fixtures import payments_day_fixture
from worlds.payments import PROCESSORS, PaymentsDay, generate_payments_day, read_truth

D = dt.date(2026, 11, 20)
HOOKS: dict[str, Callable[..., ProcessorHook]] = {
    "stripe": StripeHook,
    "paypal": PayPalHook,
    "square": SquareHook,
}
LEDGER_COLUMNS = (
    "payment_id, processor, processor_reference, amount, currency, fee, status, booked_at"
)


day = payments_day_fixture(D, per_processor=300, seed=21)


def created_at(processor: str, record: dict[str, Any]) -> dt.datetime:
    """When the processor says a record was created (its own field), in UTC."""
    if processor == "stripe":
        return dt.datetime.fromtimestamp(record["created"], dt.UTC)
    if processor == "paypal":
        when = record["transaction_info"]["transaction_initiation_date"]
        return dt.datetime.fromisoformat(when).astimezone(dt.UTC)
    return dt.datetime.fromisoformat(record["created_at"]).astimezone(dt.UTC)


def record_id(processor: str, record: dict[str, Any]) -> str:
    return str(
        record["transaction_info"]["transaction_id"] if processor == "paypal" else record["id"]
    )


def fetch(processor: str, start: dt.datetime, end: dt.datetime) -> list[Transaction]:
    with closing(HOOKS[processor](backoff=0.01)) as hook:
        return list(hook.transactions(start, end))


@pytest.fixture
def loaded(processor_api: ProcessorApi, day: PaymentsDay) -> dict[str, int]:
    """The day's records (other days' too) behind the processor APIs: how many per processor."""
    return load_processor_apis(processor_api, day)


def truth_of(day: PaymentsDay, processor: str) -> pl.DataFrame:
    """The truth table's cases of ``processor``."""
    return read_truth(day.truth).filter(processor=processor)


# -- the ledger in Postgres ---------------------------------------------------------------------


def test_the_ledger_lands_in_postgres_exactly(pg_clean: EmbeddedPostgres, day: PaymentsDay) -> None:
    ledger = pl.read_parquet(day.ledger)
    with pg_clean.connect() as conn:
        seeded = seed_ledger_postgres(conn, day.ledger)
        rows = conn.execute(f"SELECT {LEDGER_COLUMNS} FROM ledger.payments ORDER BY id").fetchall()
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT processor, processor_reference FROM ledger.payments"
            " GROUP BY 1, 2 HAVING count(*) > 1) AS d"
        ).fetchone()
        indexes = {
            name
            for (name,) in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'ledger'"
            )
        }

    assert seeded == ledger.height == len(rows)
    assert rows == ledger.rows()  # Decimal amounts and UTC instants, exactly
    assert twice == (day.counts["duplicate_in_ledger"],)
    assert {"payments_pkey", "payments_reference", "payments_booked_at"} <= indexes


def test_seeding_again_replaces_the_ledger_and_keeps_views(
    pg_clean: EmbeddedPostgres, day: PaymentsDay, tmp_path: Path
) -> None:
    small = generate_payments_day(tmp_path, business_date=D, per_processor=60, seed=2)
    with pg_clean.connect() as conn:
        first = seed_ledger_postgres(conn, small.ledger)
        conn.execute(
            "CREATE VIEW ledger.paid AS SELECT * FROM ledger.payments WHERE status = 'paid'"
        )
        conn.commit()
        again = seed_ledger_postgres(conn, day.ledger)
        table = conn.execute("SELECT count(*), min(id) FROM ledger.payments").fetchone()
        paid = conn.execute("SELECT count(*) FROM ledger.paid").fetchone()

    assert first == pl.read_parquet(small.ledger).height
    assert table == (again, 1)  # the ids start again too
    assert again == pl.read_parquet(day.ledger).height
    assert paid == (pl.read_parquet(day.ledger).filter(status="paid").height,)


def test_the_day_is_one_query_on_booked_at(pg_clean: EmbeddedPostgres, day: PaymentsDay) -> None:
    truth = read_truth(day.truth)
    on_day = truth.filter(pl.col("booked_at").is_between(day.start, day.end, closed="left"))
    with pg_clean.connect() as conn:
        seed_ledger_postgres(conn, day.ledger)
        count = conn.execute(
            "SELECT count(*) FROM ledger.payments WHERE booked_at >= %s AND booked_at < %s",
            (day.start, day.end),
        ).fetchone()

    assert count == (on_day["ledger_rows"].sum(),)


# -- the processors' APIs -----------------------------------------------------------------------


@pytest.mark.parametrize("processor", PROCESSORS)
def test_each_hook_returns_exactly_the_days_transactions(
    loaded: dict[str, int], day: PaymentsDay, processor: str
) -> None:
    records = day.records[processor]
    expected = {
        record_id(processor, r) for r in records if day.start <= created_at(processor, r) < day.end
    }

    got = fetch(processor, day.start, day.end)

    assert loaded == {name: len(day.records[name]) for name in PROCESSORS}
    assert len(got) == len(expected) < len(records)  # other days are loaded too
    assert {t["transaction_id"] for t in got} == expected
    assert all(day.start <= t["created_at"] < day.end for t in got)


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("processor", PROCESSORS)
def test_the_hooks_read_what_the_truth_says(day: PaymentsDay, processor: str) -> None:
    truth = truth_of(day, processor)
    cases = {row["payment_id"]: row for row in truth.to_dicts()}

    got = fetch(processor, day.start - dt.timedelta(days=1), day.end + dt.timedelta(days=2))

    assert len(got) == truth["processor_rows"].sum()
    for transaction in got:
        case = cases[transaction["reference"]]
        assert transaction["transaction_id"] in (
            case["transaction_id"],
            case["second_transaction_id"],
        )
        assert transaction["gross"] == case["processor_amount"], case
        assert transaction["fee"] == case["processor_fee"], case
        assert transaction["currency"] == case["processor_currency"], case
        assert transaction["status"] == case["processor_status"], case


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("processor", PROCESSORS)
def test_timing_cases_are_in_the_settlement_window_after_midnight(
    day: PaymentsDay, processor: str
) -> None:
    truth = truth_of(day, processor)
    after_midnight = truth.filter(pl.col("kind").is_in(["timing", "next_day_in_window"]))

    got = fetch(processor, day.end, day.settlement_end)

    assert {t["transaction_id"] for t in got} == set(after_midnight["transaction_id"])
    timing = set(truth.filter(kind="timing")["transaction_id"])
    assert timing and timing <= {t["transaction_id"] for t in got}
