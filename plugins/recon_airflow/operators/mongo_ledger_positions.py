"""Extract the ledger's positions as of the business date from MongoDB into a Parquet snapshot.

The sum runs in MongoDB (``recon_airflow.ledger_positions.positions_pipeline``); only positions cross the wire,
streamed in batches into ``snapshot_path`` by the extracts' base (``StagingOperator``: written
beside, then renamed, so a reader never sees a half-written snapshot). A ledger with documents that
cannot be summed fails the task without retry; a server that does not answer fails it
quickly, with a retryable error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import Context

from recon_airflow.errors import BadInputError
from recon_airflow.operators.mongo_staging import MongoStagingOperator
from recon_airflow.operators.staging import Fetched, batched

if TYPE_CHECKING:
    import polars as pl
# pymongo, polars and pyarrow are imported where used: DAG files import this module at parse.

_AMC_CODE = re.compile(r"^[A-Za-z0-9_-]+$")


class MongoLedgerPositionsOperator(MongoStagingOperator):
    """Sum the ledger's signed units per position up to ``as_of`` into a Parquet snapshot.

    Its Snapshot's source is ``ledger``.

    :param as_of: ISO date (templated): transactions booked on or before it count.
    :param amc_codes: only these AMCs' positions (templated; a list, or "P,H,B"); None for all.
    :param snapshot_path: where the Parquet snapshot goes (templated); replaced if present.
    """

    template_fields: Sequence[str] = (
        "as_of",
        "amc_codes",
        "snapshot_path",
        "database",
        "collection",
        "source",
        "required_columns",
    )
    what = "ledger "
    hint = "check the pipeline config"

    def __init__(
        self, *, as_of: str, amc_codes: Sequence[str] | str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(source="ledger", **kwargs)
        self.as_of = as_of
        self.amc_codes = amc_codes

    @contextmanager
    def fetch(self, context: Context, workdir: Path) -> Iterator[Fetched]:
        from recon_airflow.ledger_positions import (
            POSITIONS_SCHEMA,
            LedgerDataError,
            describe_problems,
            ledger_problems,
            positions_pipeline,
            problems_pipeline,
        )

        as_of = parse_as_of(self.as_of)
        amc_codes = parse_amc_codes(self.amc_codes)
        namespace = self.namespace
        with self.opened_collection() as ledger:
            answer = ledger.aggregate(problems_pipeline(as_of, amc_codes), allowDiskUse=True)
            problems = ledger_problems(answer)
            if problems:
                raise BadInputError(describe_problems(problems, namespace=namespace))
            cursor = ledger.aggregate(
                positions_pipeline(as_of, amc_codes),
                allowDiskUse=True,
                batchSize=self.batch_size,
            )
            frames = position_frames(batched(cursor, self.batch_size))
            self.log.info("%s: positions as of %s", namespace, as_of)
            try:
                yield Fetched(frames=frames, file=namespace, schema=POSITIONS_SCHEMA)
            except LedgerDataError as err:
                raise BadInputError(f"ledger {namespace}: {err}") from None


def parse_as_of(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadInputError(
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
        raise BadInputError(
            f"amc_codes {value!r}: expected a non-empty list of codes such as ['P', 'H'] "
            f"(bad: {bad}); a templated list needs render_template_as_native_obj=True"
        )
    return codes


def position_frames(batches: Iterable[Iterable[Any]]) -> Iterator[pl.DataFrame]:
    """Position documents, a batch at a time, as frames of ``POSITIONS_SCHEMA``."""
    from recon_airflow.ledger_positions import positions_frame

    return (positions_frame([batch]) for batch in batches)


__all__ = ["MongoLedgerPositionsOperator", "parse_amc_codes", "parse_as_of", "position_frames"]
