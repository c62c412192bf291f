"""The sample pair: realistic files, every kind of break, and a truth the core reproduces."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from recon.engine.reconcile import compare_files
from recon.result import INVALID, MATCHED, MISMATCHED, STATUSES
from recon.spec import load_spec
from worlds.pairs import (
    BREAK_KINDS,
    EXPECTED,
    MISMATCHED_FIELD,
    SPEC_PATH,
    SamplePair,
    decimal_amount,
    generate_payments_pair,
    money_text,
)

ROWS = 2000
SEEDS = (7, 2026)
TRUTH_SCHEMA = {"txn_id": pl.String, "side": pl.String, "row": pl.Int64}


@dataclass(frozen=True)
class Run:
    pair: SamplePair
    truth: pl.DataFrame
    results: pl.DataFrame
    summary: dict[str, Any]
    out: Path


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp(f"pair{request.param}")
    pair = generate_payments_pair(root / "data", rows=ROWS, seed=request.param)
    result = compare_files(load_spec(pair.spec), pair.left, pair.right, root / "out")
    truth = pl.read_csv(pair.truth, schema_overrides=TRUTH_SCHEMA)
    return Run(pair, truth, result.results, result.summary, root / "out")


# -- the core agrees with the truth -----------------------------------------------------


def test_every_keyed_result_has_its_true_status(run: Run) -> None:
    got = run.results.filter(pl.col("status") != INVALID)
    want = run.truth.filter(pl.col("status") != INVALID)
    joined = got.join(want, on="txn_id", how="full", suffix="_true", validate="1:1")
    wrong = joined.filter(
        pl.col("status").ne_missing(pl.col("status_true"))
        | pl.col("left_rows").ne_missing(pl.col("left_rows_true"))
        | pl.col("right_rows").ne_missing(pl.col("right_rows_true"))
    )
    assert wrong.is_empty(), wrong.select(
        "txn_id", "txn_id_true", "status", "status_true", "kind", "left_rows", "right_rows"
    )


def test_invalid_rows_are_the_planted_ones(run: Run) -> None:
    got = run.results.filter(pl.col("status") == INVALID).select("side", "row", "txn_id")
    want = run.truth.filter(pl.col("status") == INVALID).select("side", "row", "txn_id")
    assert_frame_equal(got.sort("side", "row"), want.sort("side", "row"))


def test_each_mismatch_differs_in_exactly_its_planted_field(run: Run) -> None:
    mismatched = run.results.filter(pl.col("status") == MISMATCHED).join(
        run.truth.filter(pl.col("status") == MISMATCHED).select("txn_id", "kind"),
        on="txn_id",
        validate="1:1",
    )
    planted = mismatched.select(
        pl.col("kind").replace_strict(dict(MISMATCHED_FIELD)).alias("field"),
        pl.col("mismatched_fields"),
    )
    assert planted["mismatched_fields"].to_list() == [[f] for f in planted["field"]]


def test_counts_per_status_equal_the_truth(run: Run) -> None:
    truth_counts = dict(run.truth.group_by("status").len().iter_rows())
    assert run.summary["counts"] == {s: truth_counts.get(s, 0) for s in STATUSES}
    assert dict(run.pair.counts) == run.summary["counts"]
    assert run.summary["row_conservation"]["ok"] is True


def test_every_break_kind_is_planted(run: Run) -> None:
    kinds = set(run.truth["kind"])
    assert set(BREAK_KINDS) <= kinds
    assert set(EXPECTED) == kinds  # the tolerated differences too
    assert all(run.pair.kinds[kind] > 0 for kind in EXPECTED)


def test_differences_within_tolerance_and_window_still_match(run: Run) -> None:
    tolerated = run.truth.filter(
        pl.col("kind").is_in(["amount_within_tolerance", "date_within_window", "key_normalised"])
    )
    keyed = run.results.filter(pl.col("status") != INVALID)
    got = keyed.join(tolerated.select("txn_id", "kind"), on="txn_id", validate="1:1")
    assert set(got["status"]) == {MATCHED}
    amount = got.filter(pl.col("kind") == "amount_within_tolerance")
    assert amount["diff_amount"].abs().round(6).to_list() == [0.01] * amount.height
    dates = got.filter(pl.col("kind") == "date_within_window")
    assert set(dates["diff_booked_on"].abs()) == {1}


def test_formula_looking_cells_are_neutralised_in_breaks_csv(run: Run) -> None:
    with (run.out / "breaks.csv").open(newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    quoted = [cell for cell in cells if cell.startswith(("'=", "'@"))]
    assert quoted, "the planted formula-looking ids should reach breaks.csv"
    assert not [cell for cell in cells if cell.startswith(("=", "@"))]


def test_formula_looking_cells_stay_text_in_report_xlsx(run: Run) -> None:
    workbook = openpyxl.load_workbook(run.out / "report.xlsx", read_only=True)
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [cell for cell in cells if cell.data_type == "f"]
    texts = [str(cell.value) for cell in cells if isinstance(cell.value, str)]
    assert any(text.startswith("'=HYPERLINK") for text in texts)
    workbook.close()


# -- the files look like what each system writes ----------------------------------------


@pytest.fixture
def small(payments_pair: SamplePair) -> SamplePair:
    return payments_pair  # conftest: rows=400, seed=3


def test_processor_export_is_written_for_people(small: SamplePair) -> None:
    export = pl.read_csv(small.left, infer_schema=False)
    assert export.columns == [
        "Transaction ID",
        "Created (UTC)",
        "Amount",
        "Currency",
        "Status",
        "Customer Email",
        "Description",
    ]
    amounts = export["Amount"]
    assert amounts.str.contains(r"^\(\d{1,3}(,\d{3})*\.\d\d\)$").any()  # refunds: (1,234.50)
    assert amounts.str.contains(r"^\d{1,3},\d{3}\.\d\d$").any()
    assert export["Created (UTC)"].str.contains(r"^\d\d/\d\d/2026 \d\d:\d\d$").all()
    assert set(export["Currency"]) == {"usd", "eur", "gbp", "inr"}
    assert {"succeeded", "refunded", "failed"} == set(export["Status"])
    assert export["Customer Email"].str.contains(r"^\s|\s$").any()
    ids = export["Transaction ID"].drop_nulls().str.strip_chars()
    assert ids.str.starts_with("ch_3P").sum() > 0.98 * ids.len()


def test_ledger_has_native_types(small: SamplePair) -> None:
    ledger = pl.read_parquet(small.right)
    assert ledger.schema["txn_ref"] == pl.String
    assert ledger.schema["booked_at"] == pl.Date
    assert ledger.schema["amount"] == pl.Decimal(18, 2)
    assert set(ledger["ccy"]) == {"USD", "EUR", "GBP", "INR"}
    assert set(ledger["state"]) == {"SUCCEEDED", "REFUNDED", "FAILED"}


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path, small: SamplePair) -> None:
    again = generate_payments_pair(tmp_path / "again", rows=400, seed=3)
    other = generate_payments_pair(tmp_path / "other", rows=400, seed=4)
    for name in ("left", "truth", "spec"):
        assert getattr(again, name).read_bytes() == getattr(small, name).read_bytes()
    assert_frame_equal(pl.read_parquet(again.right), pl.read_parquet(small.right))
    assert other.left.read_bytes() != small.left.read_bytes()
    assert again.counts == small.counts


def test_spec_is_copied_beside_the_data_and_valid(small: SamplePair) -> None:
    assert small.spec.read_text() == SPEC_PATH.read_text()
    spec = load_spec(small.spec)
    assert (spec.label("left"), spec.label("right")) == ("processor", "ledger")
    assert spec.keys[0].name == "txn_id"


def test_too_few_rows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 200"):
        generate_payments_pair(tmp_path, rows=50)


@pytest.mark.parametrize(
    ("cents", "text", "decimal"),
    [
        (5, "0.05", "0.05"),
        (123_450, "1,234.50", "1234.50"),
        (-123_450, "(1,234.50)", "-1234.50"),
        (100_000_000, "1,000,000.00", "1000000.00"),
        (-99, "(0.99)", "-0.99"),
    ],
    ids=["cents", "thousands", "refund", "millions", "small-refund"],
)
def test_money_formats(cents: int, text: str, decimal: str) -> None:
    frame = pl.DataFrame({"c": [cents]})
    assert frame.select(money_text(pl.col("c"))).item() == text
    assert str(frame.select(decimal_amount(pl.col("c"))).item()) == decimal
