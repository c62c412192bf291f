"""Run one DAG in-process with ``dag.test()`` (the demo's child process; logs go to its stdout).

``python -m recon_local.run_dag aum_recon --conf '{"business_date": "2026-11-20"}'``
Exit 0 when the run succeeded, 1 when it failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recon_local.run_dag")
    parser.add_argument("dag_id")
    parser.add_argument("--conf", default="{}", help="run conf as JSON")
    parser.add_argument("--reset-db", action="store_true", help="create the metadata DB first")
    args = parser.parse_args(argv)
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db

    if args.reset_db:
        db.resetdb()
    bag = DagBag()
    if bag.import_errors:
        for path, error in bag.import_errors.items():
            print(f"import error in {path}:\n{error}", file=sys.stderr)
        return 1
    dag = bag.get_dag(args.dag_id)
    if dag is None:
        print(f"no DAG {args.dag_id!r}; known: {', '.join(sorted(bag.dag_ids))}", file=sys.stderr)
        return 1
    run = dag.test(logical_date=dt.datetime.now(dt.UTC), run_conf=json.loads(args.conf))
    for ti in sorted(run.get_task_instances(), key=lambda t: (t.task_id, t.map_index)):
        index = f"[{ti.map_index}]" if ti.map_index >= 0 else ""
        print(f"RESULT {ti.task_id}{index} {ti.state}")
    print(f"RESULT run {run.state}")
    return 0 if run.state == "success" else 1


if __name__ == "__main__":
    raise SystemExit(main())
