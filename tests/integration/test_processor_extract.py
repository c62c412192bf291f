"""ProcessorToStagingOperator against the local processor APIs: snapshot, faults, no partials."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from airflow.sdk.exceptions import AirflowFailException

from embedded.processor_api import ProcessorApi
from recon.files import file_digest
from recon_airflow.hooks.processor import ProcessorUnavailableError
from recon_airflow.operators.processor_to_staging import ProcessorToStagingOperator
from worlds.processor_records import balance_transaction, payment

DAY = dt.date(2026, 11, 20)
T0 = int(dt.datetime(2026, 11, 20, tzinfo=dt.UTC).timestamp())


def extract(processor: str, path: Path, **kwargs: object) -> dict[str, object]:
    op = ProcessorToStagingOperator(
        task_id=f"extract_{processor}",
        processor=processor,
        business_date=DAY.isoformat(),
        snapshot_path=str(path),
        max_attempts=2,
        backoff=0.01,
        **kwargs,
    )
    return dict(op.execute({}))  # type: ignore[arg-type]


def stripe_day(n: int) -> list[dict[str, object]]:
    return [
        balance_transaction(
            f"txn_{i:06d}",
            amount=1000 + i,
            fee=59,
            currency="usd",
            created=T0 + i,
            description=f"order P{i:06d}",
        )
        for i in range(n)
    ] + [  # the day before and the day after stay out
        balance_transaction("txn_before", amount=1, fee=0, currency="usd", created=T0 - 1),
        balance_transaction("txn_after", amount=1, fee=0, currency="usd", created=T0 + 86_400),
    ]


def test_stripe_day_is_staged_exactly(processor_api: ProcessorApi, tmp_path: Path) -> None:
    processor_api.load("stripe", stripe_day(250))
    snapshot = extract("stripe", tmp_path / "stripe.parquet")
    frame = pl.read_parquet(tmp_path / "stripe.parquet")
    assert snapshot["rows"] == frame.height == 250
    assert snapshot["sha256"] == file_digest(tmp_path / "stripe.parquet")
    assert snapshot["source"] == "stripe"
    first = frame.sort("transaction_id").row(0, named=True)
    assert first["gross"] == Decimal("10.0000") and first["fee"] == Decimal("0.5900")
    assert first["net"] == Decimal("9.4100") and first["currency"] == "USD"
    assert first["reference"] == "P000000" and first["status"] == "succeeded"
    assert first["created_at"] == dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    assert set(frame.columns) == {
        "processor", "transaction_id", "gross", "fee", "net", "currency", "status",
        "created_at", "reference",
    }  # fmt: skip


def test_square_zero_decimal_currency(processor_api: ProcessorApi, tmp_path: Path) -> None:
    created = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    processor_api.load(
        "square", [payment("sq1", created, 1500, "JPY", fees=[54], reference_id="P1")]
    )
    extract("square", tmp_path / "square.parquet")
    row = pl.read_parquet(tmp_path / "square.parquet").row(0, named=True)
    assert (row["gross"], row["fee"], row["net"]) == (Decimal(1500), Decimal(54), Decimal(1446))


def test_empty_day_gives_an_empty_snapshot(processor_api: ProcessorApi, tmp_path: Path) -> None:
    snapshot = extract("stripe", tmp_path / "empty.parquet")
    assert snapshot["rows"] == 0
    assert pl.read_parquet(tmp_path / "empty.parquet").height == 0


def test_a_page_failing_midway_leaves_the_earlier_snapshot(
    processor_api: ProcessorApi, tmp_path: Path
) -> None:
    target = tmp_path / "stripe.parquet"
    processor_api.load("stripe", stripe_day(50))
    extract("stripe", target)
    before = target.read_bytes()
    processor_api.load("stripe", stripe_day(250))
    original_answer = processor_api._answer
    calls = {"n": 0}

    def second_page_down(request):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] >= 2:
            processor_api.fail("stripe", 503, times=5)
        return original_answer(request)

    processor_api._answer = second_page_down  # type: ignore[method-assign]
    try:
        with pytest.raises(ProcessorUnavailableError):
            extract("stripe", target)
    finally:
        processor_api._answer = original_answer  # type: ignore[method-assign]
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stripe.parquet"]  # no partial left


def test_refused_credentials_fail_without_retry(
    processor_api: ProcessorApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_RECON_STRIPE",
        f'{{"conn_type": "http", "host": "{processor_api.url}", "password": "sk_test_wrong"}}',
    )
    with pytest.raises(AirflowFailException, match="HTTP 401") as failure:
        extract("stripe", tmp_path / "stripe.parquet")
    assert "sk_test_wrong" not in str(failure.value)
    assert not (tmp_path / "stripe.parquet").exists()


def test_unknown_processor_and_bad_date(tmp_path: Path) -> None:
    with pytest.raises(AirflowFailException, match="unknown processor 'adyen'"):
        extract("adyen", tmp_path / "x.parquet")
    op = ProcessorToStagingOperator(
        task_id="x", processor="stripe", business_date="20/11/2026", snapshot_path=str(tmp_path)
    )
    with pytest.raises(AirflowFailException, match="not YYYY-MM-DD"):
        op.execute({})  # type: ignore[arg-type]


def test_settlement_window_reaches_past_midnight(
    processor_api: ProcessorApi, tmp_path: Path
) -> None:
    day_end = T0 + 86_400
    processor_api.load(
        "stripe",
        [
            balance_transaction(
                "txn_late", amount=500, fee=0, currency="usd", created=day_end + 600
            ),
            balance_transaction(
                "txn_next", amount=500, fee=0, currency="usd", created=day_end + 7200
            ),
        ],
    )
    assert extract("stripe", tmp_path / "a.parquet")["rows"] == 0
    extract("stripe", tmp_path / "b.parquet", settlement_hours=1)
    assert pl.read_parquet(tmp_path / "b.parquet")["transaction_id"].to_list() == ["txn_late"]
    with pytest.raises(AirflowFailException, match="between 0 and 24"):
        extract("stripe", tmp_path / "c.parquet", settlement_hours=30)
