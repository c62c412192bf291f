"""Where recon keeps things on a worker: staging, reports and the config folder.

Read at task run time (never at DAG parse). Each can be moved by an environment variable; the
defaults sit under ``$AIRFLOW_HOME`` so a throwaway Airflow home holds a whole run.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from recon.pipeline_config.base import config_root

REPO_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = REPO_ROOT / "include" / "sql"  # DDL and queries, as .sql files


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow"))


def staging_root() -> Path:
    """Root of the staging store (``RECON_STAGING_DIR``, default ``$AIRFLOW_HOME/recon/staging``)."""
    return Path(os.environ.get("RECON_STAGING_DIR") or airflow_home() / "recon" / "staging")


def reports_root() -> Path:
    """Root of local reports (``RECON_REPORTS_DIR``, default ``$AIRFLOW_HOME/recon/reports``)."""
    return Path(os.environ.get("RECON_REPORTS_DIR") or airflow_home() / "recon" / "reports")


def partition_dir(root: Path, dag_id: str, business_date: dt.date | str, source: str) -> Path:
    """``{root}/{dag_id}/{YYYY-MM-DD}/{source}``: one folder per partition, replaced on re-run."""
    day = business_date if isinstance(business_date, str) else business_date.isoformat()
    dt.date.fromisoformat(day)  # refuse anything that is not a date before it names a folder
    return root / dag_id / day / source


__all__ = ["airflow_home", "config_root", "partition_dir", "reports_root", "staging_root"]
