"""Stage the answer of a MongoDB aggregation as a Parquet snapshot, in batches.

``MongoAggregateToStagingOperator`` is the generic Mongo side of a config recon: whatever the
pipeline returns becomes one row per document. Values are staged as text (Decimal128 exactly,
dates in ISO form, ObjectIds as hex), as the core reads CSV: the spec decides what is a number
or a date, and a value that does not parse is reported with its row instead of failing the
extract. Documents and arrays inside a document are refused (``$project`` them to values).
The cursor's batches become the snapshot's row groups (``StagingOperator`` writes them while
``MongoStagingOperator`` keeps the client open); an answer without documents gets the
required fields as empty text columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import Context

from recon.errors import Problem, did_you_mean
from recon_airflow.errors import BadInputError
from recon_airflow.operators.mongo_staging import MongoStagingOperator
from recon_airflow.operators.staging import Fetched, batched

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


class MongoAggregateToStagingOperator(MongoStagingOperator):
    """Run ``pipeline`` on ``database.collection`` and stage its documents as Parquet.

    :param pipeline: the aggregation (templated; a config recon renders its dates in ``plan``).
    :param source: the partition's source, as the Snapshot says it.
    :param required_columns: fields every snapshot must have (an empty answer gets them as
        empty text columns; a missing one fails with a did-you-mean hint).
    """

    template_fields: Sequence[str] = (
        "database",
        "collection",
        "pipeline",
        "snapshot_path",
        "source",
        "required_columns",
    )

    def __init__(self, *, pipeline: Sequence[Mapping[str, Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pipeline = pipeline

    def refused(self, problems: list[Problem], columns: Sequence[str], shown: str) -> Exception:
        """The fields the aggregation does not give (the base refuses for nothing else)."""
        listed = ", ".join(f"`{p.column}`" + _hint(str(p.column), columns) for p in problems)
        return SnapshotShapeError(f"the aggregation gives no field {listed}")

    @contextmanager
    def fetch(self, context: Context, workdir: Path) -> Iterator[Fetched]:
        from pymongo.errors import OperationFailure

        namespace, size = self.namespace, self.batch_size
        with self.opened_collection() as collection:
            try:
                cursor = collection.aggregate(
                    list(self.pipeline), allowDiskUse=True, batchSize=size
                )
                batches = enumerate(batched(cursor, size))
                frames = (documents_frame(batch, 1 + i * size) for i, batch in batches)
                yield Fetched(frames=frames, file=namespace)
            except OperationFailure as exc:  # the server refused the pipeline: fix the YAML
                raise BadInputError(f"{namespace}: aggregation refused: {exc}") from None
            except SnapshotShapeError as exc:
                raise BadInputError(f"{namespace}: {exc}") from None


def _hint(name: str, columns: Sequence[str]) -> str:
    found = did_you_mean(name, columns)
    return f" ({found})" if found else f" (it gives {', '.join(columns)})"


__all__ = ["MongoAggregateToStagingOperator", "SnapshotShapeError", "documents_frame"]
