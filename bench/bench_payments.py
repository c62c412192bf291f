"""Stage timings of the payments_recon pipeline per processor, against peers in the same run.

One generated payments day (``worlds.payments``: N cases per processor, with the truth):
the processors' records served by the local processor API server (a thread of this process),
the ledger seeded into an embedded Postgres. Per processor, one stage at a time, each the
fastest of ``--repeat`` runs: API paging + normalising (the hook; outside the target), the
snapshot write, the ledger extract (one query shared by every processor), reconcile + classify
(against DuckDB doing the same scope, join and break types on the same snapshots), the reports,
and the Postgres load (against a bare COPY of the same break rows). Every run's break types are
checked against the truth (untimed); the table is printed and written to
``bench/results/payments-<N>.json``. Exit 1 when a check fails.

    .venv/bin/python bench/bench_payments.py [--per-processor 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import io
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))

from embedded.airflow_settings import airflow_settings

# Airflow reads its settings at import: a throwaway home under the git-ignored data folder.
os.environ.update(airflow_settings(Path(__file__).resolve().parent / "data" / "airflow-home"))
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"

import duckdb
import polars as pl
import psycopg
from airflow.providers.postgres.hooks.postgres import PostgresHook
from run import machine_busy_seconds
from stages import (
    COPY_TABLE,
    Checks,
    copy_floor,
    cpu_s,
    fmt,
    machine_info,
    others_pct,
    peak_mb,
    postmaster,
    process_cpu_s,
    reset_peak,
    rss_mb,
)

from embedded.base import connection_env
from embedded.payments_seed import load_processor_apis, seed_ledger_postgres
from embedded.postgres import EmbeddedPostgres
from embedded.processor_api import ProcessorApi
from recon.engine.reconcile import ReconResult
from recon.files import file_digest
from recon.payments import Day, reconcile_payments
from recon.pipeline_config.payments import PaymentsConfig, load_payments_config
from recon.reports import REPORT_FORMATS, write_reports
from recon.spec import ReconSpec, load_spec
from recon_airflow.hooks.processor import Transaction
from recon_airflow.operators.processor_to_staging import hook_class, write_transactions
from recon_airflow.operators.reconcile import reported_partition, snapshot_input
from recon_airflow.operators.sql_to_staging import SqlToStagingOperator, read_sql_file
from recon_airflow.outcome import Outcome, Snapshot
from recon_airflow.settings import partition_dir, staging_root
from recon_airflow.stores.partition import break_rows, read_outcome
from recon_airflow.stores.postgres import ensure_schema, load_outcome, queries
from worlds.payments import (
    EXCLUDED,
    PROCESSORS,
    PaymentsDay,
    generate_payments_day,
    read_truth,
)

T = TypeVar("T")
U = TypeVar("U")
BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DATA_DIR = BENCH / "data"
RESULTS_DIR = BENCH / "results"
BUSINESS_DATE = dt.date(2026, 11, 20)
SEED = 17  # generate_payments_day's default
RECON = "payments_recon"  # the DAG id: staging and report partitions are named after it
TARGET_S = 10.0  # the issue: well under 10 s for 1M transactions, API paging excluded
LEDGER_COLUMNS = {
    "payment_id": pl.String,
    "processor": pl.String,
    "processor_reference": pl.String,
    "amount": pl.Decimal(18, 2),
    "currency": pl.String,
    "fee": pl.Decimal(18, 2),
    "status": pl.String,
    "booked_at": pl.Datetime("us", "UTC"),
}


# ---------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Cost:
    """What one timed call cost."""

    seconds: float
    cpu_s: float  # user + system, all threads of this process
    server_cpu_s: float | None  # the server in use: Postgres, or the API server's threads
    grew_mb: float  # this process's peak RSS during the call above its RSS at the start
    others_pct: float | None  # share of the machine's CPU used by anything else meanwhile


SERVER_SETTLE_S = 0.2


def other_threads_cpu_s() -> float:
    """CPU of this process's threads other than this one: the processor API server's, while
    the hook pages (nothing else of ours runs then)."""
    return cpu_s() - time.thread_time()


def measure(call: Callable[[], T], server: Callable[[], float] | None = None) -> tuple[T, Cost]:
    """Run ``call`` once: wall time, CPU time, the server's CPU, memory growth, others' load."""
    gc.collect()
    start_mb = rss_mb()
    reset_peak()
    busy, cpu = machine_busy_seconds(), cpu_s()
    served = server() if server else None
    started = time.perf_counter()
    value = call()
    seconds = time.perf_counter() - started
    cpu = cpu_s() - cpu
    if server is not None and server is not other_threads_cpu_s:
        # a backend exits as its connection closes: once the server has reaped it, its CPU
        # is in the server's children_* times, not lost between two reads (untimed)
        time.sleep(SERVER_SETTLE_S)
    served = server() - served if server and served is not None else None
    # an in-process server's CPU is already in ``cpu``
    outside = (served or 0.0) if server is not other_threads_cpu_s else 0.0
    others = others_pct(busy, machine_busy_seconds(), cpu, outside, seconds)
    return value, Cost(seconds, cpu, served, max(0.0, peak_mb() - start_mb), others)


@dataclass
class Row:
    """One line of the table: a stage of a processor, and its peer where one exists."""

    processor: str
    stage: str
    rows: int
    unit: str
    seconds: float
    cpu_s: float
    server_cpu_s: float | None
    grew_mb: float
    others_pct: float | None
    peer: str = ""
    peer_seconds: float | None = None
    note: str = ""
    in_target: bool = True  # counts towards the total against the target

    @property
    def rate(self) -> float | None:
        return self.rows / self.seconds if self.rows and self.seconds > 0 else None

    @property
    def ratio(self) -> float | None:
        """Our time over the peer's: above 1 we are slower."""
        if self.peer_seconds is None or self.peer_seconds <= 0:
            return None
        return self.seconds / self.peer_seconds

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_s": self.rate, "time_over_peer": self.ratio}


