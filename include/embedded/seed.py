"""Load a generated ledger (``worlds.aum``) into MongoDB, for tests and the demo.

The documents look like production's: ``units`` a Decimal128 (exact, never a double),
``txn_date`` a BSON datetime at midnight UTC, one document per transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from bson.decimal128 import Decimal128
from pymongo import ASCENDING, MongoClient

BATCH_ROWS = 5_000
LEDGER_KEYS = ("amc_code", "folio", "product")


def seed_ledger(
    client: MongoClient[dict[str, Any]],
    ledger_parquet: Path,
    *,
    database: str = "recon",
    collection: str = "transactions",
) -> int:
    """Replace ``database.collection`` with the ledger's transactions; return how many."""
    target = client[database][collection]
    target.drop()
    target.create_index([("txn_date", ASCENDING)], name="txn_date")
    target.create_index([(key, ASCENDING) for key in LEDGER_KEYS], name="position")
    frame = pl.read_parquet(ledger_parquet).with_columns(
        pl.col("txn_date").cast(pl.Datetime("ms", "UTC"))  # midnight UTC of the booking day
    )
    inserted = 0
    for batch in frame.iter_slices(BATCH_ROWS):
        docs = batch.to_dicts()
        for doc in docs:
            doc["units"] = Decimal128(doc["units"])
        inserted += len(target.insert_many(docs, ordered=False).inserted_ids)
    return inserted


__all__ = ["seed_ledger"]
