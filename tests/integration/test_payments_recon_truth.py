"""recon.payments on what the hooks really stage from the local APIs, against the generator's truth.

Every planted case of every processor must come out as the truth says: its break type, its
values on both sides, and nothing of another day reported for D.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from embedded.payments_seed import load_processor_apis
from embedded.processor_api import ProcessorApi
from recon.payments import BREAK_TYPES, Day, reconcile_payments
from recon.spec import load_spec
from recon_airflow.operators.processor_to_staging import ProcessorToStagingOperator
from recon_airflow.settings import REPO_ROOT
from worlds.fixtures import payments_day_fixture
from worlds.payments import (
    EXCLUDED,
    PROCESSORS,
    PaymentsDay,
    read_truth,
)

D = dt.date(2026, 11, 20)
WINDOW = dt.timedelta(hours=2)
SPEC = REPO_ROOT / "config" / "specs" / "payments.yaml"


day = payments_day_fixture(D, per_processor=400, seed=5, settlement_window=WINDOW)


@pytest.fixture
def reconciled(
    day: PaymentsDay, processor_api: ProcessorApi, tmp_path: Path
) -> dict[str, pl.DataFrame]:
    """Each processor's day, staged through its hook and reconciled: processor -> results."""
    load_processor_apis(processor_api, day)
    ledger = pl.scan_parquet(day.ledger).filter(  # what ledger_payments.sql selects around D
        pl.col("booked_at").is_between(
            day.start - dt.timedelta(days=1), day.end + dt.timedelta(days=1), closed="left"
        )
    )
    out = {}
    for processor in PROCESSORS:
        snapshot = tmp_path / processor / "left.parquet"
        ProcessorToStagingOperator(
            task_id=f"extract_{processor}",
            processor=processor,
            business_date=D.isoformat(),
            snapshot_path=str(snapshot),
            settlement_hours=WINDOW.total_seconds() / 3600,
        ).execute({})  # type: ignore[arg-type]
        result = reconcile_payments(
            pl.scan_parquet(snapshot),
            ledger,
            load_spec(SPEC),
            processor_name=processor,
            day=Day(D, WINDOW),
            out_dir=tmp_path / processor / "out",
        )
        out[processor] = result.results
    return out


def test_every_case_has_the_truths_break_type(
    day: PaymentsDay, reconciled: dict[str, pl.DataFrame]
) -> None:
    truth = read_truth(day.truth)
    for processor, results in reconciled.items():
        expected = truth.filter(pl.col("processor") == processor)
        reported = expected.filter(pl.col("status") != EXCLUDED)
        got = results.select(pl.col("reference").alias("payment_id"), "break_type")
        joined = reported.join(got, on="payment_id", how="full", coalesce=True)
        wrong = joined.filter(pl.col("status").ne_missing(pl.col("break_type")))
        assert wrong.is_empty(), (
            f"{processor}: {wrong.select('payment_id', 'kind', 'status', 'break_type')}"
        )
        excluded = expected.filter(pl.col("status") == EXCLUDED)["payment_id"]
        assert not results["reference"].is_in(excluded.implode()).any()
        assert set(results["break_type"]) <= {"matched", *BREAK_TYPES}


def test_both_sides_values_are_the_truths(
    day: PaymentsDay, reconciled: dict[str, pl.DataFrame]
) -> None:
    truth = read_truth(day.truth).filter(
        (pl.col("status") != EXCLUDED) & (pl.col("status") != "duplicate")
    )
    for processor, results in reconciled.items():
        joined = truth.filter(pl.col("processor") == processor).join(
            results, left_on="payment_id", right_on="reference"
        )
        assert joined.height == truth.filter(pl.col("processor") == processor).height
        for ours, theirs in (
            ("ledger_amount", "right_amount"),
            ("processor_amount", "left_amount"),
            ("ledger_fee", "right_fee"),
            ("processor_fee", "left_fee"),
            ("ledger_currency", "right_currency"),
            ("processor_currency", "left_currency"),
        ):
            same = pl.col(theirs).cast(joined.schema[ours])
            differ = joined.filter(pl.col(ours).ne_missing(same))
            assert differ.is_empty(), f"{processor} {ours}: {differ.select(ours, theirs)}"
        # the processor's creation time and the ledger's booking time come along
        assert joined.filter(pl.col("created_at").ne_missing(pl.col("created_at_right"))).is_empty()
        assert joined.filter(pl.col("booked_at").ne_missing(pl.col("booked_at_right"))).is_empty()


def test_money_at_stake_and_summary(day: PaymentsDay, reconciled: dict[str, pl.DataFrame]) -> None:
    truth = read_truth(day.truth)
    for processor, results in reconciled.items():
        rows = results.filter(pl.col("break_type") == "amount")
        diff = (rows["right_amount"].cast(pl.Float64) - rows["left_amount"].cast(pl.Float64)).abs()
        assert (rows["break_amount"] - diff).abs().max() < 1e-9
        fees = results.filter(pl.col("break_type") == "fee_mismatch")
        assert (fees["break_amount"] > 0).all()
        zero = results.filter(pl.col("break_type").is_in(["matched", "timing"]))
        assert (zero["break_amount"] == 0).all()
        failed = results.filter(pl.col("break_type") == "failed_payment")
        assert (failed["break_amount"] == failed["right_amount"].cast(pl.Float64).abs()).all()
        expected = truth.filter((pl.col("processor") == processor) & (pl.col("status") != EXCLUDED))
        assert results.height == expected.height
