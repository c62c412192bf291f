"""The AUM test data: registrar DBFs, a ledger whose signed sums give the holdings, and truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from recon.engine.reconcile import compare_files
from recon.readers.dbf import read_dbf
from recon.spec import load_spec
from worlds.aum import (
    EXPECTED,
    REGISTRAR_AMCS,
    AumSample,
    generate_aum,
    holdings_file_name,
    ledger_positions,
)

SPECS = Path(__file__).resolve().parents[2] / "config" / "specs"
PIPELINE_WORDS = {"left_only": "dbf_only", "right_only": "mongo_only"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> AumSample:
    return generate_aum(tmp_path_factory.mktemp("aum"), positions=600, seed=5)


@pytest.mark.parametrize("registrar", list(REGISTRAR_AMCS))
def test_core_finds_exactly_the_planted_statuses(
    sample: AumSample, registrar: str, tmp_path: Path
) -> None:
    positions = tmp_path / "positions.parquet"
    ledger = pl.scan_parquet(sample.ledger)
    amcs = REGISTRAR_AMCS[registrar]
    ledger_positions(ledger, sample.business_date, amcs).collect().write_parquet(positions)
    spec = load_spec(SPECS / f"aum_{registrar.lower()}.yaml")
    result = compare_files(
        spec, sample.holdings[registrar], positions, tmp_path / "out", reports=()
    )
    got = result.results.select(
        "amc_code", "folio", "product", pl.col("status").replace(PIPELINE_WORDS)
    )
    truth = pl.read_csv(sample.truth, schema_overrides={"folio": pl.String}).filter(
        pl.col("registrar") == registrar
    )
    joined = truth.join(got, on=["amc_code", "folio", "product"], how="full", coalesce=True)
    wrong = joined.filter(pl.col("status") != pl.col("status_right"))
    assert wrong.height == 0, wrong.head()
    assert joined["status_right"].null_count() == 0 and joined["status"].null_count() == 0
    assert set(joined["kind"]) == set(EXPECTED)
    assert result.summary["row_conservation"]["ok"]


def test_registrars_write_their_own_layouts(sample: AumSample) -> None:
    cams = read_dbf(sample.holdings["CAMS"])
    karvy = read_dbf(sample.holdings["KARVY"])
    assert cams.columns[:3] == ["FOLIO_NO", "AMC_CODE", "PRODCODE"]
    assert karvy.columns[:3] == ["TD_ACNO", "TD_FUND", "FMCODE"]
    assert set(cams["REP_DATE"]) == {"11/20/2026"}  # month-first
    assert set(karvy["REP_DT"]) == {"20/11/2026"}  # day-first
    assert cams["FOLIO_NO"].str.contains(r"^\d{8}/\d{2}$").all()
    assert cams.schema["CLOS_BAL"] == pl.Decimal(18, 4)
    assert cams["SCHEME"].str.contains("–").any()  # cp1252 text round-trips
    assert set(cams["AMC_CODE"]) <= set(REGISTRAR_AMCS["CAMS"])
    assert sample.holdings["CAMS"].name == holdings_file_name("CAMS", sample.business_date)


def test_ledger_signed_sums_equal_the_truth_exactly(sample: AumSample) -> None:
    positions = ledger_positions(pl.scan_parquet(sample.ledger), sample.business_date).collect()
    truth = pl.read_csv(
        sample.truth, schema_overrides={"folio": pl.String, "ledger_units": pl.String}
    )
    booked = truth.filter(pl.col("ledger_units").is_not_null())
    joined = booked.join(positions, on=["amc_code", "folio", "product"], how="left")
    assert joined["units"].null_count() == 0
    assert (joined["units"].cast(pl.String) == joined["ledger_units"]).all()
    assert positions.height == booked.height  # no position without truth


def test_transactions_after_the_report_date_exist_and_are_left_out(sample: AumSample) -> None:
    ledger = pl.read_parquet(sample.ledger)
    later = ledger.filter(pl.col("txn_date") > sample.business_date)
    truth = pl.read_csv(sample.truth, schema_overrides={"folio": pl.String})
    assert later.height == truth.filter(pl.col("kind") == "future_transaction").height > 0
    assert set(ledger["txn_type"]) == {"BUY", "SELL", "REDEMPTION", "SWITCH_IN", "SWITCH_OUT"}


def test_report_date_can_differ_from_the_business_date(tmp_path: Path) -> None:
    sample = generate_aum(tmp_path, positions=200, report_date=dt.date(2026, 11, 19))
    assert set(read_dbf(sample.holdings["CAMS"])["REP_DATE"]) == {"11/19/2026"}
    assert sample.holdings["CAMS"].name.endswith("20261120.dbf")


def test_a_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    first = generate_aum(tmp_path / "a", positions=200, seed=9)
    second = generate_aum(tmp_path / "b", positions=200, seed=9)
    for registrar in REGISTRAR_AMCS:
        assert first.holdings[registrar].read_bytes() == second.holdings[registrar].read_bytes()
    assert first.ledger.read_bytes() == second.ledger.read_bytes()
