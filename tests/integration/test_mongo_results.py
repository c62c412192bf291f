"""Results in MongoDB: one document per result row, labelled and exact, replaced per partition
inside a transaction (a failure keeps the previous documents), other partitions untouched."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from airflow.sdk.exceptions import AirflowFailException
from bson.decimal128 import Decimal128
from pymongo.errors import BulkWriteError

from embedded.mongo import EmbeddedMongo
from recon.engine.reconcile import reconcile_to_dir
from recon.readers.dbf import read_dbf
from recon.spec import load_spec
from recon_airflow.operators.load_mongo import MongoResultsOperator
from recon_airflow.outcome import Outcome
from recon_airflow.stores.mongo_results import replace_results, supports_transactions
from worlds.aum import KEYS, REGISTRAR_AMCS, AumSample, generate_aum, ledger_positions

DATABASE, COLLECTION = "recon", "reconciliation_results"
SPEC = Path(__file__).parents[2] / "config" / "specs" / "aum_cams.yaml"
LABELLED = {"left_only": "dbf_only", "right_only": "mongo_only"}


@pytest.fixture(scope="module")
def aum(tmp_path_factory: pytest.TempPathFactory) -> AumSample:
    return generate_aum(tmp_path_factory.mktemp("aum"), positions=200)


@pytest.fixture(scope="module")
def result_dir(aum: AumSample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CAMS holdings reconciled against the ledger's positions (read-only: copy to change)."""
    out = tmp_path_factory.mktemp("results") / "CAMS"
    right = ledger_positions(pl.scan_parquet(aum.ledger), aum.business_date, REGISTRAR_AMCS["CAMS"])
    left = read_dbf(aum.holdings["CAMS"]).lazy()
    reconcile_to_dir(left, right, load_spec(SPEC), out, sources=("dbf", "mongo"))
    return out


def outcome_for(
    result_dir: Path, source: str = "CAMS", business_date: str = "2026-11-20"
) -> Outcome:
    return Outcome(
        recon="aum_recon",
        source=source,
        business_date=business_date,
        spec="aum_cams",
        labels={"left": "dbf", "right": "mongo"},
        keys=list(KEYS),
        amount_field="units",
        result_dir=str(result_dir),
        inputs={},
        reports={},
        report_links={},
        summary={},
        started_at="2026-11-21T01:00:00+00:00",
        finished_at="2026-11-21T01:00:01+00:00",
    )


@pytest.fixture
def results(mongo_clean: EmbeddedMongo) -> Any:
    return mongo_clean.client()[DATABASE][COLLECTION]


def store(mongo: EmbeddedMongo, outcome: Outcome, run_id: str, **kwargs: Any) -> dict[str, Any]:
    return replace_results(
        mongo.client(),
        database=DATABASE,
        collection=COLLECTION,
        outcome=outcome,
        run_id=run_id,
        **kwargs,
    )


def partition(outcome: Outcome) -> dict[str, Any]:
    return {
        "recon": outcome["recon"],
        "source": outcome["source"],
        "reconciliation_date": dt.datetime.fromisoformat(outcome["business_date"]),
    }


def exact(value: Any) -> Decimal | None:
    assert value is None or isinstance(value, Decimal128), value
    return None if value is None else value.to_decimal()


def test_server_runs_transactions(mongo: EmbeddedMongo) -> None:
    assert supports_transactions(mongo.client())


def test_one_labelled_exact_document_per_result_row(
    mongo_clean: EmbeddedMongo, results: Any, result_dir: Path
) -> None:
    frame = pl.read_parquet(result_dir / "results.parquet")
    outcome = outcome_for(result_dir)
    answer = store(mongo_clean, outcome, "scheduled__2026-11-20")
    assert answer == {"documents": frame.height, "replaced": 0, "transaction": True}
    docs = list(results.find({}, {"_id": 0}))
    assert len(docs) == frame.height

    statuses = frame["status"].replace(LABELLED).value_counts()
    assert {d["status"] for d in docs} == {"matched", "mismatched", "dbf_only", "mongo_only"}
    assert dict(statuses.iter_rows()) == {
        s: sum(d["status"] == s for d in docs) for s in {d["status"] for d in docs}
    }

    expected = {
        tuple(row[k] for k in KEYS): (
            LABELLED.get(row["status"], row["status"]),
            row["left_units"],
            row["right_units"],
            row["diff_units"],
            row["mismatched_fields"],
        )
        for row in frame.iter_rows(named=True)
    }
    got = {
        tuple(d[k] for k in KEYS): (
            d["status"],
            exact(d["dbf_units"]),
            exact(d["mongo_units"]),
            exact(d["difference"]),
            d["mismatched_fields"],
        )
        for d in docs
    }
    assert got == expected
    mismatched = next(d for d in docs if d["status"] == "mismatched")
    assert mismatched["mismatched_fields"] == ["units"]
    dbf, mongo = mismatched["dbf_units"].to_decimal(), mismatched["mongo_units"].to_decimal()
    assert mismatched["difference"] == Decimal128(dbf - mongo)
    assert set(mismatched) == {
        *KEYS,
        "status",
        "dbf_units",
        "mongo_units",
        "difference",
        "mismatched_fields",
        "source",
        "recon",
        "reconciliation_run_id",
        "reconciliation_date",
    }
    assert {
        (d["source"], d["recon"], d["reconciliation_run_id"], d["reconciliation_date"])
        for d in docs
    } == {("CAMS", "aum_recon", "scheduled__2026-11-20", dt.datetime(2026, 11, 20))}