class Report(Checks):
    """The rows measured so far (printed as they come) and the checks."""

    def __init__(self, repeat: int) -> None:
        super().__init__()
        self.repeat = max(1, repeat)
        self.rows: list[Row] = []

    def fastest(
        self,
        call: Callable[[], T],
        *,
        each: Callable[[T], None] | None = None,
        server: Callable[[], float] | None = None,
    ) -> tuple[T, Cost]:
        """``call`` ``repeat`` times; the last value and the fastest run's cost. ``each``
        checks every run's value, untimed."""
        costs = []
        value: T | None = None
        for _ in range(self.repeat):
            value = None  # let the last value go before the next run (a million records)
            value, cost = measure(call, server)
            costs.append(cost)
            if each is not None:
                each(value)
        assert value is not None
        return value, min(costs, key=lambda cost: cost.seconds)

    def fastest_pair(
        self,
        ours: Callable[[], T],
        theirs: Callable[[], U],
        *,
        each: Callable[[T, U], None] | None = None,
        server: Callable[[], float] | None = None,
    ) -> tuple[T, Cost, U, Cost]:
        """Ours and the peer's, ``repeat`` times each, interleaved; each one's fastest run
        (both replace their output). ``each`` checks every pair of values, untimed."""
        costs: tuple[list[Cost], list[Cost]] = ([], [])
        for _ in range(self.repeat):
            value, cost = measure(ours, server)
            costs[0].append(cost)
            peer_value, peer_cost = measure(theirs, server)
            costs[1].append(peer_cost)
            if each is not None:
                each(value, peer_value)
        fastest = [min(runs, key=lambda cost: cost.seconds) for runs in costs]
        return value, fastest[0], peer_value, fastest[1]

    def add(
        self,
        processor: str,
        stage: str,
        rows: int,
        unit: str,
        cost: Cost,
        *,
        peer: str = "",
        peer_cost: Cost | None = None,
        note: str = "",
        in_target: bool = True,
    ) -> Row:
        row = Row(
            processor, stage, rows, unit, cost.seconds, cost.cpu_s, cost.server_cpu_s,
            cost.grew_mb, cost.others_pct, peer,
            peer_cost.seconds if peer_cost else None, note, in_target,
        )  # fmt: skip
        self.rows.append(row)
        rate = f"{row.rate:>11,.0f} {unit}/s" if row.rate else ""
        line = f"  {processor:<7} {stage:<42} {cost.seconds:8.2f} s {rate}"
        if peer_cost is not None and row.ratio is not None:
            line += f" | {peer} {peer_cost.seconds:.2f} s: {row.ratio:.2f}x"
        print(line, flush=True)
        return row


