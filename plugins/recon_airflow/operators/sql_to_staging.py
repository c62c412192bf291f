"""Run a query from ``include/sql`` against Postgres and stage its rows as a Parquet snapshot.

The query is a file (no SQL strings in DAG files), its parameters are bound by the driver
(``%(name)s``). The rows travel as ``COPY (query) TO STDOUT`` CSV (no Python object per value:
a few times faster than fetching rows) and are typed from the query's own result description
(numeric(p, s) as exact decimals, timestamptz as UTC datetimes); the base (``StagingOperator``)
writes them to a snapshot that is replaced only once written. A query the database refuses (a
missing table, a syntax error) fails without retry; a database that cannot be reached, or
does not answer within the bounds of ``hooks.postgres``, raises ``PostgresUnavailableError``,
so retries apply.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import Context

from recon_airflow.errors import BadInputError
from recon_airflow.operators.staging import Fetched, StagingOperator
from recon_airflow.settings import SQL_DIR

if TYPE_CHECKING:
    import polars as pl
    import psycopg


def read_sql_file(name: str) -> str:
    """The text of ``include/sql/<name>``; refuses paths outside that folder."""
    path = (SQL_DIR / name).resolve()
    if not path.is_relative_to(SQL_DIR.resolve()) or path.suffix != ".sql":
        raise BadInputError(f"{name!r} is not a .sql file in include/sql")
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = ", ".join(sorted(p.name for p in SQL_DIR.glob("*.sql")))
        raise BadInputError(f"no include/sql/{name}; there are: {known}") from None


def query_frame(
    conn: psycopg.Connection[Any], query: str, params: Mapping[str, Any]
) -> pl.DataFrame:
    """The rows of ``query`` (parameters bound by psycopg) as a typed polars frame, via COPY."""
    import polars as pl
    from psycopg import sql

    body = query.strip().rstrip(";")
    inner = sql.SQL("(\n" + body + "\n)")  # the file's own text: never user input
    with conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")  # timestamptz text in UTC
        cur.execute(sql.SQL("SELECT * FROM {} AS q LIMIT 0").format(inner), params)
        described = cur.description or []
        types = {c.name: _dtype(conn, c) for c in described}
        # every value quoted: an empty string ("") stays apart from NULL (an empty field)
        copy = sql.SQL("COPY {} TO STDOUT (FORMAT csv, HEADER, FORCE_QUOTE *)").format(inner)
        buffer = io.BytesIO()
        with cur.copy(copy, params) as rows:
            for chunk in rows:
                buffer.write(chunk)
    text = pl.read_csv(
        buffer.getvalue(),
        schema={name: pl.String for name in types},
    )
    return text.with_columns(_typed(name, dtype) for name, dtype in types.items())


def _dtype(conn: psycopg.Connection[Any], column: Any) -> pl.DataType:
    import polars as pl

    info = conn.adapters.types.get(column.type_code)
    name = info.name if info is not None else ""
    if name == "numeric" and column.precision is not None and column.scale is not None:
        return pl.Decimal(column.precision, column.scale)
    simple: dict[str, pl.DataType] = {
        "numeric": pl.Decimal(38, 9),
        "int2": pl.Int16(),
        "int4": pl.Int32(),
        "int8": pl.Int64(),
        "float4": pl.Float32(),
        "float8": pl.Float64(),
        "bool": pl.Boolean(),
        "date": pl.Date(),
        "timestamptz": pl.Datetime("us", "UTC"),
        "timestamp": pl.Datetime("us"),
    }
    return simple.get(name, pl.String())


def _typed(name: str, dtype: pl.DataType) -> pl.Expr:
    import polars as pl

    column = pl.col(name)
    if dtype == pl.String:
        return column
    if dtype == pl.Boolean:
        return column.replace_strict({"t": True, "f": False}, return_dtype=pl.Boolean)
    if isinstance(dtype, pl.Datetime):
        return column.str.to_datetime(time_zone=dtype.time_zone, time_unit="us")
    if dtype == pl.Date:
        return column.str.to_date("%Y-%m-%d")
    return column.cast(dtype)


class SqlToStagingOperator(StagingOperator):
    """``include/sql/<sql>`` with ``parameters`` into ``snapshot_path`` (Parquet, atomic).

    :param source: what the snapshot is (e.g. ``ledger``), as XCom says it.
    :param parameters: bound by name (``%(start)s``); ISO timestamps are cast by Postgres.
    """

    template_fields: Sequence[str] = (
        "sql",
        "parameters",
        "snapshot_path",
        "source",
        "required_columns",
    )

    def __init__(
        self,
        *,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        postgres_conn_id: str = "recon_postgres",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sql = sql
        self.parameters = parameters
        self.postgres_conn_id = postgres_conn_id

    @contextmanager
    def fetch(self, context: Context, workdir: Path) -> Iterator[Fetched]:
        import psycopg
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        from recon_airflow.hooks.postgres import postgres_session

        query = read_sql_file(self.sql)
        hook = PostgresHook(postgres_conn_id=self.postgres_conn_id)
        with postgres_session(hook) as conn:  # bounded: a frozen server fails the try
            try:
                table = query_frame(conn, query, dict(self.parameters or {}))
            except psycopg.errors.ProgrammingError as exc:  # missing table, syntax, parameter
                raise BadInputError(f"include/sql/{self.sql}: {exc}".strip()) from None
        yield Fetched(frames=table, file=f"postgres:{self.sql}")


__all__ = ["SqlToStagingOperator", "query_frame", "read_sql_file"]
