"""The payments part of ``make demo``: seed a day of Stripe, PayPal and Square against the
ledger, then (after ``payments_recon`` ran) check it against the truth and show the results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import polars as pl
import psycopg

from embedded.payments_seed import load_processor_apis, seed_ledger_postgres
from embedded.stack import LocalStack
from worlds.payments import EXCLUDED, PaymentsDay, generate_payments_day, read_truth
from worlds.payments.cases import FIRST_PAYMENT_ID

RECON = "payments_recon"
SUMMARY_SQL = (
    "select source, records, breaks, volume, discrepancy_amount, discrepancy_rate, risk_level, "
    "compliance_status, breaks_by_type from recon.v_source_daily_metrics "
    "where recon = %s and business_date = %s order by source"
)
HIGH_VALUE_SQL = (
    "select source, key->>'reference' as payment, break_type, currency, break_amount, "
    "impact_amount from recon.v_high_value_breaks where recon = 'payments_recon' "
    "order by impact_amount desc limit 5"
)


def seed(stack: LocalStack, out: Path, business_date: dt.date, per_processor: int) -> PaymentsDay:
    """Generate the day, put its ledger in Postgres and its records behind the processor APIs."""
    day = generate_payments_day(
        out / "payments-input", business_date=business_date, per_processor=per_processor
    )
    with closing(psycopg.connect(stack.postgres.dsn)) as conn:
        booked = seed_ledger_postgres(conn, day.ledger)
    served = load_processor_apis(stack.processors, day)
    print(
        f"  seeded: {booked:,} ledger payments in Postgres (ledger.payments), "
        + ", ".join(f"{n:,} {p}" for p, n in served.items())
        + " records behind the local processor APIs"
    )
    return day


def seed_days(
    stack: LocalStack, out: Path, business_dates: Sequence[dt.date], per_processor: int
) -> list[PaymentsDay]:
    """A generated day for each date (its own breaks, payment ids apart), one ledger table
    with all of them and every day's records behind the processor APIs."""
    days = [
        generate_payments_day(
            out / "payments-input" / day.isoformat(),
            business_date=day,
            per_processor=per_processor,
            seed=17 + index,
            first_id=FIRST_PAYMENT_ID + index * 100_000_000,
        )
        for index, day in enumerate(sorted(business_dates))
    ]
    ledger = out / "payments-input" / "ledger.parquet"
    pl.concat([pl.read_parquet(d.ledger) for d in days]).write_parquet(ledger)
    with closing(psycopg.connect(stack.postgres.dsn)) as conn:
        booked = seed_ledger_postgres(conn, ledger)
    for processor in days[0].records:
        stack.processors.load(processor, [r for d in days for r in d.records[processor]])
    print(
        f"  seeded payments_recon: {booked:,} ledger payments in Postgres (ledger.payments) and "
        f"{sum(len(r) for d in days for r in d.records.values()):,} processor records "
        f"({days[0].business_date} to {days[-1].business_date})"
    )
    return days


def check_truth(stack: LocalStack, day: PaymentsDay) -> int:
    """Every case's break type in ``recon.breaks`` against the truth table."""
    truth = read_truth(day.truth).filter(pl.col("status") != EXCLUDED)
    want = {
        (r["processor"], r["payment_id"]): r["status"]
        for r in truth.iter_rows(named=True)
        if r["status"] != "matched"
    }
    with stack.postgres.connect() as conn:
        rows = conn.execute(
            "select source, key->>'reference', break_type from recon.breaks "
            "where recon = %s and business_date = %s",
            (RECON, day.business_date),
        ).fetchall()
    found = {(source, ref): kind for source, ref, kind in rows}
    if found == want:
        timing = sum(kind == "timing" for kind in want.values())
        print(
            f"  break types: all {truth.height:,} payments of the day agree with the truth "
            f"table ({len(want) - timing:,} breaks and {timing} timing; "
            f"{read_truth(day.truth).height - truth.height} cases of other days left out)"
        )
        return 0
    wrong = sorted(set(found.items()) ^ set(want.items()))[:5]
    print(f"  break types: DISAGREE with the truth table, e.g. {wrong}")
    return 1


def show(stack: LocalStack, out: Path, day: PaymentsDay) -> None:
    with stack.postgres.connect() as conn:
        rows = conn.execute(SUMMARY_SQL, (RECON, day.business_date)).fetchall()
        high = conn.execute(HIGH_VALUE_SQL).fetchall()
    print("\n  per processor (recon.v_source_daily_metrics; money in USD):")
    print(
        f"    {'source':<8}{'payments':>9}{'breaks':>7}{'volume':>12}{'at stake':>10}"
        f"{'rate':>7}  risk    compliance"
    )
    for source, records, breaks, volume, at_stake, rate, risk, compliance, by_type in rows:
        print(
            f"    {source:<8}{records:>9,}{breaks:>7}{volume:>12,.2f}{at_stake:>10,.2f}"
            f"{rate:>7.2%}  {risk:<7} {compliance}"
        )
        kinds = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in by_type.items() if v)
        print(f"      {kinds}")
    print("\n  largest high-value breaks (recon.v_high_value_breaks):")
    for source, payment, kind, currency, amount, usd in high:
        print(
            f"    {source:<7} {payment:<13} {kind:<21} {amount:>12,.2f} {currency}  ({usd:,.2f} USD)"
        )
    reports = out / "reports" / RECON / day.business_date.isoformat()
    print(f"\n  reports: {reports}/{{stripe,paypal,square,ALL}}/report.html (+ csv, xlsx, json)")
    print(f"    open: {reports / 'ALL' / 'report.html'}")
    print(
        f"  archived to S3: s3://recon-reports/reports/{day.business_date}/{RECON}/ "
        "(presigned links in recon.runs.report_links)"
    )
    print(f"  truth table: {day.truth}")
