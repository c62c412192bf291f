"""The ledger's positions, summed in a real MongoDB-wire server, equal the polars reference
exactly; bad documents fail the task with a message, a dead server fails it retryably."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from airflow.sdk.exceptions import AirflowFailException
from bson.decimal128 import Decimal128
from polars.testing import assert_frame_equal

from embedded.base import free_port
from embedded.mongo import EmbeddedMongo
from embedded.seed import seed_ledger
from recon.files import file_digest
from recon_airflow.hooks.mongo import MongoUnavailableError
from recon_airflow.ledger_positions import POSITIONS_SCHEMA, positions_pipeline
from recon_airflow.operators.mongo_ledger_positions import MongoLedgerPositionsOperator
from worlds.aum import KEYS, REGISTRAR_AMCS, AumSample, generate_aum, ledger_positions

DATABASE, COLLECTION = "recon", "transactions"


@pytest.fixture(scope="module")
def aum(tmp_path_factory: pytest.TempPathFactory) -> AumSample:
    return generate_aum(tmp_path_factory.mktemp("aum"), positions=200)


@pytest.fixture
def ledger(mongo_clean: EmbeddedMongo, db_connections: dict[str, str], aum: AumSample) -> Any:
    """The sample ledger seeded into recon.transactions; the collection."""
    seed_ledger(mongo_clean.client(), aum.ledger, database=DATABASE, collection=COLLECTION)
    return mongo_clean.client()[DATABASE][COLLECTION]


def extract(
    tmp_path: Path, as_of: dt.date | str, amc_codes: Any = None, **kwargs: Any
) -> dict[str, Any]:
    operator = MongoLedgerPositionsOperator(
        task_id="ledger_positions",
        database=DATABASE,
        collection=COLLECTION,
        as_of=str(as_of),
        amc_codes=amc_codes,
        snapshot_path=str(tmp_path / "staging" / "ledger.parquet"),
        **kwargs,
    )
    return dict(operator.execute(context={}))


def reference(aum: AumSample, as_of: dt.date, amcs: tuple[str, ...] | None) -> pl.DataFrame:
    return ledger_positions(pl.scan_parquet(aum.ledger), as_of, amcs).sort(KEYS).collect()


def test_seed_stores_exact_decimals_and_utc_midnight_dates(
    mongo_clean: EmbeddedMongo, aum: AumSample
) -> None:
    client = mongo_clean.client()
    frame = pl.read_parquet(aum.ledger)
    assert seed_ledger(client, aum.ledger) == frame.height
    assert seed_ledger(client, aum.ledger) == frame.height  # replaces, never appends
    transactions = client[DATABASE][COLLECTION]
    assert transactions.count_documents({}) == frame.height
    first = frame.row(0, named=True)
    doc = transactions.find_one({"txn_id": first["txn_id"]})
    assert doc is not None
    assert isinstance(doc["units"], Decimal128) and doc["units"].to_decimal() == first["units"]
    assert doc["txn_date"] == dt.datetime.combine(first["txn_date"], dt.time())
    indexes = {
        tuple(k for k, _ in spec["key"]) for spec in transactions.index_information().values()
    }
    assert {("txn_date",), KEYS} <= indexes


@pytest.mark.parametrize(
    "amcs",
    [None, REGISTRAR_AMCS["CAMS"], REGISTRAR_AMCS["KARVY"]],
    ids=["all", "cams", "karvy"],
)
def test_positions_equal_the_polars_reference_exactly(
    ledger: Any, aum: AumSample, tmp_path: Path, amcs: tuple[str, ...] | None
) -> None:
    snapshot = extract(tmp_path, aum.business_date, list(amcs) if amcs else None)
    got = pl.read_parquet(snapshot["path"])
    expected = reference(aum, aum.business_date, amcs)
    assert got.schema == POSITIONS_SCHEMA
    assert_frame_equal(got, expected)  # already sorted by key: same order, same Decimals
    assert set(got["amc_code"]) == set(amcs or got["amc_code"])
    assert snapshot["rows"] == got.height == expected.height > 0


def test_snapshot_is_described_and_written_atomically(
    ledger: Any, aum: AumSample, tmp_path: Path
) -> None:
    snapshot = extract(tmp_path, aum.business_date, "P, H,B,D")  # a string list works too
    path = Path(snapshot["path"])
    assert snapshot == {
        "source": "ledger",
        "path": str(tmp_path / "staging" / "ledger.parquet"),
        "rows": pl.read_parquet(path).height,
        "sha256": file_digest(path),
        "file": "recon.transactions",
    }
    assert [p.name for p in path.parent.iterdir()] == ["ledger.parquet"]  # no temp file left
    first = pl.read_parquet(path)
    again = extract(tmp_path, aum.business_date, ["P", "H", "B", "D"])
    assert again["sha256"] == snapshot["sha256"]  # sorted by key: same ledger, same bytes
    streamed = extract(tmp_path, aum.business_date, ["P", "H", "B", "D"], batch_size=7)
    assert pq.ParquetFile(streamed["path"]).num_row_groups == -(-first.height // 7)
    assert_frame_equal(pl.read_parquet(streamed["path"]), first)


def test_as_of_counts_its_whole_day_and_nothing_after(
    ledger: Any, aum: AumSample, tmp_path: Path
) -> None:
    day = aum.business_date
    assert ledger.count_documents({"txn_date": {"$gt": dt.datetime.combine(day, dt.time())}}) > 0
    late = {"amc_code": "P", "folio": "LATE/01", "product": "P100", "txn_type": "BUY"}
    ledger.insert_many(
        [
            {
                **late,
                "units": Decimal128("1.0001"),
                "txn_date": dt.datetime(day.year, day.month, day.day, 23, 59, 59),
            },
            {
                **late,
                "units": Decimal128("5"),
                "txn_date": dt.datetime.combine(day + dt.timedelta(days=1), dt.time()),
            },
        ]
    )
    got = pl.read_parquet(extract(tmp_path, day)["path"])
    assert got.filter(pl.col("folio") == "LATE/01")["units"].to_list() == [Decimal("1.0001")]
    assert_frame_equal(got.filter(pl.col("folio") != "LATE/01"), reference(aum, day, None))

    later = pl.read_parquet(extract(tmp_path, day + dt.timedelta(days=1))["path"])
    assert later.filter(pl.col("folio") == "LATE/01")["units"].to_list() == [Decimal("6.0001")]
    assert later["txns"].sum() > got["txns"].sum()  # the planted future BUYs count the day after


def test_bad_ledger_documents_fail_with_counts_examples_and_hints(
    ledger: Any, aum: AumSample, tmp_path: Path
) -> None:
    day = dt.datetime.combine(aum.business_date, dt.time())
    good = {
        "amc_code": "P",
        "folio": "BAD/01",
        "product": "P100",
        "txn_type": "BUY",
        "txn_date": day,
    }
    gift = ledger.insert_one({**good, "txn_type": "GIFT", "units": Decimal128("1")}).inserted_id
    ledger.insert_many([{**good, "units": "12.5"}, {**good, "units": None}])
    ledger.insert_one({**good, "folio": None, "units": Decimal128("1")})
    ledger.insert_one({**good, "units": Decimal128("1"), "txn_date": "2026-11-19"})
    ledger.insert_one({**good, "units": Decimal128("0.00001")})
    # out of scope: dated after as_of, or another registrar's AMC
    ledger.insert_one({**good, "units": "x", "txn_date": day + dt.timedelta(days=2)})
    ledger.insert_one({**good, "amc_code": "K", "units": "x"})

    with pytest.raises(AirflowFailException) as caught:
        extract(tmp_path, aum.business_date, ["P", "H"])
    message = str(caught.value)
    assert "ledger recon.transactions: 6 transaction documents cannot be summed" in message
    assert f"txn_type: 1 document unknown transaction type (e.g. _id {gift}" in message
    assert "has txn_type = 'GIFT' (string); known types: BUY, SWITCH_IN, SELL" in message
    assert "units: 2 documents not a number" in message and "store units as Decimal128" in message
    assert "folio: 1 document missing, null, empty or not a string" in message
    assert "txn_date: 1 document not a date" in message and "'2026-11-19' (string)" in message
    assert "units: 1 document more than 4 decimal places" in message
    assert not (tmp_path / "staging" / "ledger.parquet").exists()
    # the same ledger for KARVY's AMCs holds one bad document in scope
    with pytest.raises(AirflowFailException, match=r"1 transaction document cannot be summed"):
        extract(tmp_path, aum.business_date, ["K"])


def test_missing_collection_fails_with_a_hint(
    mongo_clean: EmbeddedMongo, db_connections: dict[str, str], aum: AumSample, tmp_path: Path
) -> None:
    mongo_clean.client()[DATABASE]["transaction"].insert_one({"x": 1})
    with pytest.raises(AirflowFailException, match=r"recon.transactions not found.*`transaction`"):
        extract(tmp_path, aum.business_date)


@pytest.mark.parametrize("as_of", ["20-11-2026", "yesterday"])
def test_bad_as_of_fails_without_touching_mongo(tmp_path: Path, as_of: str) -> None:
    with pytest.raises(AirflowFailException, match="is not an ISO date"):
        extract(tmp_path, as_of, mongo_conn_id="no_such_connection")


def test_unreachable_server_raises_a_retryable_error_naming_the_connection(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens there; no timeout in the extras: the default applies
    conn = {"conn_type": "mongo", "host": "127.0.0.1", "port": port, "schema": DATABASE}
    monkeypatch.setenv("AIRFLOW_CONN_LEDGER_DOWN", json.dumps(conn))
    started = time.monotonic()
    with pytest.raises(MongoUnavailableError) as caught:
        extract(tmp_path, "2026-11-20", mongo_conn_id="ledger_down")
    elapsed = time.monotonic() - started
    assert not isinstance(caught.value, AirflowFailException)
    assert f"MongoDB connection `ledger_down` (127.0.0.1:{port}) is unreachable" in str(
        caught.value
    )
    assert elapsed < 8, f"took {elapsed:.1f} s to give up"


def test_operator_is_built_without_io_and_templates_its_inputs() -> None:
    operator = MongoLedgerPositionsOperator(
        task_id="t",
        mongo_conn_id="not_defined_anywhere",  # no look-up at parse time
        database=DATABASE,
        collection=COLLECTION,
        as_of="{{ ds }}",
        amc_codes="{{ params.amcs }}",
        snapshot_path="/staging/{{ ds }}/ledger.parquet",
    )
    assert {"as_of", "amc_codes", "snapshot_path"} <= set(operator.template_fields)
    assert operator.as_of == "{{ ds }}"
    pipeline = positions_pipeline(dt.date(2026, 11, 20), ["P"])
    assert pipeline[0]["$match"] == {
        "txn_date": {"$lt": dt.datetime(2026, 11, 21, tzinfo=dt.UTC)},
        "amc_code": {"$in": ["P"]},
    }
