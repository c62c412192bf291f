"""A config recon's Mongo side: an aggregation's documents staged as text, in batches, against a
real MongoDB-wire server; bad pipelines, nested values and missing fields fail with a reason."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from airflow.sdk.exceptions import AirflowFailException
from bson import ObjectId
from bson.decimal128 import Decimal128

from embedded.mongo import EmbeddedMongo
from recon.definitions.patterns import render_strings
from recon.files import file_digest
from recon_airflow.operators.mongo_aggregate_to_staging import MongoAggregateToStagingOperator

DATABASE, COLLECTION = "shop", "orders"
DAY = dt.date(2026, 11, 20)
PIPELINE = [
    {"$match": {"day": "{date}"}},
    {"$project": {"_id": 0, "order_id": 1, "amount": 1, "paid": 1, "at": 1, "ref": 1}},
]


@pytest.fixture
def orders(mongo_clean: EmbeddedMongo, db_connections: dict[str, str]) -> Any:
    collection = mongo_clean.client()[DATABASE][COLLECTION]
    collection.insert_many(
        [
            {
                "order_id": f"O-{n}",
                "day": "2026-11-20" if n % 5 else "2026-11-19",
                "amount": Decimal128(Decimal(f"{n}.10")),
                "paid": n % 2 == 0,
                "at": dt.datetime(2026, 11, 20, 10, n),
                "ref": ObjectId(),
            }
            for n in range(1, 26)
        ]
    )
    return collection


def extract(tmp_path: Path, pipeline: Any, **kwargs: Any) -> dict[str, Any]:
    operator = MongoAggregateToStagingOperator(
        task_id="extract_right",
        database=DATABASE,
        collection=COLLECTION,
        pipeline=render_strings(pipeline, DAY),
        snapshot_path=str(tmp_path / "staging" / "right.parquet"),
        source="orders",
        **kwargs,
    )
    return dict(operator.execute(context={}))


def test_documents_become_text_rows_in_batches(orders: Any, tmp_path: Path) -> None:
    snapshot = extract(tmp_path, PIPELINE, batch_size=7, required_columns=["order_id", "amount"])
    frame = pl.read_parquet(snapshot["path"])
    assert snapshot["rows"] == frame.height == 20  # every 5th order is another day's
    assert snapshot["sha256"] == file_digest(snapshot["path"])
    assert snapshot["file"] == f"{DATABASE}.{COLLECTION}" and snapshot["source"] == "orders"
    assert dict(frame.schema) == dict.fromkeys(
        ["order_id", "amount", "paid", "at", "ref"], pl.String
    )
    first = frame.row(0, named=True)
    assert (first["order_id"], first["amount"], first["paid"]) == ("O-1", "1.10", "false")
    assert first["at"] == "2026-11-20T10:01:00+00:00" and len(first["ref"]) == 24


def test_fields_missing_from_some_documents_are_nulls(orders: Any, tmp_path: Path) -> None:
    """A field the first batch lacks (MongoDB leaves a missing field out) still gets its
    column, null where absent, in document order."""
    orders.update_many({"order_id": {"$in": ["O-1", "O-2"]}}, {"$unset": {"paid": ""}})
    orders.update_many({"order_id": "O-9"}, {"$unset": {"amount": ""}})
    frame = pl.read_parquet(extract(tmp_path, PIPELINE, batch_size=2)["path"])
    assert frame.height == 20 and frame.columns == ["order_id", "amount", "at", "ref", "paid"]
    assert frame.filter(pl.col("paid").is_null())["order_id"].to_list() == ["O-1", "O-2"]
    assert frame.filter(pl.col("amount").is_null())["order_id"].to_list() == ["O-9"]
    assert frame["order_id"].to_list()[:3] == ["O-1", "O-2", "O-3"]
    assert list((tmp_path / "staging").iterdir()) == [tmp_path / "staging" / "right.parquet"]


def test_no_document_gives_the_required_columns(orders: Any, tmp_path: Path) -> None:
    snapshot = extract(
        tmp_path, [{"$match": {"day": "1999-01-01"}}], required_columns=["order_id", "amount"]
    )
    assert snapshot["rows"] == 0
    assert pl.read_parquet(snapshot["path"]).columns == ["order_id", "amount"]


@pytest.mark.parametrize(
    ("pipeline", "required", "words"),
    [
        (PIPELINE, ["order_id", "amout"], "gives no field `amout` (did you mean `amount`?)"),
        (
            [{"$project": {"_id": 0, "order_id": 1, "nested": {"a": "$amount"}}}],
            [],
            "row 1, field `nested` holds a document: $project it to a single value",
        ),
        ([{"$bogus": {}}], [], "aggregation refused"),
    ],
    ids=["missing-field", "nested", "bad-stage"],
)
def test_bad_answers_fail_without_retry(
    orders: Any, tmp_path: Path, pipeline: Any, required: list[str], words: str
) -> None:
    target = tmp_path / "staging" / "right.parquet"
    with pytest.raises(AirflowFailException, match=re.escape(words)):
        extract(tmp_path, pipeline, required_columns=required)
    assert not target.exists()  # nothing half-written


def test_unknown_collection_is_named_with_a_hint(orders: Any, tmp_path: Path) -> None:
    operator = MongoAggregateToStagingOperator(
        task_id="extract_right",
        database=DATABASE,
        collection="order",
        pipeline=[],
        snapshot_path=str(tmp_path / "right.parquet"),
        source="orders",
    )
    with pytest.raises(
        AirflowFailException,
        match=r"shop\.order not found on connection `recon_mongo` \(did you mean `orders`\?\)",
    ):
        operator.execute(context={})
