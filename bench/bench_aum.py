"""Stage timings of the aum_recon pipeline: its real code paths against the embedded servers.

One process, one stage at a time, on one generated AUM day (``worlds.aum``, N holdings
per registrar): SFTP fetch and DBF-to-Parquet (the operator whole, then its pieces; read_dbf
against dbfread), reconcile and reports (against DuckDB's full outer join), the Postgres load
(first load and replace, against a plain COPY of the same break rows) and, at a size the
embedded SecantusDB can hold, the MongoDB ledger aggregation (against the polars reference),
ledger seeding and the Mongo results store. Every stage's output is checked against the truth
(untimed); the table is printed and written to ``bench/results/aum-<N>.json``.

    .venv/bin/python bench/bench_aum.py [--positions 1000000] [--mongo-docs 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import hashlib
import json
import os
import shutil
import sys
import threading
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
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"  # no SSH handshake chatter

import dbfread
import duckdb
import polars as pl
import psutil
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.providers.sftp.hooks.sftp import SFTPHook
from bench_dbf import DecimalFieldParser
from run import machine_busy_seconds
from stages import (
    COPY_TABLE,
    MIN_OTHERS_S,
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
from embedded.mongo import EmbeddedMongo
from embedded.postgres import EmbeddedPostgres
from embedded.seed import seed_ledger
from embedded.sftp import EmbeddedSftp
from recon.engine.reconcile import ReconResult, reconcile_to_dir
from recon.files import file_digest, replaced_atomically
from recon.pipeline_config.aum import AumConfig, load_aum_config
from recon.readers.dbf import dbf_schema, read_dbf
from recon.reports import REPORT_FORMATS, write_reports
from recon.spec import ReconSpec, load_spec
from recon_airflow.ledger_positions import POSITIONS_SCHEMA, positions_pipeline, problems_pipeline
from recon_airflow.operators.mongo_ledger_positions import MongoLedgerPositionsOperator
from recon_airflow.operators.reconcile import filtered, outcome_of, snapshot_input
from recon_airflow.operators.report_dates import live_record_numbers, report_date_problems
from recon_airflow.operators.sftp_dbf_to_staging import SftpDbfToStagingOperator
from recon_airflow.operators.staging import missing_columns
from recon_airflow.outcome import Outcome, Snapshot
from recon_airflow.settings import partition_dir
from recon_airflow.stores.mongo_results import replace_results
from recon_airflow.stores.postgres import (
    break_rows,
    ensure_schema,
    load_outcome,
    queries,
    read_outcome,
)
from worlds.aum import KEYS, REGISTRAR_AMCS, AumSample, generate_aum, ledger_positions

T = TypeVar("T")
U = TypeVar("U")
BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DATA_DIR = BENCH / "data"
RESULTS_DIR = BENCH / "results"
BUSINESS_DATE = dt.date(2026, 11, 20)
SEED = 11  # generate_aum's default
RECON = "aum_recon"
LEDGER_DB, LEDGER_COLLECTION = "recon", "transactions"
ABS_TOL = "0.001"  # the specs' units tolerance, for the DuckDB peer
# results.parquet says left_only/right_only; the truth says it in the pipeline's labels
TRUTH_WORDS = {"left_only": "dbf_only", "right_only": "mongo_only"}
SFTP_THREAD = "recon-embedded-sftp"  # EmbeddedSftp's server thread, in this process


# ---------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Cost:
    """What one timed call cost this process."""

    seconds: float
    cpu_s: float  # user + system, all threads of this process
    peak_mb: float  # this process's peak RSS during the call
    grew_mb: float  # of which above its RSS when the call started
    server_cpu_s: float | None  # CPU of the server process in use (Postgres, SecantusDB)
    others_pct: float | None  # share of the machine's CPU used by anything else meanwhile


# The server process the current stage talks to (set while Postgres or SecantusDB runs).
SERVER: list[psutil.Process] = []


def server_cpu_s() -> float | None:
    """CPU seconds of the server in use and its workers (``stages.process_cpu_s``)."""
    if not SERVER:
        return None
    total = 0.0
    for process in SERVER:
        with contextlib.suppress(psutil.Error):
            total += process_cpu_s(process)
    return total


def measure(call: Callable[[], T]) -> tuple[T, Cost]:
    """Run ``call`` once; its wall time, CPU time, peak RSS and the machine's other load.

    The peak is per call when the kernel lets us reset it (clear_refs), else the process's peak
    so far. A server in another process (Postgres, SecantusDB) is not in cpu_s or peak_mb but
    in server_cpu_s; the embedded SFTP server is a thread of this process, so in cpu_s.
    """
    gc.collect()
    start_mb = rss_mb()
    reset_peak()
    busy, cpu, server = machine_busy_seconds(), cpu_s(), server_cpu_s()
    started = time.perf_counter()
    value = call()
    seconds = time.perf_counter() - started
    cpu = cpu_s() - cpu
    server_after, busy_after = server_cpu_s(), machine_busy_seconds()
    served = server_after - server if server is not None and server_after is not None else None
    peak = peak_mb()
    others = others_pct(busy, busy_after, cpu, served or 0.0, seconds)
    return value, Cost(seconds, cpu, peak, max(0.0, peak - start_mb), served, others)


@dataclass
class Row:
    """One line of the table: a stage, and its peer where one exists."""

    stage: str
    rows: int
    unit: str
    seconds: float
    cpu_s: float
    peak_mb: float
    grew_mb: float
    server_cpu_s: float | None
    others_pct: float | None
    peer: str = ""
    peer_seconds: float | None = None
    peer_peak_mb: float | None = None
    note: str = ""

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
    """The rows measured so far, printed as they come."""

    def __init__(self, repeat: int = 1) -> None:
        super().__init__()
        self.repeat = max(1, repeat)
        self.rows: list[Row] = []

    def best_of(self, ours: Callable[[], T], theirs: Callable[[], U]) -> tuple[T, Cost, U, Cost]:
        """Ours and the peer's, ``repeat`` times each, interleaved; each one's fastest run
        (both are idempotent: they replace their output)."""
        costs: tuple[list[Cost], list[Cost]] = ([], [])
        for _ in range(self.repeat):
            value, cost = measure(ours)
            costs[0].append(cost)
            peer_value, peer_cost = measure(theirs)
            costs[1].append(peer_cost)
        fastest = [min(runs, key=lambda cost: cost.seconds) for runs in costs]
        return value, fastest[0], peer_value, fastest[1]

    def add(
        self,
        stage: str,
        rows: int,
        unit: str,
        cost: Cost,
        *,
        peer: str = "",
        peer_cost: Cost | None = None,
        note: str = "",
    ) -> Row:
        row = Row(
            stage, rows, unit, cost.seconds, cost.cpu_s, cost.peak_mb, cost.grew_mb,
            cost.server_cpu_s, cost.others_pct, peer,
            peer_cost.seconds if peer_cost else None,
            peer_cost.peak_mb if peer_cost else None,
            note,
        )  # fmt: skip
        self.rows.append(row)
        rate = f"{row.rate:>12,.0f} {unit}/s" if row.rate else ""
        line = f"  {stage:<50} {cost.seconds:8.2f} s {cost.peak_mb:7,.0f} MB {rate}"
        if peer_cost is not None and row.ratio is not None:
            line += f" | {peer} {peer_cost.seconds:.2f} s: {row.ratio:.2f}x"
        print(line, flush=True)
        return row


def merged(costs: list[Cost]) -> Cost:
    """Several consecutive calls as one: times add up, the peak is the largest."""
    others = [c.others_pct * c.seconds for c in costs if c.others_pct is not None]
    served = [c.server_cpu_s for c in costs if c.server_cpu_s is not None]
    seconds = sum(c.seconds for c in costs)
    return Cost(
        seconds=seconds,
        cpu_s=sum(c.cpu_s for c in costs),
        peak_mb=max(c.peak_mb for c in costs),
        grew_mb=max(c.grew_mb for c in costs),
        server_cpu_s=sum(served) if served else None,
        others_pct=sum(others) / seconds if others and seconds >= MIN_OTHERS_S else None,
    )


# ---------------------------------------------------------------- data


def sample_at(positions: int, *, report: Report | None = None) -> AumSample:
    """The AUM day with ``positions`` holdings per registrar, generated once and reused."""
    folder = DATA_DIR / f"aum-{positions}"
    source = (REPO / "include" / "worlds" / "aum.py").read_bytes()
    params = {
        "positions": positions,
        "business_date": BUSINESS_DATE.isoformat(),
        "seed": SEED,
        "generator_sha256": hashlib.sha256(source).hexdigest(),
    }
    manifest = folder / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("params") == params:
        saved = json.loads(manifest.read_text())
        sample = AumSample(
            BUSINESS_DATE,
            {name: Path(path) for name, path in saved["holdings"].items()},
            Path(saved["ledger"]),
            Path(saved["truth"]),
            saved["counts"],
        )
        if report:
            report.note(
                f"reused {folder.relative_to(REPO)} (generated in {saved['seconds']:.1f} s)"
            )
        return sample
    if folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    sample = generate_aum(folder, positions=positions, business_date=BUSINESS_DATE, seed=SEED)
    seconds = time.perf_counter() - started
    manifest.write_text(
        json.dumps(
            {
                "params": params,
                "seconds": seconds,
                "holdings": {name: str(path) for name, path in sample.holdings.items()},
                "ledger": str(sample.ledger),
                "truth": str(sample.truth),
                "counts": dict(sample.counts),
            },
            indent=2,
        )
    )
    if report:
        report.note(f"generated {folder.relative_to(REPO)} in {seconds:.1f} s (not a stage)")
    return sample


def truth_of(sample: AumSample, registrar: str) -> pl.DataFrame:
    """(keys, status) of one registrar's positions, as a correct reconciliation says them."""
    return (
        pl.scan_csv(sample.truth, schema_overrides=dict.fromkeys(KEYS, pl.String))
        .filter(pl.col("registrar") == registrar)
        .select(*KEYS, "status")
        .collect()
    )


