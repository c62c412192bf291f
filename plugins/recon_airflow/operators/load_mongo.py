"""Load one reconciled partition into MongoDB's ``reconciliation_results``, replacing it.

Mapped per source after the reconcile task: ``outcome`` is that task's XCom. The partition
(recon, source, business date) is replaced inside one transaction (see
``stores.mongo_results``), so re-runs and backfills never duplicate documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from recon_airflow.hooks.mongo import mongo_client
from recon_airflow.outcome import Outcome
from recon_airflow.timeouts import LOAD_EXECUTION_TIMEOUT, with_execution_timeout

# stores.mongo_results (pymongo, polars) is imported in execute: DAG files import this module.
COLLECTION = "reconciliation_results"


class MongoResultsOperator(BaseOperator):
    """Write ``outcome``'s results.parquet to ``database.collection``, one document per row.

    :param outcome: the reconcile task's Outcome (templated; usually an XComArg).
    """

    template_fields: Sequence[str] = ("outcome", "database", "collection")

    def __init__(
        self,
        *,
        outcome: Outcome,
        database: str,
        collection: str = COLLECTION,
        mongo_conn_id: str = "recon_mongo",
        **kwargs: Any,
    ) -> None:
        super().__init__(**with_execution_timeout(kwargs, LOAD_EXECUTION_TIMEOUT))
        self.outcome = outcome
        self.database = database
        self.collection = collection
        self.mongo_conn_id = mongo_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from recon_airflow.stores.mongo_results import replace_results

        run_id = context["dag_run"].run_id
        with mongo_client(self.mongo_conn_id) as client:
            # ResultsStoreError (wrong results or index) is bad input: it fails for good
            written = replace_results(
                client,
                database=self.database,
                collection=self.collection,
                outcome=self.outcome,
                run_id=run_id,
            )
        self.log.info(
            "%s.%s: %s %s %s: %d documents written, %d replaced (transaction: %s)",
            self.database,
            self.collection,
            self.outcome["recon"],
            self.outcome["source"],
            self.outcome["business_date"],
            written["documents"],
            written["replaced"],
            written["transaction"],
        )
        return written


__all__ = ["MongoResultsOperator"]
