"""Write one reconciled partition's ``results.parquet`` to MongoDB, one document per result row.

A partition is (recon, source, reconciliation_date). ``replace_results`` deletes the
partition's documents and inserts the new ones inside one transaction, so a re-run replaces
(never duplicates) and a failure half-way keeps the previous documents. A server without
transactions (a standalone mongod) gets the same two steps without that guarantee: a failure
between them leaves the partition partly written until the task's retry replaces it again;
the answer's ``transaction`` says which happened.

Document shape (labels from the outcome, e.g. left ``dbf``, right ``mongo``)::

    {amc_code, folio, product,                    # the key columns, by their canonical names
     status,                                      # matched | mismatched | dbf_only | mongo_only
                                                  #   | duplicate | invalid
     dbf_units, mongo_units,                      # <label>_<field> per compare field (Decimal128)
     difference,                                  # Decimal128 diff_<amount_field>, or None
     mismatched_fields,                           # [field, ...]
     side, row, reason,                           # only on duplicate / invalid rows
     source, recon, reconciliation_run_id,
     reconciliation_date}                         # BSON datetime, midnight UTC

A unique index per recon on (recon, source, reconciliation_date, keys..., side, row) makes a
duplicated partition impossible; ``side`` and ``row`` are there because ``invalid`` rows are one
per rejected input row and may repeat a key (or have none). The index is partial on ``recon``
so recons with different keys can share the collection.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import polars as pl
import pyarrow.parquet as pq
from bson.decimal128 import Decimal128
from pymongo import ASCENDING, MongoClient
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import OperationFailure

from recon.result import RESULTS_FILE
from recon_airflow.dates import as_date
from recon_airflow.errors import BadInputError
from recon_airflow.outcome import Outcome
from recon_airflow.stores.partition import labelled_statuses

COLLECTION: Final = "reconciliation_results"
BATCH_ROWS: Final = 1_000
ROW_FIELDS: Final = ("side", "row", "reason")  # set on duplicate and invalid rows only
_INDEX_CONFLICT: Final = frozenset({85, 86})  # IndexOptionsConflict, IndexKeySpecsConflict

log = logging.getLogger(__name__)

Document = dict[str, Any]


class ResultsStoreError(BadInputError):
    """The results cannot be stored as they are (missing file or columns, index conflict): a
    retry gets the same, so the task fails for good."""


def replace_results(
    client_or_db: MongoClient[Document] | Database[Document],
    *,
    outcome: Outcome,
    run_id: str,
    database: str | None = None,
    collection: str = COLLECTION,
    batch_size: int = BATCH_ROWS,
    transaction: bool | None = None,
) -> dict[str, Any]:
    """Replace the outcome's partition in ``collection`` with its results, one doc per row.

    :param client_or_db: a client (``database`` then names the database) or a database.
    :param transaction: None to use one when the server supports it; False to force the
        non-atomic replace.
    :returns: ``{"documents": inserted, "replaced": deleted, "transaction": bool}``.
    """
    db = _database(client_or_db, database)
    path = Path(outcome["result_dir"]) / RESULTS_FILE
    columns = _checked_columns(path, outcome)
    target = db[collection]
    ensure_results_index(target, outcome)
    partition = partition_filter(outcome)

    def replace(session: ClientSession | None) -> tuple[int, int]:
        deleted = target.delete_many(partition, session=session).deleted_count
        inserted = 0
        for docs in result_documents(path, outcome, run_id, columns, batch_size):
            target.insert_many(docs, session=session)
            inserted += len(docs)
        return deleted, inserted

    atomic = supports_transactions(db.client) if transaction is None else transaction
    if atomic:
        with db.client.start_session() as session:
            deleted, inserted = session.with_transaction(replace)
    else:
        log.warning(
            "%s.%s: no transactions on this server; replacing %s without one (a failure "
            "between delete and insert leaves the partition partial until a re-run)",
            db.name,
            collection,
            partition,
        )
        deleted, inserted = replace(None)
    return {"documents": inserted, "replaced": deleted, "transaction": atomic}


def partition_filter(outcome: Outcome) -> Document:
    return {
        "recon": outcome["recon"],
        "source": outcome["source"],
        "reconciliation_date": reconciliation_date(outcome["business_date"]),
    }


def reconciliation_date(business_date: dt.date | str) -> dt.datetime:
    """The business date as a BSON datetime: midnight UTC."""
    return dt.datetime.combine(as_date(business_date), dt.time(), dt.UTC)


def supports_transactions(client: MongoClient[Document]) -> bool:
    """Replica-set members and mongos run multi-document transactions; a standalone does not."""
    hello = client.admin.command("hello")
    return "setName" in hello or hello.get("msg") == "isdbgrid"


def ensure_results_index(target: Collection[Document], outcome: Outcome) -> str:
    """The recon's unique index on its partition and key (created once, then a no-op)."""
    recon = outcome["recon"]
    fields = ["recon", "source", "reconciliation_date", *outcome["keys"], *ROW_FIELDS[:2]]
    name = f"unique_result_{recon}"
    try:
        return target.create_index(
            [(field, ASCENDING) for field in fields],
            name=name,
            unique=True,
            partialFilterExpression={"recon": recon},
        )
    except OperationFailure as err:
        if err.code not in _INDEX_CONFLICT:
            raise
        raise ResultsStoreError(
            f"{target.full_name}: index {name} exists with other fields than {fields} (did the "
            f"recon's keys change?); drop it and re-run: db.{target.name}.dropIndex('{name}')"
        ) from err


