"""The AUM part of ``make demo``: seed a day of CAMS and KARVY holdings and the ledger, then
(after ``aum_recon`` ran) check it against the truth and show the results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from embedded.aum_world import seed_aum, seed_aum_days
from embedded.stack import LocalStack
from worlds.aum import AumSample, generate_aum, generate_aum_days

OPEN_BREAKS_SQL = (
    "select source, key->>'folio' as folio, key->>'product' as product, status, "
    "difference, age_days from recon.v_open_breaks where recon = 'aum_recon' "
    "order by break_amount desc limit 5"
)
SUMMARY_SQL = (
    "select source, total_keys, matched, mismatched, left_only, right_only, breaks, "
    "risk_level from recon.runs where recon = 'aum_recon' and business_date = %s order by source"
)


def seed(stack: LocalStack, out: Path, business_date: dt.date, positions: int) -> AumSample:
    """Generate the day, put the registrars' files on SFTP and the ledger in MongoDB."""
    sample = generate_aum(out / "aum-input", positions=positions, business_date=business_date)
    seeded = seed_aum(stack.sftp, stack.mongo.client(), sample)
    print(
        f"  seeded: {', '.join(seeded['files'].values())} on SFTP, "
        f"{seeded['ledger_documents']:,} ledger transactions in MongoDB"
    )
    return sample


def seed_days(
    stack: LocalStack, out: Path, business_dates: Sequence[dt.date], positions: int
) -> list[AumSample]:
    """Several dates of one book (breaks that persist, clear and appear): every date's files
    on SFTP, the ledger in MongoDB."""
    samples = generate_aum_days(out / "aum-input", business_dates, positions=positions)
    seeded = seed_aum_days(stack.sftp, stack.mongo.client(), samples)
    print(
        f"  seeded aum_recon: {len(seeded['files'])} registrar files on SFTP "
        f"({samples[0].business_date} to {samples[-1].business_date}), "
        f"{seeded['ledger_documents']:,} ledger transactions in MongoDB"
    )
    return samples


def show(stack: LocalStack, out: Path, sample: AumSample) -> None:
    truth, day = sample.truth, sample.business_date
    with stack.postgres.connect() as conn:
        rows = conn.execute(SUMMARY_SQL, (day,)).fetchall()
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
    reports = out / "reports" / "aum_recon" / day.isoformat()
    print(f"\n  reports: {reports}/{{CAMS,KARVY,UNASSIGNED,ALL}}/report.html (+ csv, xlsx, json)")
    print(f"    open: {reports / 'ALL' / 'report.html'}")
    print(
        f"  archived to S3: s3://recon-reports/reports/{day}/aum_recon/ "
        "(presigned links in recon.runs.report_links)"
    )
    print(f"  truth table: {truth}")


def check_truth(stack: LocalStack, sample: AumSample) -> int:
    truth_csv, day = sample.truth, sample.business_date
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
            (day,),
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