def test_rerun_replaces_its_partition_and_leaves_others_alone(
    mongo_clean: EmbeddedMongo, results: Any, result_dir: Path
) -> None:
    cams = outcome_for(result_dir)
    karvy = outcome_for(result_dir, source="KARVY")
    earlier = outcome_for(result_dir, business_date="2026-11-19")
    rows = store(mongo_clean, cams, "run-1")["documents"]
    store(mongo_clean, karvy, "karvy-1")
    store(mongo_clean, earlier, "earlier-1")

    again = store(mongo_clean, cams, "run-2")
    assert again == {"documents": rows, "replaced": rows, "transaction": True}
    assert results.count_documents(partition(cams)) == rows
    assert results.distinct("reconciliation_run_id", partition(cams)) == ["run-2"]
    assert results.distinct("reconciliation_run_id", partition(karvy)) == ["karvy-1"]
    assert results.distinct("reconciliation_run_id", partition(earlier)) == ["earlier-1"]
    assert results.count_documents({}) == 3 * rows

    # without a transaction (a standalone server) the replace gives the same documents
    assert store(mongo_clean, cams, "run-3", transaction=False)["documents"] == rows
    assert results.count_documents(partition(cams)) == rows
    assert results.distinct("reconciliation_run_id", partition(cams)) == ["run-3"]


def test_failed_replace_keeps_the_previous_documents(
    mongo_clean: EmbeddedMongo, results: Any, result_dir: Path, tmp_path: Path
) -> None:
    rows = store(mongo_clean, outcome_for(result_dir), "good-run")["documents"]

    # a results file that is not Parquet any more: nothing is deleted
    corrupt = tmp_path / "corrupt"
    shutil.copytree(result_dir, corrupt)
    data = (corrupt / "results.parquet").read_bytes()
    (corrupt / "results.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(pa.ArrowInvalid, match=r"(?i)parquet"):
        store(mongo_clean, outcome_for(corrupt), "bad-run")

    # a file that fails after the delete and some inserts ran: the last row repeats a key
    repeated = tmp_path / "repeated"
    repeated.mkdir()
    frame = pl.read_parquet(result_dir / "results.parquet")
    pl.concat([frame, frame.head(1)]).write_parquet(repeated / "results.parquet")
    with pytest.raises(BulkWriteError, match="duplicate key"):
        store(mongo_clean, outcome_for(repeated), "bad-run", batch_size=50)

    assert results.count_documents({}) == rows
    assert results.distinct("reconciliation_run_id") == ["good-run"]


def test_invalid_and_duplicate_rows_are_stored_beside_their_keys(
    mongo_clean: EmbeddedMongo, results: Any, tmp_path: Path
) -> None:
    """``invalid`` rows repeat keys (or have none): side and row keep them apart."""
    left = pl.LazyFrame(
        {
            "AMC_CODE": ["P"] * 5,
            "FOLIO_NO": ["1", "2", "2", "3", None],
            "PRODCODE": ["A"] * 5,
            "CLOS_BAL": ["1.5", "2", "3", "abc", "4"],
        }
    )
    right = pl.LazyFrame(
        {"amc_code": ["P", "P"], "folio": ["1", "3"], "product": ["A", "A"], "units": [1.5, 7.0]}
    ).with_columns(pl.col("units").cast(pl.Decimal(18, 4)))
    reconcile_to_dir(left, right, load_spec(SPEC), tmp_path, sources=("dbf", "mongo"))
    outcome = outcome_for(tmp_path)
    assert store(mongo_clean, outcome, "r1")["documents"] == 5
    assert store(mongo_clean, outcome, "r2")["documents"] == 5
    docs = {
        (d["folio"], d["status"]): d
        for d in results.find({"reconciliation_run_id": "r2"}, {"_id": 0})
    }
    assert set(docs) == {
        ("1", "matched"),
        ("3", "mongo_only"),
        ("3", "invalid"),
        (None, "invalid"),
        ("2", "duplicate"),
    }
    assert (docs["3", "invalid"]["side"], docs["3", "invalid"]["row"]) == ("dbf", 4)
    assert "CLOS_BAL" in docs["3", "invalid"]["reason"]
    assert docs["2", "duplicate"]["side"] == "dbf"
    assert "side" not in docs["1", "matched"] and "reason" not in docs["3", "mongo_only"]
    assert results.count_documents({}) == 5


def test_operator_loads_with_the_run_id(
    mongo_clean: EmbeddedMongo, db_connections: dict[str, str], results: Any, result_dir: Path
) -> None:
    operator = MongoResultsOperator(
        task_id="load_mongo", outcome=outcome_for(result_dir), database=DATABASE
    )
    context: Any = {"dag_run": SimpleNamespace(run_id="manual__2026-11-21")}
    answer = operator.execute(context)
    assert answer["documents"] == pl.read_parquet(result_dir / "results.parquet").height
    assert results.distinct("reconciliation_run_id") == ["manual__2026-11-21"]
    assert operator.execute(context)["replaced"] == answer["documents"]
    assert results.count_documents({}) == answer["documents"]


def test_operator_fails_without_retry_when_the_results_file_is_missing(
    mongo_clean: EmbeddedMongo, db_connections: dict[str, str], results: Any, tmp_path: Path
) -> None:
    results.insert_one({**partition(outcome_for(tmp_path)), "folio": "KEEP"})
    operator = MongoResultsOperator(
        task_id="load_mongo", outcome=outcome_for(tmp_path), database=DATABASE
    )
    context: Any = {"dag_run": SimpleNamespace(run_id="manual__1")}
    with pytest.raises(AirflowFailException, match="no results file"):
        operator.execute(context)
    assert results.count_documents({"folio": "KEEP"}) == 1
