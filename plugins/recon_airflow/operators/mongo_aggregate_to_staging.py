"""Stage the answer of a MongoDB aggregation as a Parquet snapshot, in batches.

``MongoAggregateToStagingOperator`` is the generic Mongo side of a config recon: whatever the
pipeline returns becomes one row per document. Values are staged as text (Decimal128 exactly,
dates in ISO form, ObjectIds as hex), as the core reads CSV: the spec decides what is a number
or a date, and a value that does not parse is reported with its row instead of failing the
extract. Documents and arrays inside a document are refused (``$project`` them to values).

``write_snapshot`` and ``batched`` are shared with the ledger positions extract
(``mongo_ledger_positions``): a cursor's batches become Parquet row groups in a file that replaces the
snapshot only once whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from recon.errors import did_you_mean
from recon.files import file_digest
from recon_airflow.errors import BadInputError
from recon_airflow.hooks.mongo import mongo_client
from recon_airflow.operators.staging import batched, write_snapshot
from recon_airflow.outcome import Snapshot

if TYPE_CHECKING:
    import polars as pl
# pymongo, polars and pyarrow are imported where used: DAG files import this module at parse.


class SnapshotShapeError(BadInputError):
    """Documents that cannot be rows: a nested value, a required field missing, or a field
    outside a fixed schema."""


def documents_frame(docs: Sequence[Mapping[str, Any]], first_row: int = 1) -> pl.DataFrame:
    """Aggregation documents as text columns (fields in first-seen order)."""
    import polars as pl

    names = list(dict.fromkeys(name for doc in docs for name in doc))
    columns = {
        name: [_text(doc.get(name), name, first_row + i) for i, doc in enumerate(docs)]
        for name in names
    }
    return pl.DataFrame(columns, schema=dict.fromkeys(names, pl.String()))


def _text(value: Any, field: str, row: int) -> str | None:
    from bson import Decimal128, ObjectId

    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal128):
        return str(value.to_decimal())
    if isinstance(value, int | float | Decimal | ObjectId):
        return str(value)
    if isinstance(value, dt.datetime):
        # pymongo hands out naive UTC datetimes unless the client is tz_aware
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.isoformat()
    if isinstance(value, Mapping | list):
        kind = "a document" if isinstance(value, Mapping) else "an array"
        raise SnapshotShapeError(
            f"row {row}, field `{field}` holds {kind}: $project it to a single value"
        )
    return str(value)


class MongoAggregateToStagingOperator(BaseOperator):
    """Run ``pipeline`` on ``database.collection`` and stage its documents as Parquet.

    :param pipeline: the aggregation (templated; a config recon renders its dates in ``plan``).
    :param source: the partition's source, as the Snapshot says it.
    :param required_columns: fields every snapshot must have (an empty answer gets them as
        empty text columns; a missing one fails with a did-you-mean hint).
    :param batch_size: documents per cursor batch and per Parquet row group.
    """

    template_fields: Sequence[str] = (
        "database",
        "collection",
        "pipeline",
        "snapshot_path",
        "source",
        "required_columns",
    )

    def __init__(
        self,
        *,
        database: str,
        collection: str,
        pipeline: Sequence[Mapping[str, Any]],
        snapshot_path: str,
        source: str,
        required_columns: Sequence[str] = (),
        mongo_conn_id: str = "recon_mongo",
        batch_size: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.database = database
        self.collection = collection
        self.pipeline = pipeline
        self.snapshot_path = snapshot_path
        self.source = source
        self.required_columns = required_columns
        self.mongo_conn_id = mongo_conn_id
        self.batch_size = batch_size

    def execute(self, context: Context) -> Snapshot:
        from pymongo.errors import OperationFailure

        path = Path(self.snapshot_path).absolute()
        namespace = f"{self.database}.{self.collection}"
        required = list(self.required_columns or ())
        with mongo_client(self.mongo_conn_id) as client:
            database = client[self.database]
            names = database.list_collection_names()
            if self.collection not in names:
                hint = did_you_mean(self.collection, names) or "check the recon definition"
                raise AirflowFailException(
                    f"{namespace} not found on connection `{self.mongo_conn_id}` ({hint})"
                )
            try:
                cursor = database[self.collection].aggregate(
                    list(self.pipeline), allowDiskUse=True, batchSize=self.batch_size
                )
                batches = batched(cursor, self.batch_size)
                frames = (
                    documents_frame(b, 1 + i * self.batch_size) for i, b in enumerate(batches)
                )
                rows = write_snapshot(_checked(frames, required), path)
            except OperationFailure as exc:  # the server refused the pipeline: fix the YAML
                raise AirflowFailException(f"{namespace}: aggregation refused: {exc}") from None
            except SnapshotShapeError as exc:
                raise AirflowFailException(f"{namespace}: {exc}") from None
        self.log.info("%s: %d documents -> %s", namespace, rows, path)
        return Snapshot(
            source=str(self.source),
            path=str(path),
            rows=rows,
            sha256=file_digest(path),
            file=namespace,
        )


def _checked(frames: Iterable[pl.DataFrame], required: Sequence[str]) -> Iterator[pl.DataFrame]:
    """``frames`` once the first has every required field (before anything is written); one
    empty frame of the required fields when there is no document at all."""
    import polars as pl

    first = True
    for frame in frames:
        missing = [name for name in required if name not in frame.columns] if first else []
        if missing:
            listed = ", ".join(f"`{c}`" + _hint(c, frame.columns) for c in missing)
            raise SnapshotShapeError(f"the aggregation gives no field {listed}")
        first = False
        yield frame
    if first:
        yield pl.DataFrame(schema=dict.fromkeys(required, pl.String()))


def _hint(name: str, columns: list[str]) -> str:
    found = did_you_mean(name, columns)
    return f" ({found})" if found else f" (it gives {', '.join(columns)})"


__all__ = [
    "MongoAggregateToStagingOperator",
    "SnapshotShapeError",
    "batched",
    "documents_frame",
    "write_snapshot",
]