def disagreements(produced: Path, truth: pl.DataFrame) -> int:
    """Keys whose status differs from the truth, are missing, extra or repeated."""
    got = (
        pl.scan_parquet(produced)
        .select(*KEYS, pl.col("status").cast(pl.String).replace(TRUTH_WORDS).alias("got"))
        .collect()
    )
    repeated = got.height - got.select(KEYS).n_unique()
    joined = truth.join(got, on=list(KEYS), how="full", coalesce=True)
    return joined.filter(~pl.col("status").eq_missing(pl.col("got"))).height + repeated


# ---------------------------------------------------------------- stage 2: SFTP and DBF


def fetch_operator(config: AumConfig, registrar: str, snapshot: Path) -> SftpDbfToStagingOperator:
    """The fetch task as plan_run configures it for ``registrar``."""
    reg = config.registrar(registrar)
    spec = load_spec(config.spec_path(registrar))
    return SftpDbfToStagingOperator(
        task_id=f"fetch_{registrar.lower()}",
        source=registrar,
        remote_path=reg.remote_file(BUSINESS_DATE),
        business_date=BUSINESS_DATE.isoformat(),
        report_date_field=reg.report_date.field,
        report_date_format=reg.report_date.format,
        snapshot_path=str(snapshot),
        required_columns=spec.columns("left"),
    )


