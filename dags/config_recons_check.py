"""
### config_recons_check — invalid recon definitions, as an import error

The DAGs of `config/recons/*.yaml` are made by `config_recons.py`, which skips a file it cannot
use. This file makes no DAG: it fails to import while any definition is invalid, so the
mistakes show in Airflow's import errors (UI, `airflow dags list-import-errors`), one line per
file with its YAML path, line and hint, exactly as `recon validate <file>` prints them.

Why a file of its own: Airflow marks every DAG of a file that has an import error as stale and
stops scheduling it. Were the error raised by `config_recons.py`, one bad YAML would stop every
config recon; raised here, the valid recons keep running.
"""

from __future__ import annotations

from pathlib import Path

from recon.definitions import ReconConfigError
from recon_airflow.pipelines.config_folder import read_config_folder
from recon_airflow.pipelines.config_recons import recons_dir

_found = read_config_folder(recons_dir(), dags_folder=Path(__file__).parent)
if _found.errors:
    raise ReconConfigError(_found.error_report())