def result_documents(
    path: Path,
    outcome: Outcome,
    run_id: str,
    columns: list[str],
    batch_size: int = BATCH_ROWS,
) -> Iterator[list[Document]]:
    """``results.parquet`` as batches of documents (never the whole file in memory)."""
    fields = compare_fields(columns)
    builder = _DocumentBuilder(outcome, run_id, fields)
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
        frame = pl.DataFrame(pl.from_arrow(batch))
        yield [builder.document(row) for row in frame.iter_rows(named=True)]


def compare_fields(columns: list[str]) -> list[str]:
    """The compare fields of a results file: those with both ``left_`` and ``right_`` columns."""
    present = set(columns)
    return [
        name[len("left_") :]
        for name in columns
        if name.startswith("left_") and name != "left_rows" and f"right_{name[5:]}" in present
    ]


class _DocumentBuilder:
    def __init__(self, outcome: Outcome, run_id: str, fields: list[str]) -> None:
        self.keys = list(outcome["keys"])
        self.fields = fields
        labels = outcome["labels"]
        self.labels = {"left": labels["left"], "right": labels["right"], "both": "both"}
        self.statuses = labelled_statuses(labels)
        amount = outcome["amount_field"]
        self.difference = f"diff_{amount}" if amount else None
        self.common = {
            "source": outcome["source"],
            "recon": outcome["recon"],
            "reconciliation_run_id": run_id,
            "reconciliation_date": reconciliation_date(outcome["business_date"]),
        }

    def document(self, row: Mapping[str, Any]) -> Document:
        status = row["status"]
        doc: Document = {key: bson_value(row[key]) for key in self.keys}
        doc["status"] = self.statuses.get(status, status)
        for field in self.fields:
            doc[f"{self.labels['left']}_{field}"] = bson_value(row[f"left_{field}"])
            doc[f"{self.labels['right']}_{field}"] = bson_value(row[f"right_{field}"])
        doc["difference"] = bson_value(row.get(self.difference)) if self.difference else None
        doc["mismatched_fields"] = list(row.get("mismatched_fields") or [])
        if row.get("side") is not None:
            doc["side"] = self.labels.get(row["side"], row["side"])
        for name in ROW_FIELDS[1:]:
            if row.get(name) is not None:
                doc[name] = row[name]
        doc.update(self.common)
        return doc


def bson_value(value: Any) -> Any:
    """Decimals as exact Decimal128, dates as midnight-UTC datetimes; the rest as they are."""
    if isinstance(value, Decimal):
        return Decimal128(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(), dt.UTC)
    return value


def _database(
    client_or_db: MongoClient[Document] | Database[Document], database: str | None
) -> Database[Document]:
    if isinstance(client_or_db, Database):
        return client_or_db
    if not database:
        raise ValueError("replace_results: pass database= with a client")
    return client_or_db[database]


def _checked_columns(path: Path, outcome: Outcome) -> list[str]:
    """Read the file's schema before touching MongoDB: a missing file never deletes anything."""
    if not path.is_file():
        raise ResultsStoreError(f"{path}: no results file (did the reconcile task write it?)")
    columns = list(pq.read_schema(path).names)
    amount = outcome["amount_field"]
    needed = [*outcome["keys"], "status", "mismatched_fields"]
    if amount:
        needed.append(f"diff_{amount}")
    missing = [name for name in needed if name not in columns]
    if missing:
        raise ResultsStoreError(f"{path}: missing columns {missing}; it has {columns}")
    return columns


__all__ = [
    "COLLECTION",
    "ResultsStoreError",
    "bson_value",
    "compare_fields",
    "ensure_results_index",
    "partition_filter",
    "replace_results",
    "result_documents",
    "supports_transactions",
]
