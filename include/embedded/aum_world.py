"""Put a generated AUM day (``worlds.aum``) where the ``aum_recon`` DAG looks for it.

The registrars' DBF files go to the SFTP server under the paths the pipeline config names for
that business date; the ledger's transactions go to MongoDB (``recon.transactions``).
``seed_aum_days`` does it for several dates of one book (their files, one ledger).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import MongoClient

from embedded.seed import seed_ledger
from embedded.sftp import EmbeddedSftp
from recon.pipeline_config.aum import load_aum_config
from worlds.aum import AumSample

LEDGER_DATABASE = "recon"
LEDGER_COLLECTION = "transactions"


def put_holdings(
    sftp: EmbeddedSftp, sample: AumSample, registrars: Iterable[str] | None = None
) -> dict[str, str]:
    """Upload each registrar's file to its configured path; returns registrar -> remote path."""
    config = load_aum_config()
    placed = {}
    for name in registrars or sample.holdings:
        remote = config.registrar(name).remote_file(sample.business_date)
        placed[name] = sftp.put(remote, sample.holdings[name].read_bytes())
    return placed


def seed_aum(
    sftp: EmbeddedSftp,
    mongo: MongoClient[dict[str, Any]],
    sample: AumSample,
    registrars: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Holdings on SFTP and the ledger in MongoDB; returns what went where."""
    files = put_holdings(sftp, sample, registrars)
    docs = seed_ledger(mongo, sample.ledger, database=LEDGER_DATABASE, collection=LEDGER_COLLECTION)
    return {"files": files, "ledger_documents": docs}


def seed_aum_days(
    sftp: EmbeddedSftp, mongo: MongoClient[dict[str, Any]], samples: Sequence[AumSample]
) -> dict[str, Any]:
    """Several dates of one book (``worlds.aum.generate_aum_days``): every date's files on
    SFTP, their shared ledger in MongoDB once; returns what went where."""
    if len({s.ledger for s in samples}) != 1:
        raise ValueError("the samples must share one ledger (generate_aum_days)")
    files = [path for sample in samples for path in put_holdings(sftp, sample).values()]
    docs = seed_ledger(
        mongo, samples[0].ledger, database=LEDGER_DATABASE, collection=LEDGER_COLLECTION
    )
    return {"files": files, "ledger_documents": docs}
