"""
### config_recons — one DAG per recon definition in `config/recons/*.yaml`

Each YAML file there defines a whole daily reconciliation: its schedule, the two sides (an S3
key or SFTP path pattern, a SQL query file of `include/sql`, or a MongoDB aggregation), the
core's spec, where results go and who is alerted. This file makes one DAG of each valid file
(the dag_id is the file's `dag_id:`, else its name): plan → extract_left / extract_right →
reconcile → publish → load_postgres (+ load_mongo) → send_summary.

An invalid file makes no DAG: it is reported as the import error of `config_recons_check.py`
with its file, YAML path, line and hint (`recon validate config/recons/<file>.yaml` prints the
same), while the valid files keep their DAGs. `RECON_CONFIG_DIR` moves the config folder.
Parsing reads the YAML files and nothing else.
"""

from __future__ import annotations

from pathlib import Path

from recon_airflow.pipelines.config_folder import read_config_folder
from recon_airflow.pipelines.config_recons import recon_dag, recons_dir

# Module-level names are how Airflow finds generated DAGs; invalid files are skipped here.
for _path, _recon in read_config_folder(
    recons_dir(), dags_folder=Path(__file__).parent
).definitions.items():
    globals()[_recon.dag_id] = recon_dag(_recon, _path)