# ---------------------------------------------------------------- the truth


def truth_of(day: PaymentsDay, processor: str) -> pl.DataFrame:
    """(payment_id, status) of every case of ``processor`` that D's reconciliation reports."""
    return (
        read_truth(day.truth)
        .filter((pl.col("processor") == processor) & (pl.col("status") != EXCLUDED))
        .select("payment_id", "status")
    )


def disagreements(got: pl.DataFrame, expected: pl.DataFrame) -> int:
    """Keys whose break type differs from ``expected``'s, or that are missing, extra or repeated.

    :param got: (reference, break_type); ``expected``: (payment_id, status).
    """
    repeated = got.height - got.get_column("reference").n_unique()
    joined = expected.join(
        got, left_on="payment_id", right_on="reference", how="full", coalesce=True
    )
    return joined.filter(~pl.col("status").eq_missing(pl.col("break_type"))).height + repeated


def break_types(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path, columns=["reference", "break_type"])


# ---------------------------------------------------------------- servers


def serve_with_nagle(api: ProcessorApi) -> None:
    """Nagle's algorithm back on in the API server's connections (it serves with TCP_NODELAY).

    The server writes a page's headers and its body in two sends; with Nagle's algorithm on,
    the body waits for the client's delayed ACK of the headers, ~40 ms a page on Linux
    loopback. The attribute is socketserver's own switch
    (StreamRequestHandler.disable_nagle_algorithm).
    """
    server = getattr(api, "_server", None)
    if server is not None:
        server.RequestHandlerClass.disable_nagle_algorithm = False


# ---------------------------------------------------------------- stage 3: the ledger extract