def thread_cpu_s(name: str) -> float:
    """CPU seconds the named threads of this process have used so far."""
    ids = {thread.native_id for thread in threading.enumerate() if thread.name == name}
    return sum(t.user_time + t.system_time for t in psutil.Process().threads() if t.id in ids)


def download(remote: str, local: Path) -> int:
    hook = SFTPHook(ssh_conn_id="recon_sftp")
    try:
        hook.retrieve_file(remote, str(local))
    finally:
        hook.close_conn()
    return local.stat().st_size


def dbfread_records(path: Path) -> int:
    """The peer: dbfread with exact Decimals, every record as a list (as bench_dbf does)."""
    table = dbfread.DBF(str(path), parserclass=DecimalFieldParser, char_decode_errors="strict")
    records = [list(record.values()) for record in table]
    return len(records)


def sftp_stages(
    report: Report, sample: AumSample, config: AumConfig, work: Path
) -> dict[str, Snapshot]:
    """Fetch each registrar's file: the operator whole, then download and DBF-to-Parquet apart."""
    print("\nSFTP fetch and DBF to Parquet (EmbeddedSftp, SftpDbfToStagingOperator)", flush=True)
    snapshots: dict[str, Snapshot] = {}
    with EmbeddedSftp() as sftp:
        os.environ.update(connection_env(sftp))
        for registrar in REGISTRAR_AMCS:
            remote = config.registrar(registrar).remote_file(BUSINESS_DATE)
            sftp.put(remote, sample.holdings[registrar].read_bytes())
            snapshots[registrar] = fetch_registrar(report, sample, config, registrar, work)
            sftp.reset()
    return snapshots


