"""Load one reconciled partition into the Postgres results store (schema ``recon``), replacing it.

Mapped per source after the reconcile task (``.partial(...).expand(outcome=<reconcile>.output)``):
the partition (recon, source, business date) is replaced inside one transaction (see
``stores.postgres``), so re-runs and backfills never duplicate rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from recon_airflow.outcome import Outcome
from recon_airflow.timeouts import LOAD_EXECUTION_TIMEOUT, with_execution_timeout


class PostgresResultsOperator(BaseOperator):
    """Write ``outcome``'s run, breaks and data-quality checks to the ``recon`` schema.

    :param outcome: the reconcile task's Outcome (templated; usually an XComArg).
    :param postgres_conn_id: the results database's connection.
    """

    template_fields: Sequence[str] = ("outcome",)

    def __init__(
        self, *, outcome: Outcome, postgres_conn_id: str = "recon_postgres", **kwargs: Any
    ) -> None:
        super().__init__(**with_execution_timeout(kwargs, LOAD_EXECUTION_TIMEOUT))
        self.outcome = outcome
        self.postgres_conn_id = postgres_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        # the store brings polars and psycopg: loaded when the task runs, not at DAG parse
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        from recon_airflow.stores.postgres import ensure_schema, load_outcome

        dag_run = context["dag_run"]
        hook = PostgresHook(postgres_conn_id=self.postgres_conn_id)
        ensure_schema(hook)
        # BadOutcomeError (the result files are wrong) is bad input: it fails for good
        stats = load_outcome(
            hook, self.outcome, dag_id=dag_run.dag_id, airflow_run_id=dag_run.run_id
        )
        self.log.info(
            "recon.runs %s %s %s: run %d, %d breaks (%d seen before), %d/%d checks failed%s",
            stats["recon"],
            stats["source"],
            stats["business_date"],
            stats["run_id"],
            stats["breaks"],
            stats["carried_over"],
            stats["checks_failed"],
            stats["checks"],
            ", replaced the previous load" if stats["replaced"] else "",
        )
        return dict(stats)


__all__ = ["PostgresResultsOperator"]
