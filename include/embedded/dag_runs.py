"""The project's DAGs run with ``dag.test()`` in the end-to-end tests, and what they leave read back.

- :func:`dag_fixture`: a module fixture, ``dags/<dag_id>.py`` with its task retries off;
- :func:`run_for`: one run of a DAG for a business date (its ``business_date`` param);
- :func:`task_states`: ``(task id, map index, state)`` of every task instance of a run;
- :func:`pg_rows`: a query's rows through the ``recon_postgres`` connection, as the tasks see it.

Airflow is imported only when called (the tests' conftest points it at a throwaway home first).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from embedded.fixtures_airflow import dag_without_retries


def dag_fixture(dag_id: str) -> Any:
    """A module fixture: :func:`~embedded.fixtures_airflow.dag_without_retries` of ``dag_id``."""

    @pytest.fixture(scope="module")
    def fixture(airflow_db: None) -> Any:
        return dag_without_retries(dag_id)

    fixture.__doc__ = f"dags/{dag_id}.py parsed on its own, its task retries off."
    return fixture


def run_for(dag: Any, business_date: dt.date, logical_date: dt.datetime) -> Any:
    """``dag.test()`` at ``logical_date`` with the ``business_date`` param set: the DagRun."""
    return dag.test(
        logical_date=logical_date, run_conf={"business_date": business_date.isoformat()}
    )


def task_states(run: Any) -> list[tuple[str, int, str]]:
    return [(ti.task_id, ti.map_index, ti.state) for ti in run.get_task_instances()]


def pg_rows(sql: str, *args: Any) -> list[tuple[Any, ...]]:
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    return PostgresHook(postgres_conn_id="recon_postgres").get_records(sql, parameters=args or None)


__all__ = ["dag_fixture", "pg_rows", "run_for", "task_states"]