def fetch_registrar(
    report: Report, sample: AumSample, config: AumConfig, registrar: str, work: Path
) -> Snapshot:
    reg = config.registrar(registrar)
    remote = reg.remote_file(BUSINESS_DATE)
    size_mb = sample.holdings[registrar].stat().st_size / 2**20
    folder = partition_dir(work / "staging", RECON, BUSINESS_DATE, registrar)
    operator = fetch_operator(config, registrar, folder / "left.parquet")
    server = thread_cpu_s(SFTP_THREAD)
    snapshot, cost = measure(lambda: operator.execute({}))
    served = thread_cpu_s(SFTP_THREAD) - server
    records = snapshot["rows"]
    report.add(f"{registrar} fetch operator (whole task)", records, "records", cost,
               note=f"{size_mb:.0f} MiB DBF; SFTP server thread {served:.2f} cpu-s")  # fmt: skip
    expected = truth_of(sample, registrar).filter(pl.col("status") != "mongo_only").height
    report.check(f"{registrar} snapshot holds {records:,} records", records == expected)

    # the same work in pieces, as the operator does it
    local = work / f"{registrar.lower()}.dbf"
    local.unlink(missing_ok=True)
    server = thread_cpu_s(SFTP_THREAD)
    _, fetch = measure(lambda: download(remote, local))
    served = thread_cpu_s(SFTP_THREAD) - server
    report.add(f"{registrar} SFTP fetch (SFTPHook.retrieve_file)", records, "records", fetch,
               note=f"{size_mb / fetch.seconds:.0f} MiB/s; SFTP server thread "
               f"{served:.2f} of the {fetch.cpu_s:.2f} cpu-s")  # fmt: skip
    _, digest = measure(lambda: file_digest(local))
    schema = dbf_schema(local)
    required = [*operator.required_columns, reg.report_date.field]
    missing = missing_columns(list(schema), required, remote)
    report.check(f"{registrar} has its required columns", not missing)
    frame, read, peer_records, peer = report.best_of(
        lambda: read_dbf(local, columns=list(schema)), lambda: dbfread_records(local)
    )
    report.add(f"{registrar} DBF read (read_dbf)", frame.height, "records", read,
               peer="dbfread", peer_cost=peer)  # fmt: skip
    report.check(f"dbfread reads the same {peer_records:,} records", peer_records == records)
    problems, dated = measure(
        lambda: report_date_problems(
            frame,
            field=reg.report_date.field,
            date_format=reg.report_date.format,
            business_date=BUSINESS_DATE,
            file=remote,
            records=live_record_numbers(local, frame.height),
        )
    )
    report.check(f"{registrar} report dates are the business date", not problems)
    target = work / f"{registrar.lower()}.parquet"

    def write_atomically() -> None:  # as the operator does
        with replaced_atomically(target) as staged:
            frame.write_parquet(staged)

    _, written = measure(write_atomically)
    for label, cost in (("sha256", digest), ("report-date check", dated),
                        ("Parquet write", written)):  # fmt: skip
        report.add(f"{registrar}   {label}", records, "records", cost)
    report.add(f"{registrar} DBF to Parquet (sha256+read+check+write)", records, "records",
               merged([digest, read, dated, written]))  # fmt: skip
    local.unlink()
    target.unlink()
    return snapshot


# ---------------------------------------------------------------- stage 3: reconcile, reports


def write_positions(sample: AumSample, path: Path) -> int:
    """The ledger's positions as the Mongo task writes them: every AMC, sorted by key."""
    frame = ledger_positions(pl.scan_parquet(sample.ledger), BUSINESS_DATE).sort(list(KEYS))
    path.parent.mkdir(parents=True, exist_ok=True)
    collected = frame.collect()
    collected.write_parquet(path)
    return collected.height


def positions_snapshot(report: Report, sample: AumSample, path: Path) -> Snapshot:
    """The full-size ledger positions the reconcile stages read, timed (no peer)."""
    rows, cost = measure(lambda: write_positions(sample, path))
    txns = pl.scan_parquet(sample.ledger).select(pl.len()).collect().item()
    report.add("ledger positions (polars reference)", txns, "txns", cost,
               note=f"{rows:,} positions")  # fmt: skip
    return Snapshot(
        source="ledger",
        path=str(path),
        rows=rows,
        sha256=file_digest(path),
        file=f"{LEDGER_DB}.{LEDGER_COLLECTION}",
    )


