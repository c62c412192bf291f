"""For the tests of the Postgres results store: its fixtures, made in the test module, and the
outcome a reconcile task would hand the load task.

    hook = schema_hook_fixture(PG_CONN, ensure_schema)  # a PostgresHook, the schema applied
    query = query_fixture()  # SQL and parameters -> dict rows

Both empty the session Postgres first (``pg_clean``); the hook's test also has the
``AIRFLOW_CONN_*`` variables set (``db_connections``). :func:`result_outcome` reads a result
folder's summary back into an outcome.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from psycopg.rows import dict_row

from embedded.postgres import EmbeddedPostgres
from recon.result import SUMMARY_FILE

Query = Callable[..., list[dict[str, Any]]]  # the `query` fixture: SQL and parameters -> rows


def schema_hook_fixture(conn_id: str, ensure_schema: Callable[[Any], bool]) -> Any:
    """A fixture: a PostgresHook on ``conn_id`` on which ``ensure_schema`` (the store's, passed
    in by the test: the test servers never import the plugin layer) applied the schema."""

    @pytest.fixture
    def fixture(pg_clean: EmbeddedPostgres, db_connections: dict[str, str]) -> Any:
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        hook = PostgresHook(postgres_conn_id=conn_id)
        assert ensure_schema(hook) is True
        return hook

    fixture.__doc__ = "A hook on an emptied database with the recon schema applied."
    return fixture


def query_fixture() -> Any:
    """A fixture: :data:`Query` on one autocommit connection to the emptied session Postgres."""

    @pytest.fixture
    def fixture(pg_clean: EmbeddedPostgres) -> Iterator[Query]:
        with pg_clean.connect(autocommit=True, row_factory=dict_row) as conn:

            def run(sql: str, *params: Any) -> list[dict[str, Any]]:
                return conn.execute(sql, params or None).fetchall()

            yield run

    fixture.__doc__ = "Run a read-only query in autocommit and return dict rows."
    return fixture


def result_outcome(
    result_dir: Path,
    *,
    recon: str,
    source: str,
    business_date: dt.date,
    started_at: dt.datetime,
    seconds: float,
    summary_keys: Sequence[str] | None = None,
    report_links: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The outcome a reconcile task would hand over for ``result_dir``, from its summary.json:
    the business date as ISO text, inputs ``<source>_<side>.dat`` with a made-up sha256, no local
    reports, the summary whole unless ``summary_keys`` name the keys to keep, finished
    ``seconds`` after ``started_at``."""
    summary = json.loads((result_dir / SUMMARY_FILE).read_text())
    return {
        "recon": recon,
        "source": source,
        "business_date": business_date.isoformat(),
        "spec": summary["recon"],
        "labels": summary["labels"],
        "keys": summary["keys"],
        "amount_field": summary["amount_field"],
        "result_dir": str(result_dir),
        "inputs": {
            side: {"file": f"{source}_{side}.dat", "sha256": side[0] * 64, "rows": info["rows"]}
            for side, info in summary["inputs"].items()
        },
        "reports": {},
        "report_links": report_links or {},
        "summary": summary if summary_keys is None else {k: summary[k] for k in summary_keys},
        "started_at": started_at.isoformat(),
        "finished_at": (started_at + dt.timedelta(seconds=seconds)).isoformat(),
    }


__all__ = ["Query", "query_fixture", "result_outcome", "schema_hook_fixture"]
