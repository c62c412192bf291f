"""Moved: the ledger's position pipelines are ``recon_airflow.ledger_positions`` (no hook).

Kept only for ``operators/mongo_ledger.py``, which imports this name and is being migrated
onto ``StagingOperator`` on another branch; delete this file once it imports the new module.
"""

from __future__ import annotations

from recon_airflow.ledger_positions import *  # noqa: F403
from recon_airflow.ledger_positions import __all__ as __all__
