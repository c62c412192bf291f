"""SqlToStagingOperator: the ledger's business day from Postgres into a Parquet snapshot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from airflow.sdk.exceptions import AirflowFailException

from embedded.payments_seed import seed_ledger_postgres
from recon_airflow.operators.sql_to_staging import SqlToStagingOperator, query_frame
from worlds.fixtures import payments_day_fixture
from worlds.payments import PaymentsDay

DAY = dt.date(2026, 11, 20)


day = payments_day_fixture(DAY, per_processor=150)


def run(path: Path, day: PaymentsDay, sql: str = "ledger_payments.sql") -> dict[str, Any]:
    op = SqlToStagingOperator(
        task_id="ledger",
        source="ledger",
        sql=sql,
        snapshot_path=str(path),
        parameters={"start": day.start.isoformat(), "end": day.end.isoformat()},
    )
    return dict(op.execute({}))  # type: ignore[arg-type]


def test_the_days_ledger_rows_exactly(
    pg_clean: Any, db_connections: dict[str, str], day: PaymentsDay, tmp_path: Path
) -> None:
    with pg_clean.connect() as conn:
        seed_ledger_postgres(conn, day.ledger)
    snapshot = run(tmp_path / "ledger.parquet", day)
    staged = pl.read_parquet(tmp_path / "ledger.parquet")
    expected = pl.read_parquet(day.ledger).filter(
        (pl.col("booked_at") >= day.start) & (pl.col("booked_at") < day.end)
    )
    assert snapshot["rows"] == staged.height == expected.height > 0
    key = ["processor", "payment_id", "booked_at"]
    assert (
        staged.sort(key)
        .select(expected.columns)
        .with_columns(pl.col("amount", "fee").cast(pl.Decimal(18, 2)))
        .equals(expected.sort(key))
    )


def test_refusals_fail_without_retry(
    pg_clean: Any, db_connections: dict[str, str], day: PaymentsDay, tmp_path: Path
) -> None:
    target = tmp_path / "ledger.parquet"
    with pytest.raises(AirflowFailException, match=r"ledger\.payments"):  # no table yet
        run(target, day)
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(AirflowFailException, match=r"no include/sql/nope\.sql"):
        run(target, day, "nope.sql")
    with pytest.raises(AirflowFailException, match=r"not a \.sql file in include/sql"):
        run(target, day, "../../etc/passwd")


def test_copy_keeps_types_nulls_and_empty_strings(pg_clean: Any) -> None:
    """COPY's CSV comes back with the query's own types: exact decimals, UTC times, booleans,
    and an empty string that stays apart from NULL (a value that looks like a marker too)."""
    query = """
        SELECT id, note, amount::numeric(18, 2) AS amount, n, ok, day, at FROM (VALUES
            ('P1', '', 12.34, 7::int8, true, '2026-11-20'::date,
             '2026-11-20 23:59:59.123456+05:30'::timestamptz),
            (NULL, '\\N', NULL, NULL, false, NULL, NULL)
        ) AS t (id, note, amount, n, ok, day, at)
        WHERE %(wanted)s
    """
    with pg_clean.connect() as conn:
        frame = query_frame(conn, query, {"wanted": True})
    assert frame.schema == {
        "id": pl.String,
        "note": pl.String,
        "amount": pl.Decimal(18, 2),
        "n": pl.Int64,
        "ok": pl.Boolean,
        "day": pl.Date,
        "at": pl.Datetime("us", "UTC"),
    }
    assert frame.rows() == [
        (
            "P1",
            "",
            Decimal("12.34"),
            7,
            True,
            dt.date(2026, 11, 20),
            dt.datetime(2026, 11, 20, 18, 29, 59, 123456, tzinfo=dt.UTC),
        ),
        (None, "\\N", None, None, False, None, None),
    ]