def duckdb_reconcile(
    left: Path, right: Path, spec: ReconSpec, amcs: tuple[str, ...], out: Path
) -> int:
    """The peer: the same full outer join on the three normalised keys, units within 0.001,
    one row per key with both sides' units and their difference, into Parquet."""
    keys = [(key.name, key.left, key.right) for key in spec.keys]
    units = spec.compare["units"]
    l_keys = ", ".join(f"upper(trim({col})) AS {name}" for name, col, _ in keys)
    r_keys = ", ".join(f"upper(trim({col})) AS {name}" for name, _, col in keys)
    on = " AND ".join(f"l.{name} = r.{name}" for name, _, _ in keys)
    out_keys = ", ".join(f"coalesce(l.{name}, r.{name}) AS {name}" for name, _, _ in keys)
    in_amcs = ", ".join(f"'{code}'" for code in amcs)
    query = f"""
        COPY (
            WITH l AS (SELECT {l_keys}, {units.left} AS units FROM read_parquet('{left}')),
                 r AS (SELECT {r_keys}, {units.right} AS units FROM read_parquet('{right}')
                       WHERE amc_code IN ({in_amcs}))
            SELECT {out_keys},
                   l.units AS left_units, r.units AS right_units, l.units - r.units AS diff_units,
                   CASE
                     WHEN r.{keys[0][0]} IS NULL THEN 'left_only'
                     WHEN l.{keys[0][0]} IS NULL THEN 'right_only'
                     WHEN abs(l.units - r.units) <= {ABS_TOL} THEN 'matched'
                     ELSE 'mismatched'
                   END AS status
            FROM l FULL OUTER JOIN r ON {on}
        ) TO '{out}' (FORMAT parquet)
    """
    with duckdb.connect() as con:
        con.execute("SET preserve_insertion_order = false")
        con.execute(query)
    return int(pl.scan_parquet(out).select(pl.len()).collect().item())


def reconcile_stages(
    report: Report,
    sample: AumSample,
    config: AumConfig,
    snapshots: dict[str, Snapshot],
    ledger: Snapshot,
    work: Path,
) -> dict[str, Outcome]:
    """ReconcileOperator's work per registrar: reconcile_to_dir, then the reports apart."""
    print("\nReconcile and reports (recon.reconcile_to_dir, recon.reports)", flush=True)
    return {
        registrar: reconcile_registrar(report, sample, config, registrar, snapshots, ledger, work)
        for registrar in REGISTRAR_AMCS
    }


def reconcile_registrar(
    report: Report,
    sample: AumSample,
    config: AumConfig,
    registrar: str,
    snapshots: dict[str, Snapshot],
    ledger: Snapshot,
    work: Path,
) -> Outcome:
    amcs = REGISTRAR_AMCS[registrar]
    left = snapshots[registrar]
    spec = load_spec(config.spec_path(registrar))
    out = partition_dir(work / "staging", RECON, BUSINESS_DATE, registrar)
    inputs = {"left": snapshot_input(left), "right": snapshot_input(ledger)}
    started = dt.datetime.now(dt.UTC)
    peer_out = work / f"duckdb-{registrar.lower()}.parquet"
    result, cost, peer_keys, peer = report.best_of(
        lambda: reconcile_to_dir(
            pl.scan_parquet(left["path"]),
            filtered(pl.scan_parquet(ledger["path"]), {"amc_code": list(amcs)}),
            spec,
            out,
            sources=(left["file"], ledger["file"]),
            inputs=inputs,
        ),
        lambda: duckdb_reconcile(Path(left["path"]), Path(ledger["path"]), spec, amcs, peer_out),
    )
    keys = result.summary["total_keys"]
    report.add(f"{registrar} reconcile (reconcile_to_dir)", keys, "keys", cost,
               peer="duckdb", peer_cost=peer,
               note=f"{result.summary['breaks']:,} breaks")  # fmt: skip
    truth = truth_of(sample, registrar)
    assert result.path is not None
    report.check(f"{registrar} recon statuses equal the truth on all {truth.height:,} keys",
                 disagreements(result.path, truth) == 0)  # fmt: skip
    report.check(f"{registrar} DuckDB statuses equal the truth ({peer_keys:,} keys)",
                 disagreements(peer_out, truth) == 0)  # fmt: skip
    peer_out.unlink()
    reports = report_stages(report, registrar, result, work)
    return outcome_of(
        spec,
        recon=RECON,
        source=registrar,
        business_date=BUSINESS_DATE.isoformat(),
        result_dir=out,
        summary=result.summary,
        inputs=inputs,
        reports=reports,
        started_at=started,
    )


