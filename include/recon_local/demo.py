"""`make demo`: the core on a payments pair, then both pipelines' DAGs against real servers.

1. ``recon compare`` on a generated processor/ledger pair (the core alone, see recon_local.demo_core).
2. Postgres, MongoDB, SFTP, S3, SMTP, a Slack recorder and the processor APIs start on
   loopback. A business day of CAMS and KARVY holdings goes to SFTP and its ledger to MongoDB;
   a day of Stripe, PayPal and Square payments goes behind the processor APIs and its ledger to
   Postgres. ``aum_recon`` and ``payments_recon`` run for that date (``dag.test()``, logs in
   ``<out>/<dag_id>.log``); each is checked against its truth table, and the summaries come
   from the Postgres tables a user would query, with the reports, S3 links and alerts.
3. Two CSV files (a bank statement and a ledger export) go through the upload API when an
   Airflow API server answers (``make airflow``), else through ``file_recon`` here; the result
   is checked against what was planted (see recon_local.demo_files).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from embedded import orders_seed
from embedded.airflow_settings import REPO_ROOT, airflow_settings
from embedded.base import ServiceError
from embedded.stack import LocalStack
from recon_local import demo_aum, demo_files, demo_payments
from recon_local.demo_core import Demo, run_demo

BUSINESS_DATE = dt.date(2026, 11, 20)


def run_pipelines(out: Path, positions: int, payments: int) -> int:
    """Start the servers, seed a day for each pipeline, run both DAGs and show the results."""
    print("\n== aum_recon and payments_recon on Airflow, against local servers ==")
    home = out / "airflow-home"
    shutil.rmtree(home, ignore_errors=True)
    with LocalStack() as stack:
        sample = demo_aum.seed(stack, out, BUSINESS_DATE, positions)
        day = demo_payments.seed(stack, out, BUSINESS_DATE, payments)
        env = {
            **os.environ,
            **airflow_settings(home),
            **stack.env(),
            "RECON_STAGING_DIR": str(out / "staging"),
            "RECON_REPORTS_DIR": str(out / "reports"),
            "PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in ("include", "plugins")),
        }
        failed = 0
        for title, dag_id, module, seeded in (
            ("CAMS and KARVY holdings against the MongoDB ledger", "aum_recon", demo_aum, sample),
            ("Stripe, PayPal and Square against the Postgres ledger", "payments_recon",
             demo_payments, day),
        ):  # fmt: skip
            print(f"\n-- {dag_id}: {title} --")
            if run_dag(dag_id, env, out, reset_db=dag_id == "aum_recon"):
                failed += module.check_truth(stack, seeded)
                module.show(stack, out, seeded)
                show_alerts(stack)
            else:
                failed += 1
            stack.smtp.reset()
            stack.slack.reset()
        failed += run_config_recon(stack, env, out)
        stack.smtp.reset()
        failed += run_file_recon(env, out)
    print("\n  query the tables yourself while `make airflow` runs (it prints its Postgres URL):")
    print(f'    psql "$RECON_POSTGRES_URL" -c "{demo_aum.OPEN_BREAKS_SQL}"')
    print(f'    psql "$RECON_POSTGRES_URL" -c "{demo_payments.HIGH_VALUE_SQL}"')
    return 1 if failed else 0


def run_config_recon(stack: LocalStack, env: dict[str, str], out: Path) -> int:
    """The recon defined in config/recons/orders_s3_vs_ledger.yaml; 1 if it disagrees."""
    print("\n-- orders_s3_vs_ledger (config/recons/orders_s3_vs_ledger.yaml, no Python) --")
    day = orders_seed.seed_example(stack, BUSINESS_DATE)  # prints what it seeded
    if not run_dag("orders_s3_vs_ledger", env, out, reset_db=False):
        return 1
    labels = {"left_only": "export_only", "right_only": "ledger_only"}  # as stored
    want = {k: labels.get(v, v) for k, v in day.truth.items() if v != "matched"}
    with stack.postgres.connect() as conn:
        found = dict(
            conn.execute(
                "select key->>'order_id', status from recon.breaks "
                "where recon = 'orders_s3_vs_ledger' and business_date = %s",
                (BUSINESS_DATE,),
            ).fetchall()
        )
    verdict = "agree with the planted truth" if found == want else f"DIFFER: {found} vs {want}"
    print(f"  breaks in recon.breaks: {len(found)} ({verdict})")
    show_alerts(stack)
    return 0 if found == want else 1


def run_file_recon(env: dict[str, str], out: Path) -> int:
    """Two CSV files through the upload API (or ``file_recon`` here); 1 if the result is wrong."""
    print("\n-- file_recon: a bank statement against a ledger export, two CSV files --")
    pair = demo_files.write_pair(out / "upload")
    counts, where = demo_files.run(
        pair, env, lambda dag_id, conf: run_dag(dag_id, env, out, reset_db=False, conf=conf)
    )
    if counts is None:
        return 1
    wrong = {s: (n, counts.get(s)) for s, n in pair.expected.items() if counts.get(s) != n}
    print(
        "  result: "
        + ", ".join(f"{n:,} {s}" for s, n in counts.items())
        + (f"; DIFFERS from what was planted: {wrong}" if wrong else " (as planted)")
    )
    print(f"  reports: {where}/ (report.html, breaks.csv, report.xlsx, report.json)")
    print(f"    open: {where}/report.html")
    print("  the same through the upload API, by hand (with `make airflow` running):")
    for line in demo_files.curl_lines():
        print(f"    {line}")
    return 1 if wrong else 0


def run_dag(
    dag_id: str,
    env: dict[str, str],
    out: Path,
    *,
    reset_db: bool,
    conf: dict[str, object] | None = None,
) -> bool:
    """``dag.test()`` of ``dag_id`` in a child process, logged to ``<out>/<dag_id>.log``."""
    log = out / f"{dag_id}.log"
    given = conf if conf is not None else {"business_date": BUSINESS_DATE.isoformat()}
    command = [sys.executable, "-m", "recon_local.run_dag", dag_id, "--conf", json.dumps(given)]
    what = f"for {BUSINESS_DATE}" if conf is None else "with the pair"
    print(f"  running {dag_id} {what} (log: {log}) ...")
    with log.open("w") as handle:
        done = subprocess.run(
            [*command, *(["--reset-db"] if reset_db else [])],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    states = [
        line.split(" ", 1)[1] for line in log.read_text().splitlines() if line.startswith("RESULT ")
    ]
    if done.returncode != 0:
        print("  the run FAILED; task states:")
        for line in states:
            print(f"    {line}")
        return False
    print(f"  run succeeded: {len(states) - 1} task instances")
    return True


def show_alerts(stack: LocalStack) -> None:
    mails = stack.smtp.messages()
    print(f"  email received: {len(mails)} ({'; '.join(m.subject for m in mails)})")
    print(f"  Slack messages received: {len(stack.slack.requests())}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recon_local.demo", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--positions", type=int, default=500, help="positions per registrar")
    parser.add_argument("--payments", type=int, default=1000, help="payment cases per processor")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    status = run_demo(Demo(out=out))
    if status:
        return status
    try:
        return run_pipelines(out, args.positions, args.payments)
    except ServiceError as err:
        print(f"make demo: error: {err.summary}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
