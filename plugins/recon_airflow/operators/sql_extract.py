"""Run a query from ``include/sql`` against Postgres and stage its rows as a Parquet snapshot.

The query is a file (no SQL strings in DAG files), its parameters are bound by the driver
(``%(name)s``); the rows (one business date's: read whole) go to a temporary Parquet file
that replaces the snapshot only once written. A query the database refuses (a missing table, a syntax
error) fails without retry; a database that cannot be reached raises as it is, so retries apply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from recon_airflow.outcome import Snapshot
from recon_airflow.settings import SQL_DIR


def read_sql_file(name: str) -> str:
    """The text of ``include/sql/<name>``; refuses paths outside that folder."""
    path = (SQL_DIR / name).resolve()
    if not path.is_relative_to(SQL_DIR.resolve()) or path.suffix != ".sql":
        raise AirflowFailException(f"{name!r} is not a .sql file in include/sql")
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = ", ".join(sorted(p.name for p in SQL_DIR.glob("*.sql")))
        raise AirflowFailException(f"no include/sql/{name}; there are: {known}") from None


class SqlToStagingOperator(BaseOperator):
    """``include/sql/<sql>`` with ``parameters`` into ``snapshot_path`` (Parquet, atomic).

    :param source: what the snapshot is (e.g. ``ledger``), as XCom says it.
    :param parameters: bound by name (``%(start)s``); ISO timestamps are cast by Postgres.
    """

    template_fields: Sequence[str] = ("sql", "parameters", "snapshot_path", "source")

    def __init__(
        self,
        *,
        source: str,
        sql: str,
        snapshot_path: str,
        parameters: Mapping[str, Any] | None = None,
        postgres_conn_id: str = "recon_postgres",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.sql = sql
        self.snapshot_path = snapshot_path
        self.parameters = parameters
        self.postgres_conn_id = postgres_conn_id

    def execute(self, context: Context) -> Snapshot:
        import polars as pl
        import psycopg
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        from recon.files import file_digest, replaced_atomically

        query = read_sql_file(self.sql)
        path = Path(self.snapshot_path)
        options = {"params": dict(self.parameters or {})}
        conn = PostgresHook(postgres_conn_id=self.postgres_conn_id).get_conn()
        try:
            table = pl.read_database(query, conn, execute_options=options)
        except psycopg.errors.ProgrammingError as exc:  # missing table, syntax, bad parameter
            raise AirflowFailException(f"include/sql/{self.sql}: {exc}".strip()) from None
        finally:
            conn.close()
        with replaced_atomically(path) as staged:
            table.write_parquet(staged, compression="zstd")
        rows = table.height
        self.log.info("%s: %d rows from include/sql/%s", self.source, rows, self.sql)
        return Snapshot(
            source=self.source,
            path=str(path),
            rows=rows,
            sha256=file_digest(path),
            file=f"postgres:{self.sql}",
        )