def report_stages(
    report: Report, registrar: str, result: ReconResult, work: Path
) -> dict[str, Path]:
    """Every format in one call (as the operator does), then each format alone."""
    breaks = result.summary["breaks"]
    folder = partition_dir(work / "reports", RECON, BUSINESS_DATE, registrar)
    shutil.rmtree(folder, ignore_errors=True)
    reports, cost = measure(lambda: write_reports(result.scan(), result.summary, folder))
    report.add(f"{registrar} reports, all 4 in one call", breaks, "breaks", cost)
    for kind in REPORT_FORMATS:
        alone = work / "reports-alone" / registrar / kind
        shutil.rmtree(alone, ignore_errors=True)
        written, cost = measure(
            lambda alone=alone, kind=kind: write_reports(
                result.scan(), result.summary, alone, [kind]
            )
        )
        size = written[kind].stat().st_size / 2**20
        report.add(f"{registrar}   {kind} report alone", breaks, "breaks", cost,
                   note=f"{size:.1f} MiB")  # fmt: skip
    shutil.rmtree(work / "reports-alone", ignore_errors=True)
    return reports


# ---------------------------------------------------------------- stage 4: Postgres


@contextlib.contextmanager
def serving(process: psutil.Process | None) -> Iterator[None]:
    """Count ``process``'s CPU as the server's in the stages measured meanwhile (None: an
    external server, not measured)."""
    SERVER[:] = [process] if process is not None else []
    try:
        yield
    finally:
        SERVER.clear()


def postgres_stages(report: Report, outcomes: dict[str, Outcome], work: Path) -> None:
    print("\nPostgres results store (EmbeddedPostgres, stores.postgres)", flush=True)
    with EmbeddedPostgres() as pg, serving(postmaster(pg)):
        os.environ.update(connection_env(pg))
        hook = PostgresHook(postgres_conn_id="recon_postgres")
        applied, cost = measure(lambda: ensure_schema(hook))
        report.add("ensure_schema (first apply)", 0, "-", cost)
        report.check("ensure_schema applied schema.sql", applied is True)
        ddl = queries()["create_breaks_in"]
        ddl = ddl.replace("TEMPORARY TABLE recon_breaks_in", f"TABLE {COPY_TABLE}")
        ddl = ddl.replace("ON COMMIT DROP", "")
        with pg.connect() as conn:
            conn.execute(ddl)
        for registrar, outcome in outcomes.items():
            csv = work / f"breaks-{registrar.lower()}.csv"
            part = read_outcome(outcome)
            break_rows(pl.scan_parquet(part.results), part).sink_csv(csv, include_header=False)
            breaks = outcome["summary"]["breaks"]
            for attempt in ("insert", "replace"):
                stats, cost = measure(
                    lambda outcome=outcome: load_outcome(
                        hook, outcome, dag_id="bench", airflow_run_id="bench"
                    )
                )
                copied, peer = measure(lambda csv=csv: copy_floor(pg, csv))
                report.add(f"{registrar} load_outcome ({attempt})", stats["breaks"], "breaks",
                           cost, peer="COPY csv", peer_cost=peer)  # fmt: skip
                report.check(
                    f"{registrar} {attempt}: {stats['breaks']:,} breaks loaded of {breaks:,}, "
                    f"replaced={stats['replaced']}, COPY took {copied:,}",
                    stats["breaks"] == breaks == copied
                    and stats["replaced"] == (attempt == "replace"),
                )
            csv.unlink()


# ---------------------------------------------------------------- stage 5: MongoDB


def secantusd() -> psutil.Process:
    """The SecantusDB server EmbeddedMongo started: our child running secantusd-py."""
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any("secantusd" in part for part in child.cmdline()):
                return child
    raise RuntimeError("no secantusd-py child process (RECON_TEST_MONGO_URL set?)")


