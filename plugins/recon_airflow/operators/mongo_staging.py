"""What the Mongo extracts share: one collection on one connection, read in cursor batches.

``MongoStagingOperator`` is the base of ``MongoAggregateToStagingOperator`` (a config recon's
aggregation) and ``MongoLedgerPositionsOperator`` (the AUM ledger's positions): the
collection is looked up once, so a wrong name fails for good with a did-you-mean, and the
client stays open while the base (``StagingOperator``) writes the cursor's batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from recon.errors import did_you_mean
from recon_airflow.errors import BadInputError
from recon_airflow.hooks.mongo import mongo_client
from recon_airflow.operators.staging import StagingOperator

if TYPE_CHECKING:  # pymongo loads at run time: DAG files import the operators at every parse
    from pymongo.collection import Collection


class MongoStagingOperator(StagingOperator):
    """Stage what a subclass reads from ``database.collection``.

    :param mongo_conn_id: the MongoDB connection.
    :param batch_size: documents per cursor batch and per Parquet row group.
    """

    what: ClassVar[str] = ""  # put before the namespace in messages (``"ledger "``)
    hint: ClassVar[str] = "check the recon definition"  # when no collection's name is close

    def __init__(
        self,
        *,
        database: str,
        collection: str,
        mongo_conn_id: str = "recon_mongo",
        batch_size: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.database = database
        self.collection = collection
        self.mongo_conn_id = mongo_conn_id
        self.batch_size = batch_size

    @property
    def namespace(self) -> str:
        return f"{self.database}.{self.collection}"

    @contextmanager
    def opened_collection(self) -> Iterator[Collection[Any]]:
        """The collection, its client open inside the block (connection errors in it become
        ``MongoUnavailableError``); bad input when the database has no such collection."""
        with mongo_client(self.mongo_conn_id) as client:
            names = client[self.database].list_collection_names()
            if self.collection not in names:
                found = did_you_mean(self.collection, names) or self.hint
                raise BadInputError(
                    f"{self.what}{self.namespace} not found on connection "
                    f"`{self.mongo_conn_id}` ({found})"
                )
            yield client[self.database][self.collection]


__all__ = ["MongoStagingOperator"]