def copy_extract(pg: EmbeddedPostgres, sql_file: str, params: dict[str, str], path: Path) -> int:
    """The peer: the same query through ``COPY (...) TO STDOUT`` as CSV, polars to Parquet."""
    query = read_sql_file(sql_file).strip().rstrip(";")
    buffer = io.BytesIO()
    with pg.connect() as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        statement = psycopg.ClientCursor(conn).mogrify(query, params)
        with conn.cursor() as cur, cur.copy(f"COPY ({statement}) TO STDOUT (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
    schema = {name: pl.String for name in LEDGER_COLUMNS} | {
        "amount": pl.Decimal(18, 2),
        "fee": pl.Decimal(18, 2),
    }
    frame = pl.read_csv(buffer.getvalue(), has_header=False, schema=schema).with_columns(
        pl.col("booked_at").str.to_datetime("%Y-%m-%d %H:%M:%S%#z", time_unit="us")
    )
    frame.write_parquet(path, compression="zstd")
    return frame.height


def canonical_ledger(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path).select(
        pl.col(name).cast(dtype) for name, dtype in LEDGER_COLUMNS.items()
    )


def ledger_stage(
    report: Report,
    pg: EmbeddedPostgres,
    day: PaymentsDay,
    config: PaymentsConfig,
    server: Callable[[], float] | None,
    work: Path,
) -> Snapshot:
    """SqlToStagingOperator as the DAG runs it: every processor's bookings around D, once."""
    window = config.ledger_window(BUSINESS_DATE)
    path = partition_dir(staging_root(), RECON, BUSINESS_DATE, "ledger") / "ledger.parquet"
    operator = SqlToStagingOperator(
        task_id="extract_ledger",
        source="ledger",
        sql=config.ledger.sql,
        snapshot_path=str(path),
        parameters=window,
        postgres_conn_id="recon_postgres",
    )
    start, end = (dt.datetime.fromisoformat(window[k]) for k in ("start", "end"))
    expected = (
        pl.scan_parquet(day.ledger)
        .filter(pl.col("booked_at").is_between(start, end, closed="left"))
        .select(pl.len())
        .collect()
        .item()
    )
    peer_path = work / "ledger-copy.parquet"

    def each(snapshot: Snapshot, copied: int) -> None:
        same = canonical_ledger(Path(snapshot["path"])).equals(canonical_ledger(peer_path))
        report.check(
            f"ledger snapshot holds the {expected:,} bookings of {start:%Y-%m-%d}..{end:%Y-%m-%d}"
            f" ({snapshot['rows']:,}); COPY's {copied:,} rows are the same",
            snapshot["rows"] == expected == copied and same,
        )

    snapshot, cost, _, peer = report.fastest_pair(
        lambda: operator.execute({}),
        lambda: copy_extract(pg, config.ledger.sql, window, peer_path),
        each=each,
        server=server,
    )
    report.add("all", "3 ledger extract (SqlToStagingOperator)", snapshot["rows"], "rows", cost,
               peer="COPY csv to Parquet", peer_cost=peer,
               note="one query for every processor: counted whole in each total")  # fmt: skip
    peer_path.unlink()
    return snapshot


# ---------------------------------------------------------------- stage 1 and 2: the extract


def paged(processor: str, start: dt.datetime, end: dt.datetime) -> list[Transaction]:
    """The hook's transactions of ``[start, end)``, paged and normalised, in a list."""
    hook = hook_class(processor)(f"recon_{processor}")
    try:
        return list(hook.transactions(start, end))
    finally:
        hook.close()


def extract_stages(
    report: Report, processor: str, day: PaymentsDay, window_hours: float
) -> Snapshot:
    """ProcessorToStagingOperator's work in two parts: paging the API, writing the snapshot."""
    start, end = day.start, day.settlement_end

    def check_paged(transactions: list[Transaction]) -> None:
        ids = {t["transaction_id"] for t in transactions}
        inside = all(start <= t["created_at"] < end for t in transactions)
        report.check(
            f"{processor}: {len(transactions):,} transactions paged, ids unique, all created in "
            f"[D, D+1+{window_hours:g}h)",
            len(ids) == len(transactions) > 0 and inside,
        )

    transactions, cost = report.fastest(
        lambda: paged(processor, start, end), each=check_paged, server=other_threads_cpu_s
    )
    report.add(processor, "1 API paging + normalising (hook)", len(transactions), "txns", cost,
               note="outside the target; server cpu s: the API server's threads",
               in_target=False)  # fmt: skip

    path = partition_dir(staging_root(), RECON, BUSINESS_DATE, processor) / "processor.parquet"
    window = f"{start:%Y-%m-%dT%H:%M}Z..{end:%Y-%m-%dT%H:%M}Z"

    def write() -> Snapshot:  # as the operator does once the last page is in
        rows = write_transactions(transactions, path)
        return Snapshot(
            source=processor,
            path=str(path),
            rows=rows,
            sha256=file_digest(path),
            file=f"{processor} API {window}",
        )

    def check_written(snapshot: Snapshot) -> None:
        on_file = pl.scan_parquet(path).select(pl.len()).collect().item()
        report.check(
            f"{processor}: snapshot holds {on_file:,} of {len(transactions):,} transactions",
            snapshot["rows"] == on_file == len(transactions),
        )

    snapshot, cost = report.fastest(write, each=check_written)
    size = path.stat().st_size / 2**20
    report.add(processor, "2 snapshot write (write_transactions+sha256)", snapshot["rows"],
               "txns", cost, note=f"{size:.1f} MiB zstd Parquet")  # fmt: skip
    return snapshot


# ---------------------------------------------------------------- stage 4: reconcile


def _literal(moment: dt.datetime) -> str:
    return f"TIMESTAMPTZ '{moment.isoformat()}'"


def duckdb_reconcile(
    processor_path: Path,
    ledger_path: Path,
    spec: ReconSpec,
    processor: str,
    day: Day,
    out: Path,
) -> int:
    """The peer: recon.payments' scope, the per-key join and the break types, in one query.

    Scope: D's bookings of the processor; the processor's records minus those of payments booked
    on another day and those created after midnight that are not D's bookings (references
    compared stripped; a record without one stays in scope unless created after midnight). Keys
    are the stripped references; a key on two rows of a side is a duplicate; money compares
    exactly (abs_tol 0); the ledger's ``paid`` is the hooks' ``succeeded``. One row per key with
    both sides' values and the differences, into Parquet.
    """
    ref_left, ref_right = spec.column("reference", "left"), spec.column("reference", "right")
    amount = spec.column("amount", "left")
    start, end = _literal(day.start), _literal(day.end)
    on_day = f"booked_at >= {start} AND booked_at < {end}"

    def status(column: str) -> str:
        return f"CASE WHEN {column} = 'paid' THEN 'succeeded' ELSE {column} END"

    query = f"""
        COPY (
        WITH ledger AS (
            SELECT * FROM read_parquet('{ledger_path}') WHERE processor = '{processor}'
        ),
        day_refs AS (
            SELECT DISTINCT trim({ref_right}) AS ref FROM ledger
            WHERE {on_day} AND {ref_right} IS NOT NULL
        ),
        other_refs AS (
            SELECT DISTINCT trim({ref_right}) AS ref FROM ledger
            WHERE NOT ({on_day}) AND {ref_right} IS NOT NULL
        ),
        l_rows AS (
            SELECT p.* FROM read_parquet('{processor_path}') AS p
            LEFT JOIN day_refs AS d ON trim(p.{ref_left}) = d.ref
            LEFT JOIN other_refs AS o ON trim(p.{ref_left}) = o.ref
            WHERE d.ref IS NOT NULL OR (o.ref IS NULL AND p.created_at < {end})
        ),
        l AS (
            SELECT trim({ref_left}) AS reference, count(*) AS n,
                   any_value({amount}) AS amount, any_value(upper(trim(currency))) AS currency,
                   any_value(fee) AS fee, any_value({status("status")}) AS status,
                   min(created_at) AS created_at
            FROM l_rows GROUP BY 1
        ),
        r AS (
            SELECT trim({ref_right}) AS reference, count(*) AS n,
                   any_value(amount) AS amount, any_value(upper(trim(currency))) AS currency,
                   any_value(fee) AS fee, any_value({status("status")}) AS status,
                   min(booked_at) AS booked_at
            FROM ledger WHERE {on_day} GROUP BY 1
        )
        SELECT coalesce(l.reference, r.reference) AS reference,
               CASE
                 WHEN coalesce(l.n, 0) > 1 OR coalesce(r.n, 0) > 1 THEN 'duplicate'
                 WHEN r.reference IS NULL THEN 'missing_in_ledger'
                 WHEN l.reference IS NULL THEN 'missing_at_processor'
                 WHEN l.status = 'failed' AND r.status IS DISTINCT FROM 'failed'
                   THEN 'failed_payment'
                 WHEN l.currency IS DISTINCT FROM r.currency THEN 'currency'
                 WHEN l.amount IS DISTINCT FROM r.amount THEN 'amount'
                 WHEN l.fee IS DISTINCT FROM r.fee THEN 'fee_mismatch'
                 WHEN l.status IS DISTINCT FROM r.status THEN 'status'
                 WHEN l.created_at >= {end} THEN 'timing'
                 ELSE 'matched'
               END AS break_type,
               l.amount AS left_amount, r.amount AS right_amount,
               l.amount - r.amount AS diff_amount,
               l.fee AS left_fee, r.fee AS right_fee, l.fee - r.fee AS diff_fee,
               l.currency AS left_currency, r.currency AS right_currency,
               l.status AS left_status, r.status AS right_status,
               l.created_at, r.booked_at
        FROM l FULL OUTER JOIN r ON l.reference = r.reference
        ) TO '{out}' (FORMAT parquet)
    """
    with duckdb.connect() as con:
        con.execute("SET preserve_insertion_order = false")
        con.execute(query)
    return int(pl.scan_parquet(out).select(pl.len()).collect().item())


def reconcile_stage(
    report: Report,
    processor: str,
    day: PaymentsDay,
    spec: ReconSpec,
    snapshot: Snapshot,
    ledger: Snapshot,
    work: Path,
) -> tuple[ReconResult, dict[str, dict[str, Any]]]:
    """reconcile_payments as PaymentsReconcileOperator calls it, against the DuckDB query."""
    window = Day(BUSINESS_DATE, day.settlement_window)
    inputs = {"left": snapshot_input(snapshot), "right": snapshot_input(ledger)}
    out = partition_dir(staging_root(), RECON, BUSINESS_DATE, processor)
    peer_out = work / f"duckdb-{processor}.parquet"
    truth = truth_of(day, processor)

    def each(result: ReconResult, _: int) -> None:
        assert result.path is not None
        ours, theirs = break_types(result.path), break_types(peer_out)
        report.check(f"{processor}: recon's break types equal the truth's on all "
                     f"{truth.height:,} keys", disagreements(ours, truth) == 0)  # fmt: skip
        report.check(f"{processor}: DuckDB's break types equal the truth's",
                     disagreements(theirs, truth) == 0)  # fmt: skip
        same = disagreements(theirs, ours.rename({"reference": "payment_id",
                                                  "break_type": "status"}))  # fmt: skip
        report.check(f"{processor}: DuckDB's break type equals recon's for every key", same == 0)

    result, cost, _, peer = report.fastest_pair(
        lambda: reconcile_payments(
            pl.scan_parquet(snapshot["path"]),
            pl.scan_parquet(ledger["path"]),
            spec,
            processor_name=processor,
            day=window,
            out_dir=out,
            inputs=inputs,
        ),
        lambda: duckdb_reconcile(
            Path(snapshot["path"]), Path(ledger["path"]), spec, processor, window, peer_out
        ),
        each=each,
    )
    classification = result.summary["classification"]
    report.add(processor, "4 reconcile + classify (reconcile_payments)",
               result.summary["total_keys"], "keys", cost, peer="duckdb", peer_cost=peer,
               note=f"{classification['breaks']:,} breaks incl. timing")  # fmt: skip
    peer_out.unlink()
    return result, inputs


# ---------------------------------------------------------------- stage 5: reports


def reports_stage(
    report: Report,
    processor: str,
    spec: ReconSpec,
    result: ReconResult,
    inputs: dict[str, dict[str, Any]],
    work: Path,
) -> Outcome:
    """reported_partition (every format, as the operator writes them), then each format alone."""
    breaks = result.summary["classification"]["breaks"]
    started = dt.datetime.now(dt.UTC)

    def each(outcome: Outcome) -> None:
        written = {fmt: Path(path) for fmt, path in outcome["reports"].items()}
        report.check(f"{processor}: reports written ({', '.join(sorted(written))})",
                     set(written) == set(REPORT_FORMATS)
                     and all(p.stat().st_size > 0 for p in written.values()))  # fmt: skip

    outcome, cost = report.fastest(
        lambda: reported_partition(
            spec,
            result,
            recon=RECON,
            source=processor,
            business_date=BUSINESS_DATE.isoformat(),
            inputs=inputs,
            report_formats=None,
            started_at=started,
        ),
        each=each,
    )
    report.add(processor, "5 reports (all 4: reported_partition)", breaks, "breaks", cost)
    # where the time goes: each format alone, once (not part of the total)
    for kind in REPORT_FORMATS:
        alone = work / "reports-alone" / processor / kind
        shutil.rmtree(alone, ignore_errors=True)
        written, cost = measure(
            lambda alone=alone, kind=kind: write_reports(
                result.scan(), result.summary, alone, [kind]
            )
        )
        size = written[kind].stat().st_size / 2**20
        report.add(processor, f"    {kind} alone", breaks, "breaks", cost,
                   note=f"{size:.1f} MiB", in_target=False)  # fmt: skip
    shutil.rmtree(work / "reports-alone", ignore_errors=True)
    return outcome


# ---------------------------------------------------------------- stage 6: Postgres load


def load_stage(
    report: Report,
    processor: str,
    pg: EmbeddedPostgres,
    hook: PostgresHook,
    outcome: Outcome,
    server: Callable[[], float] | None,
    work: Path,
) -> None:
    """load_outcome into recon.runs/breaks (first an insert, then replaces) against COPY."""
    part = read_outcome(outcome)
    csv = work / f"breaks-{processor}.csv"
    break_rows(pl.scan_parquet(part.results), part).sink_csv(csv, include_header=False)
    breaks = outcome["summary"]["classification"]["breaks"]

    def each(stats: Any, copied: int) -> None:
        report.check(
            f"{processor}: {stats['breaks']:,} breaks loaded of {breaks:,} "
            f"(replaced={stats['replaced']}), COPY took {copied:,}",
            stats["breaks"] == breaks == copied,
        )

    stats, cost, _, peer = report.fastest_pair(
        lambda: load_outcome(hook, outcome, dag_id=RECON, airflow_run_id="bench"),
        lambda: copy_floor(pg, csv),
        each=each,
        server=server,
    )
    report.add(processor, "6 Postgres load (load_outcome)", stats["breaks"], "breaks", cost,
               peer="COPY csv", peer_cost=peer,
               note="run 1 inserts, later runs replace the partition")  # fmt: skip
    csv.unlink()


# ---------------------------------------------------------------- reporting


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| processor | stage | rows | seconds | rows/s | cpu s | server cpu s | +MB | others % "
        "| peer | peer s | recon / peer | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for r in rows:
        cells = [
            r.processor,
            r.stage.replace("  ", "\u2003"),  # indented sub-stages keep their indent
            f"{r.rows:,} {r.unit}" if r.rows else "-",
            f"{r.seconds:.2f}",
            fmt(r.rate, ",.0f"),
            f"{r.cpu_s:.2f}",
            fmt(r.server_cpu_s, ".2f"),
            f"{r.grew_mb:,.0f}",
            fmt(r.others_pct, ".0f"),
            r.peer or "-",
            fmt(r.peer_seconds, ".2f"),
            fmt(r.ratio, ".2f") + ("x" if r.ratio is not None else ""),
            r.note,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def totals(rows: list[Row], processors: list[str]) -> list[str]:
    """Per processor: every stage but API paging, with the shared ledger extract counted whole
    (the verdict) and with its share (the extract divided by the processors reconciled)."""
    shared = sum(r.seconds for r in rows if r.processor == "all" and r.in_target)
    lines = []
    for processor in processors:
        own = [r for r in rows if r.processor == processor and r.in_target]
        total = sum(r.seconds for r in own) + shared
        share = sum(r.seconds for r in own) + shared / len(processors)
        paging = [r for r in rows if r.processor == processor and r.stage.startswith("1 ")]
        txns = paging[0].rows if paging else 0
        spelled = " + ".join(f"{r.stage.split(' (')[0][2:]} {r.seconds:.2f}" for r in own)
        verdict = "met" if total < TARGET_S else "NOT met"
        lines.append(
            f"- {processor}: {total:.2f} s for {txns:,} transactions excluding API paging "
            f"({spelled} + ledger extract {shared:.2f}); target < {TARGET_S:.0f} s: {verdict}. "
            f"With a 1/{len(processors)} share of the ledger extract: {share:.2f} s; with API "
            f"paging ({sum(r.seconds for r in paging):.2f} s) too: "
            f"{total + sum(r.seconds for r in paging):.2f} s"
        )
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-processor", type=int, default=1_000_000,
                        help="planted cases per processor (default 1,000,000)")  # fmt: skip
    parser.add_argument("--processors", nargs="+", choices=PROCESSORS, default=list(PROCESSORS),
                        help="which processors to page and reconcile (all three are generated "
                        "and booked in the ledger)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of every stage (and its peer, interleaved); the fastest "
                        "counts (default 3)")  # fmt: skip
    parser.add_argument("--settlement-hours", type=float, default=1.0,
                        help="settlement window W in hours (2 minutes to 6 hours; default 1)")  # fmt: skip
    parser.add_argument("--nagle", action="store_true",
                        help="turn Nagle's algorithm back on in the processor API server "
                        "(about 40 ms more per page)")  # fmt: skip
    return parser.parse_args(argv)


@contextlib.contextmanager
def staged_under(work: Path) -> Iterator[None]:
    """Staging and reports of this run under ``work`` (the settings read these at run time)."""
    saved = {name: os.environ.get(name) for name in ("RECON_STAGING_DIR", "RECON_REPORTS_DIR")}
    os.environ["RECON_STAGING_DIR"] = str(work / "staging")
    os.environ["RECON_REPORTS_DIR"] = str(work / "reports")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    processors = [name for name in PROCESSORS if name in args.processors]
    command = f".venv/bin/python bench/bench_payments.py {' '.join(sys.argv[1:])}".strip()
    report = Report(args.repeat)
    info = machine_info(("polars", "duckdb", "pyarrow", "psycopg", "httpx", "apache-airflow"))
    print(f"recon at {info['recon_at']}; {info['cores']} cores ({info['cpu']}), "
          f"{info['memory_gib']} GiB", flush=True)  # fmt: skip
    if info["uncommitted"]:
        print(f"uncommitted in include/, plugins/, config/: {', '.join(info['uncommitted'])}")

    folder = DATA_DIR / f"payments-{args.per_processor}"
    shutil.rmtree(folder, ignore_errors=True)
    work = folder / "work"
    work.mkdir(parents=True)
    window = dt.timedelta(hours=args.settlement_hours)
    print(f"\nData: {args.per_processor:,} cases per processor, settlement window "
          f"{args.settlement_hours:g} h, fastest of {report.repeat}", flush=True)  # fmt: skip
    started = time.perf_counter()
    day = generate_payments_day(
        folder,
        business_date=BUSINESS_DATE,
        per_processor=args.per_processor,
        seed=SEED,
        settlement_window=window,
    )
    report.note(f"generated {sum(map(len, day.records.values())):,} processor records and "
                f"the ledger in {time.perf_counter() - started:.1f} s (not a stage)")  # fmt: skip
    config = load_payments_config()
    spec = load_spec(config.spec_path())

    with staged_under(work), EmbeddedPostgres() as pg, ProcessorApi() as api:
        os.environ.update(connection_env(pg, api))  # AIRFLOW_CONN_RECON_POSTGRES, _STRIPE, ...
        if args.nagle:
            serve_with_nagle(api)
        started = time.perf_counter()
        with pg.connect() as conn:
            seeded = seed_ledger_postgres(conn, day.ledger)
            conn.execute("ANALYZE ledger.payments")
            conn.commit()
        load_processor_apis(api, day)
        for name in set(PROCESSORS) - set(processors):
            api.load(name, [])  # serve only the chosen processors
        report.note(f"seeded {seeded:,} ledger rows into Postgres and loaded the API in "
                    f"{time.perf_counter() - started:.1f} s (not a stage)")  # fmt: skip
        # The generated records (millions of dicts) are the server's, not the pipeline's: out
        # of the cyclic GC's sight, as they would be in another process.
        gc.collect()
        gc.freeze()
        server = postmaster(pg)
        pg_cpu = (lambda: process_cpu_s(server)) if server is not None else None
        hook = PostgresHook(postgres_conn_id="recon_postgres")
        ensure_schema(hook)
        ddl = queries()["create_breaks_in"]
        ddl = ddl.replace("TEMPORARY TABLE recon_breaks_in", f"TABLE {COPY_TABLE}")
        with pg.connect() as conn:
            conn.execute(ddl.replace("ON COMMIT DROP", ""))

        print("\nStages (seconds: the fastest run)", flush=True)
        ledger = ledger_stage(report, pg, day, config, pg_cpu, work)
        for processor in processors:
            snapshot = extract_stages(report, processor, day, args.settlement_hours)
            result, inputs = reconcile_stage(report, processor, day, spec, snapshot, ledger, work)
            outcome = reports_stage(report, processor, spec, result, inputs, work)
            load_stage(report, processor, pg, hook, outcome, pg_cpu, work)
        gc.unfreeze()

    lines = table(report.rows)
    summary = totals(report.rows, processors)
    print()
    print("\n".join(lines))
    print()
    print("\n".join(summary))
    failed = [c for c in report.checks if not c.startswith("ok")]
    print(f"\nchecks: {len(report.checks) - len(failed)} of {len(report.checks)} passed")
    for line in failed:
        print(f"  {line}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"payments-{args.per_processor}.json"
    body = {
        "command": command,
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "per_processor": args.per_processor,
        "processors": processors,
        "repeat": report.repeat,
        "settlement_hours": args.settlement_hours,
        "nagle": args.nagle,
        "machine": info,
        "measured": (
            "one process, one stage at a time, fastest of `repeat` runs (peers interleaved); "
            "seconds = perf_counter around the call; cpu s = this process's user+system (all "
            "threads: polars', DuckDB's, the API server's); server cpu s = the Postgres server's "
            "(workers included) or, for API paging, the API server threads'; +MB = peak RSS "
            "rise over the RSS at the start; others % = the machine's CPU used by anything "
            "else meanwhile (calls of 0.5 s or more)"
        ),
        "rows": [row.as_json() for row in report.rows],
        "totals": summary,
        "checks": report.checks,
        "notes": report.notes,
        "table": lines,
    }
    path.write_text(json.dumps(body, indent=2) + "\n")
    print(f"written to {path.relative_to(REPO)}")
    if not failed:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