def mongo_stages(
    report: Report, sample: AumSample, config: AumConfig, work: Path, positions: int
) -> None:
    """Seed the ledger, aggregate positions in MongoDB, then store a run's results there."""
    txns = pl.scan_parquet(sample.ledger).select(pl.len()).collect().item()
    print(f"\nMongoDB at {positions:,} positions per registrar, {txns:,} ledger transactions "
          "(EmbeddedMongo: SecantusDB)", flush=True)  # fmt: skip
    folder = work / "mongo"
    shutil.rmtree(folder, ignore_errors=True)
    with EmbeddedMongo() as mongo, serving(secantusd()):
        os.environ.update(connection_env(mongo))
        client = mongo.client()
        docs, cost = measure(
            lambda: seed_ledger(
                client, sample.ledger, database=LEDGER_DB, collection=LEDGER_COLLECTION
            )
        )
        report.add("seed_ledger (insert_many, 5k batches)", docs, "docs", cost)
        report.check(f"seeded {docs:,} of {txns:,} transactions", docs == txns)

        snapshot_path = partition_dir(folder, RECON, BUSINESS_DATE, "ledger") / "right.parquet"
        operator = MongoLedgerPositionsOperator(
            task_id="ledger_positions",
            database=LEDGER_DB,
            collection=LEDGER_COLLECTION,
            as_of=BUSINESS_DATE.isoformat(),
            snapshot_path=str(snapshot_path),
        )
        reference_path = folder / "polars-positions.parquet"
        ledger, cost, _, peer = report.best_of(
            lambda: operator.execute({}), lambda: write_positions(sample, reference_path)
        )
        report.add("MongoLedgerPositionsOperator (aggregate)", txns, "txns", cost,
                   peer="polars ledger_positions", peer_cost=peer,
                   note=f"{ledger['rows']:,} positions")  # fmt: skip
        # where the operator's time goes: its two aggregations, each run alone
        collection = client[LEDGER_DB][LEDGER_COLLECTION]
        for name, pipeline in (("problems", problems_pipeline), ("positions", positions_pipeline)):
            answer, cost = measure(
                lambda pipeline=pipeline: list(
                    collection.aggregate(pipeline(BUSINESS_DATE, None), allowDiskUse=True)
                )
            )
            report.add(f"  {name}_pipeline alone (aggregate, to list)", txns, "txns", cost,
                       note=f"{len(answer):,} documents back")  # fmt: skip
        ours = pl.read_parquet(ledger["path"]).cast(dict(POSITIONS_SCHEMA))
        theirs = pl.read_parquet(reference_path).cast(dict(POSITIONS_SCHEMA))
        report.check(f"MongoDB's {ours.height:,} positions equal the polars reference",
                     ours.equals(theirs))  # fmt: skip

        for registrar, amcs in REGISTRAR_AMCS.items():
            left_path = partition_dir(folder, RECON, BUSINESS_DATE, registrar) / "left.parquet"
            left_path.parent.mkdir(parents=True, exist_ok=True)
            read_dbf(sample.holdings[registrar]).write_parquet(left_path)
            left = Snapshot(
                source=registrar,
                path=str(left_path),
                rows=pl.scan_parquet(left_path).select(pl.len()).collect().item(),
                sha256=file_digest(sample.holdings[registrar]),
                file=sample.holdings[registrar].name,
            )
            spec = load_spec(config.spec_path(registrar))
            out = left_path.parent / "out"
            inputs = {"left": snapshot_input(left), "right": snapshot_input(ledger)}
            started = dt.datetime.now(dt.UTC)
            result = reconcile_to_dir(
                pl.scan_parquet(left_path),
                filtered(pl.scan_parquet(ledger["path"]), {"amc_code": list(amcs)}),
                spec,
                out,
                sources=(left["file"], ledger["file"]),
                inputs=inputs,
            )
            outcome = outcome_of(
                spec,
                recon=RECON,
                source=registrar,
                business_date=BUSINESS_DATE.isoformat(),
                result_dir=out,
                summary=result.summary,
                inputs=inputs,
                reports={},
                started_at=started,
            )
            keys = result.summary["total_keys"]
            for attempt in ("insert", "replace"):
                answer, cost = measure(
                    lambda outcome=outcome: replace_results(
                        client, outcome=outcome, run_id="bench", database=LEDGER_DB
                    )
                )
                report.add(f"{registrar} replace_results ({attempt})", answer["documents"],
                           "docs", cost, note=f"transaction={answer['transaction']}")  # fmt: skip
                expected_replaced = keys if attempt == "replace" else 0
                report.check(
                    f"{registrar} {attempt}: {answer['documents']:,} documents for {keys:,} keys, "
                    f"{answer['replaced']:,} replaced",
                    answer["documents"] == keys and answer["replaced"] == expected_replaced,
                )


