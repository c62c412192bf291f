"""Extract the ledger's positions as of the business date from MongoDB into a Parquet snapshot.

The sum runs in MongoDB (``hooks.ledger.positions_pipeline``); only positions cross the wire,
streamed in batches into ``snapshot_path`` by the Mongo extracts' shared writer
(``staging.write_snapshot``: written beside, then renamed, so a reader never sees a
half-written snapshot). A ledger with documents that cannot be summed fails the task without
retry; a server that does not answer fails it quickly, with a retryable error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from recon.errors import did_you_mean
from recon.files import file_digest
from recon_airflow.hooks.mongo import CLIENT_DEFAULTS, MongoUnavailableError, mongo_client
from recon_airflow.operators.mongo_aggregate_to_staging import batched, write_snapshot
from recon_airflow.outcome import Snapshot

# pymongo, polars and pyarrow are imported where used: DAG files import this module at parse.

_AMC_CODE = re.compile(r"^[A-Za-z0-9_-]+$")


class MongoLedgerPositionsOperator(BaseOperator):
    """Sum the ledger's signed units per position up to ``as_of`` into a Parquet snapshot.

    :param as_of: ISO date (templated): transactions booked on or before it count.
    :param amc_codes: only these AMCs' positions (templated; a list, or "P,H,B"); None for all.
    :param snapshot_path: where the Parquet snapshot goes (templated); replaced if present.
    :param batch_size: documents per cursor batch and per Parquet row group.
    """

    template_fields: Sequence[str] = (
        "as_of",
        "amc_codes",
        "snapshot_path",
        "database",
        "collection",
    )

    def __init__(
        self,
        *,
        database: str,
        collection: str,
        as_of: str,
        snapshot_path: str,
        amc_codes: Sequence[str] | str | None = None,
        mongo_conn_id: str = "recon_mongo",
        batch_size: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.snapshot_path = snapshot_path
        self.as_of = as_of
        self.amc_codes = amc_codes
        self.database = database
        self.collection = collection
        self.mongo_conn_id = mongo_conn_id
        self.batch_size = batch_size

    def execute(self, context: Context) -> Snapshot:
        from recon_airflow.hooks.ledger import (
            LedgerDataError,
            describe_problems,
            ledger_problems,
            positions_pipeline,
            problems_pipeline,
        )

        as_of = parse_as_of(self.as_of)
        amc_codes = parse_amc_codes(self.amc_codes)
        path = Path(self.snapshot_path).absolute()
        namespace = f"{self.database}.{self.collection}"
        with mongo_client(self.mongo_conn_id) as client:
            database = client[self.database]
            names = database.list_collection_names()
            if self.collection not in names:
                hint = did_you_mean(self.collection, names) or "check the pipeline config"
                raise AirflowFailException(
                    f"ledger {namespace} not found on connection `{self.mongo_conn_id}` ({hint})"
                )
            ledger = database[self.collection]
            answer = ledger.aggregate(problems_pipeline(as_of, amc_codes), allowDiskUse=True)
            problems = ledger_problems(answer)
            if problems:
                raise AirflowFailException(describe_problems(problems, namespace=namespace))
            cursor = ledger.aggregate(
                positions_pipeline(as_of, amc_codes),
                allowDiskUse=True,
                batchSize=self.batch_size,
            )
            try:
                rows = write_positions(batched(cursor, self.batch_size), path)
            except LedgerDataError as err:
                raise AirflowFailException(f"ledger {namespace}: {err}") from None
        self.log.info("%s as of %s: %d positions -> %s", namespace, as_of, rows, path)
        return Snapshot(
            source="ledger", path=str(path), rows=rows, sha256=file_digest(path), file=namespace
        )


def parse_as_of(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise AirflowFailException(
            f"as_of {value!r} is not an ISO date (YYYY-MM-DD, e.g. '{{{{ ds }}}}')"
        ) from None


def parse_amc_codes(value: Sequence[str] | str | None) -> list[str] | None:
    """None (every AMC), a list of codes, or a comma-separated string of them."""
    if value is None:
        return None
    codes = value.split(",") if isinstance(value, str) else list(value)
    codes = [str(code).strip() for code in codes]
    bad = [code for code in codes if not _AMC_CODE.match(code)]
    if not codes or bad:
        raise AirflowFailException(
            f"amc_codes {value!r}: expected a non-empty list of codes such as ['P', 'H'] "
            f"(bad: {bad}); a templated list needs render_template_as_native_obj=True"
        )
    return codes


def write_positions(batches: Iterable[Iterable[Any]], path: Path) -> int:
    """Write position documents to ``path`` as Parquet, atomically; return the row count."""
    from recon_airflow.hooks.ledger import POSITIONS_SCHEMA, positions_frame

    frames = (positions_frame([batch]) for batch in batches)
    return write_snapshot(frames, path, POSITIONS_SCHEMA)


# CLIENT_DEFAULTS, MongoUnavailableError and mongo_client live in hooks.mongo: re-exported.
__all__ = [
    "CLIENT_DEFAULTS",
    "MongoLedgerPositionsOperator",
    "MongoUnavailableError",
    "mongo_client",
    "write_positions",
]
