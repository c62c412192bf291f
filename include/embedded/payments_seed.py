"""Put a generated payments day (``worlds.payments``) where ``payments_recon`` reads it.

The ledger goes to Postgres as ``ledger.payments``: the production shape, every day in one
table, read per business date by ``booked_at``. ``payment_id`` is not the key: a payment booked
twice (a planted duplicate) is two rows, so an identity ``id`` is, and the extract's lookups use
the indexes on (processor, processor_reference) and ``booked_at``. The processors' records go to
the local processor APIs, each in its own shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import polars as pl
from psycopg import Connection, sql

from embedded.processor_api import ProcessorApi
from worlds.payments import PaymentsDay

SCHEMA: Final = "ledger"
TABLE: Final = "payments"
COLUMNS: Final = (
    "payment_id",
    "processor",
    "processor_reference",
    "amount",
    "currency",
    "fee",
    "status",
    "booked_at",
)
BATCH_ROWS: Final = 100_000
_TIMESTAMP: Final = "%Y-%m-%d %H:%M:%S%.6f%:z"  # what timestamptz reads back exactly
# No CHECKs on values: the pipeline's data-quality checks must be able to find bad rows.
_DDL: Final = """
CREATE TABLE IF NOT EXISTS {table} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id text NOT NULL,
    processor text NOT NULL,
    processor_reference text,
    amount numeric(18, 2) NOT NULL,
    currency text NOT NULL,
    fee numeric(18, 2) NOT NULL,
    status text NOT NULL,
    booked_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS {reference_index} ON {table} (processor, processor_reference);
CREATE INDEX IF NOT EXISTS {booked_index} ON {table} (booked_at);
"""


def seed_ledger_postgres(
    conn: Connection[Any], ledger_parquet: Path, *, schema: str = SCHEMA
) -> int:
    """Replace ``<schema>.payments`` with the ledger's rows (one transaction); return how many.

    The table is emptied, not dropped, so views over it survive a re-seed.
    """
    table = sql.Identifier(schema, TABLE)
    frame = pl.read_parquet(ledger_parquet, columns=list(COLUMNS))
    copy = sql.SQL("COPY {table} ({columns}) FROM STDIN (FORMAT csv)").format(
        table=table, columns=sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
    )
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        cur.execute(
            sql.SQL(_DDL).format(
                table=table,
                reference_index=sql.Identifier(f"{TABLE}_reference"),
                booked_index=sql.Identifier(f"{TABLE}_booked_at"),
            )
        )
        cur.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(table))
        with cur.copy(copy) as sink:
            # CSV keeps NULL (an empty field) apart from an empty string (""), and the
            # decimals as written: no float on the way
            for batch in frame.iter_slices(BATCH_ROWS):
                sink.write(batch.write_csv(include_header=False, datetime_format=_TIMESTAMP))
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(table))
        row = cur.fetchone()
    return int(row[0]) if row else 0


def load_processor_apis(api: ProcessorApi, day: PaymentsDay) -> dict[str, int]:
    """Serve each processor's records of ``day`` (replacing earlier ones); return how many."""
    for processor, records in day.records.items():
        api.load(processor, records)
    return {processor: len(records) for processor, records in day.records.items()}


__all__ = ["load_processor_apis", "seed_ledger_postgres"]