# ---------------------------------------------------------------- reporting


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| stage | rows | unit | seconds | rows/s | cpu s | server cpu s | peak MB | +MB "
        "| others % | peer | peer s | time / peer | note |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for r in rows:
        cells = [
            r.stage.replace("  ", "\u2003"),  # indented sub-stages keep their indent
            f"{r.rows:,}" if r.rows else "-",
            r.unit,
            f"{r.seconds:.2f}",
            fmt(r.rate, ",.0f"),
            f"{r.cpu_s:.2f}",
            fmt(r.server_cpu_s, ".2f"),
            f"{r.peak_mb:,.0f}",
            f"{r.grew_mb:,.0f}",
            fmt(r.others_pct, ".0f"),
            r.peer or "-",
            fmt(r.peer_seconds, ".2f"),
            fmt(r.ratio, ".2f") + ("x" if r.ratio is not None else ""),
            r.note,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=1_000_000, help="per registrar")
    parser.add_argument("--mongo-docs", type=int, default=20_000,
                        help="about this many ledger transactions for the MongoDB stages")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of the DBF read, reconcile and Mongo aggregation and of "
                        "their peers, interleaved; the fastest of each counts")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = f".venv/bin/python bench/bench_aum.py {' '.join(sys.argv[1:])}".strip()
    report = Report(args.repeat)
    info = machine_info(
        (
            "polars",
            "duckdb",
            "dbfread",
            "psycopg",
            "pymongo",
            "paramiko",
            "asyncssh",
            "apache-airflow",
        )
    )
    print(f"recon at {info['recon_at']}; {info['cores']} cores ({info['cpu']}), "
          f"{info['memory_gib']} GiB", flush=True)  # fmt: skip
    if info["uncommitted"]:
        print(f"uncommitted in include/, plugins/, config/: {', '.join(info['uncommitted'])}")
    print(f"\nData: {args.positions:,} positions per registrar", flush=True)
    sample = sample_at(args.positions, report=report)
    config = load_aum_config()
    work = DATA_DIR / f"aum-{args.positions}" / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    snapshots = sftp_stages(report, sample, config, work)
    print("\nLedger positions at full size (what MongoLedgerPositionsOperator writes)", flush=True)
    ledger_path = partition_dir(work / "staging", RECON, BUSINESS_DATE, "ledger") / "right.parquet"
    ledger = positions_snapshot(report, sample, ledger_path)
    outcomes = reconcile_stages(report, sample, config, snapshots, ledger, work)
    postgres_stages(report, outcomes, work)

    txns = pl.scan_parquet(sample.ledger).select(pl.len()).collect().item()
    per_position = txns / (len(REGISTRAR_AMCS) * args.positions)
    small = max(50, round(args.mongo_docs / (len(REGISTRAR_AMCS) * per_position)))
    print(f"\nData for MongoDB: {small:,} positions per registrar "
          f"(~{per_position:.2f} transactions per position)", flush=True)  # fmt: skip
    mongo_stages(report, sample_at(small, report=report), config, work, small)

    lines = table(report.rows)
    print()
    print("\n".join(lines))
    failed = [c for c in report.checks if not c.startswith("ok")]
    print(f"\nchecks: {len(report.checks) - len(failed)} of {len(report.checks)} passed")
    for line in failed:
        print(f"  {line}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"aum-{args.positions}.json"
    body = {
        "command": command,
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "positions": args.positions,
        "mongo_positions": small,
        "repeat": args.repeat,
        "machine": info,
        "measured": (
            "one process, one stage at a time; seconds = perf_counter around the call; cpu s = "
            "this process's user+system; peak MB = VmHWM after resetting it (clear_refs) before "
            "the call, +MB its rise over the RSS at the start; server cpu s = CPU of the "
            "Postgres or SecantusDB server process (workers included); others % = the machine's "
            "CPU used by anything else meanwhile (stages of 0.5 s or more)"
        ),
        "rows": [row.as_json() for row in report.rows],
        "checks": report.checks,
        "notes": report.notes,
        "table": lines,
    }
    path.write_text(json.dumps(body, indent=2) + "\n")
    print(f"written to {path.relative_to(REPO)}")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
