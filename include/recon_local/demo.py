"""`make demo`: the core on a payments pair, then the ``aum_recon`` DAG against real servers.

1. ``recon compare`` on a generated processor/ledger pair (the core alone, see recon.demo).
2. Postgres, MongoDB, SFTP, S3, SMTP and a Slack recorder start on loopback; a business day of
   CAMS and KARVY holdings goes to SFTP and its ledger to MongoDB; ``aum_recon`` runs for that
   date (``dag.test()``, logs in ``<out>/aum_recon.log``); the summary comes from the Postgres
   tables a user would query, and the output lists the reports, the S3 links, the alerts
   received and a query for open breaks.
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

from embedded.airflow_settings import REPO_ROOT, airflow_settings
from embedded.aum_world import seed_aum
from embedded.stack import LocalStack
from recon.aum_samples import generate_aum
from recon.demo import Demo, run_demo

BUSINESS_DATE = dt.date(2026, 11, 20)
OPEN_BREAKS_SQL = (
    "select source, key->>'folio' as folio, key->>'product' as product, status, "
    "difference, age_days from recon.v_open_breaks where recon = 'aum_recon' "
    "order by break_amount desc limit 5"
)
SUMMARY_SQL = (
    "select source, total_keys, matched, mismatched, left_only, right_only, breaks, "
    "risk_level from recon.runs where recon = 'aum_recon' and business_date = %s order by source"
)


def run_aum(out: Path, positions: int) -> int:
    """Start the servers, seed a day, run aum_recon, and show what it produced."""
    print("\n== aum_recon on Airflow, against local Postgres, MongoDB, SFTP, S3, SMTP, Slack ==")
    home = out / "airflow-home"
    shutil.rmtree(home, ignore_errors=True)
    sample = generate_aum(out / "aum-input", positions=positions, business_date=BUSINESS_DATE)
    with LocalStack() as stack:
        seeded = seed_aum(stack.sftp, stack.mongo.client(), sample)
        print(
            f"  seeded: {', '.join(seeded['files'].values())} on SFTP, "
            f"{seeded['ledger_documents']:,} ledger transactions in MongoDB"
        )
        env = {
            **os.environ,
            **airflow_settings(home),
            **stack.env(),
            "RECON_STAGING_DIR": str(out / "staging"),
            "RECON_REPORTS_DIR": str(out / "reports"),
            "PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in ("include", "plugins")),
        }
        log = out / "aum_recon.log"
        conf = json.dumps({"business_date": BUSINESS_DATE.isoformat()})
        command = [sys.executable, "-m", "recon_local.run_dag", "aum_recon", "--conf", conf]
        print(f"  running aum_recon for {BUSINESS_DATE} (log: {log}) ...")
        with log.open("w") as handle:
            done = subprocess.run(
                [*command, "--reset-db"], env=env, stdout=handle, stderr=subprocess.STDOUT
            )
        states = [
            line.split(" ", 1)[1]
            for line in log.read_text().splitlines()
            if line.startswith("RESULT ")
        ]
        if done.returncode != 0:
            print("  the run FAILED; task states:")
            for line in states:
                print(f"    {line}")
            return 1
        print(f"  run succeeded: {len(states) - 1} task instances")
        agreed = _check_truth(stack, sample.truth)
        _show_results(stack, out, sample.truth)
        return agreed


def _show_results(stack: LocalStack, out: Path, truth: Path) -> None:
    with stack.postgres.connect() as conn:
        rows = conn.execute(SUMMARY_SQL, (BUSINESS_DATE,)).fetchall()
        open_breaks = conn.execute(OPEN_BREAKS_SQL).fetchall()
    print("\n  per registrar (recon.runs):")
    print(
        f"    {'source':<11}{'keys':>6}{'matched':>9}{'mismatch':>9}{'dbf only':>9}{'mongo only':>11}  risk"
    )
    for source, keys, matched, mismatched, left, right, _breaks, risk in rows:
        print(f"    {source:<11}{keys:>6}{matched:>9}{mismatched:>9}{left:>9}{right:>11}  {risk}")
    print("\n  largest open breaks (recon.v_open_breaks):")
    for source, folio, product, status, diff, age in open_breaks:
        print(f"    {source:<6} {folio:<13} {product:<6} {status:<11} diff={diff}  age={age}d")
    docs = stack.mongo.client()["recon"]["reconciliation_results"].count_documents({})
    print(f"\n  MongoDB recon.reconciliation_results: {docs:,} documents (one per key)")
    mails = stack.smtp.messages()
    print(f"  email received: {len(mails)} ({'; '.join(m.subject for m in mails)})")
    print(f"  Slack messages received: {len(stack.slack.requests())}")
    reports = out / "reports" / "aum_recon" / BUSINESS_DATE.isoformat()
    print(f"\n  reports: {reports}/{{CAMS,KARVY,UNASSIGNED,ALL}}/report.html (+ csv, xlsx, json)")
    print(f"    open: {reports / 'ALL' / 'report.html'}")
    print(
        f"  archived to S3: s3://recon-reports/reports/aum_recon/{BUSINESS_DATE}/ (presigned links in recon.runs.report_links)"
    )
    print(f"  truth table: {truth}")
    print("\n  query open breaks yourself while `make airflow` runs (it prints its Postgres URL):")
    print(f'    psql "$RECON_POSTGRES_URL" -c "{OPEN_BREAKS_SQL}"')


def _check_truth(stack: LocalStack, truth_csv: Path) -> int:
    """Every key's status in MongoDB, and every break in Postgres, against the truth table."""
    import polars as pl

    truth = pl.read_csv(truth_csv, schema_overrides={"folio": pl.String, "product": pl.String})
    expected = {
        (r["registrar"], r["amc_code"], r["folio"], r["product"]): r["status"]
        for r in truth.iter_rows(named=True)
    }
    docs = stack.mongo.client()["recon"]["reconciliation_results"].find(
        {"recon": "aum_recon"}, {"source": 1, "amc_code": 1, "folio": 1, "product": 1, "status": 1}
    )
    found = {(d["source"], d["amc_code"], d["folio"], d["product"]): d["status"] for d in docs}
    with stack.postgres.connect() as conn:
        breaks = conn.execute(
            "select source, key->>'amc_code', key->>'folio', key->>'product', status "
            "from recon.breaks where recon = 'aum_recon' and business_date = %s",
            (BUSINESS_DATE,),
        ).fetchall()
    pg_breaks = {tuple(row[:4]): row[4] for row in breaks}
    want_breaks = {k: v for k, v in expected.items() if v != "matched"}
    if found == expected and pg_breaks == want_breaks:
        print(
            f"  statuses: all {len(expected):,} keys agree with the truth table (MongoDB and Postgres)"
        )
        return 0
    wrong = [k for k in expected if found.get(k) != expected[k]][:5]
    print(f"  statuses: DISAGREE with the truth table, e.g. {wrong}")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recon_local.demo", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--positions", type=int, default=500, help="positions per registrar")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    status = run_demo(Demo(out=out))
    if status:
        return status
    return run_aum(out, args.positions)


if __name__ == "__main__":
    raise SystemExit(main())
