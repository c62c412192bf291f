"""The Postgres results store on a real server: schema, partition replace, first-seen ageing,
append-only audit, data-quality checks, views, and rollback on bad input.

Outcomes come from real ``reconcile_to_dir`` / ``compare_files`` output on small generated
data: AUM holdings (three-part key, exact decimals) over two business dates, and the payments
sample (every status, including duplicate and invalid rows).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import polars as pl
import psycopg
import pytest
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from embedded.base import free_port
from embedded.postgres import EmbeddedPostgres
from embedded.results_store import Query, query_fixture, result_outcome, schema_hook_fixture
from recon.engine.reconcile import compare_files, reconcile_to_dir
from recon.readers.dbf import read_dbf
from recon.result import RESULTS_FILE, SUMMARY_FILE
from recon.spec import load_spec
from recon_airflow.errors import ServiceUnavailableError
from recon_airflow.hooks.postgres import PostgresUnavailableError
from recon_airflow.operators.load_postgres import PostgresResultsOperator
from recon_airflow.outcome import Outcome
from recon_airflow.settings import REPO_ROOT
from recon_airflow.stores.postgres import BadOutcomeError, ensure_schema, load_outcome
from worlds.aum import REGISTRAR_AMCS, generate_aum, ledger_positions
from worlds.pairs import SamplePair

PG_CONN = "recon_postgres"
DAY1 = dt.date(2026, 11, 20)
DAY2 = DAY1 + dt.timedelta(days=1)
KEYS = ["amc_code", "folio", "product"]
TABLES = {  # table -> a total order of its rows, for byte-exact snapshots
    "runs": "run_id",
    "breaks": "break_id",
    "data_quality_checks": "run_id, side, check_name",
    "audit_log": "id",
}


# -- data: real reconciliations ---------------------------------------------------------------


@dataclass(frozen=True)
class Aum:
    cams_day1: Path
    cams_day2: Path
    karvy_day1: Path
    resolved: tuple[str, ...]  # a day-1 break fixed on day 2
    new: tuple[str, ...]  # a day-1 match broken on day 2


def _key(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(row[k] for k in KEYS)


def _is_key(key: tuple[str, ...]) -> pl.Expr:
    columns = ("AMC_CODE", "FOLIO_NO", "PRODCODE")
    return pl.all_horizontal([pl.col(c) == v for c, v in zip(columns, key, strict=True)])


@pytest.fixture(scope="module")
def aum(tmp_path_factory: pytest.TempPathFactory) -> Aum:
    """CAMS on two days (one break resolved, one new, the rest open) and KARVY on day 1."""
    root = tmp_path_factory.mktemp("aum")
    sample = generate_aum(root / "in", positions=200, business_date=DAY1, seed=11)
    ledger = pl.scan_parquet(sample.ledger)

    def run(registrar: str, left: pl.DataFrame, out: Path) -> pl.DataFrame:
        spec = load_spec(REPO_ROOT / "config" / "specs" / f"aum_{registrar.lower()}.yaml")
        right = ledger_positions(ledger, DAY1, REGISTRAR_AMCS[registrar])
        reconcile_to_dir(left.lazy(), right, spec, out, sources=("dbf", "mongo"))
        return pl.read_parquet(out / RESULTS_FILE)

    cams = read_dbf(sample.holdings["CAMS"])
    day1 = run("CAMS", cams, root / "cams1")
    resolved = day1.filter(pl.col("status") == "mismatched").row(0, named=True)
    new = day1.filter(pl.col("status") == "matched").row(0, named=True)
    units = pl.col("CLOS_BAL")
    cams2 = cams.with_columns(
        pl.when(_is_key(_key(resolved)))
        .then(pl.lit(resolved["right_units"], cams.schema["CLOS_BAL"]))
        .when(_is_key(_key(new)))
        .then(units + Decimal("7"))
        .otherwise(units)
        .alias("CLOS_BAL")
    )
    run("CAMS", cams2, root / "cams2")
    run("KARVY", read_dbf(sample.holdings["KARVY"]), root / "karvy1")
    return Aum(root / "cams1", root / "cams2", root / "karvy1", _key(resolved), _key(new))


@pytest.fixture(scope="module")
def payments(payments_pair: SamplePair, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The payments sample reconciled: every status, float amounts and dates."""
    out = tmp_path_factory.mktemp("payments") / "result"
    spec = load_spec(payments_pair.spec)
    compare_files(spec, payments_pair.left, payments_pair.right, out, reports=())
    return out


def make_outcome(
    result_dir: Path, *, source: str, business_date: dt.date, recon: str = "aum_recon"
) -> Outcome:
    """The Outcome a reconcile task would hand over for ``result_dir``: started at 06:00 on the
    business date, 3 s long, a report link, and the summary's counts and figures only."""
    return result_outcome(
        result_dir,
        recon=recon,
        source=source,
        business_date=business_date,
        started_at=dt.datetime.combine(business_date, dt.time(6), dt.UTC),
        seconds=3,
        summary_keys=("counts", "breaks", "break_rate", "risk_level"),
        report_links={"html": f"file:///reports/{source}/{business_date}.html"},
    )


# -- database helpers -----------------------------------------------------------------------


hook = schema_hook_fixture(PG_CONN, ensure_schema)
query = query_fixture()


def load(hook: PostgresHook, outcome: Outcome, run: str = "manual__1", **kw: Any) -> Any:
    return load_outcome(hook, outcome, dag_id="aum_recon", airflow_run_id=run, **kw)


def snapshot(pg: EmbeddedPostgres) -> dict[str, bytes]:
    """Every store table dumped with COPY: equal snapshots mean byte-identical contents."""
    dumps = {}
    with pg.connect() as conn:
        for table, order in TABLES.items():
            data = bytearray()
            with conn.cursor().copy(
                f"COPY (SELECT * FROM recon.{table} ORDER BY {order}) TO STDOUT"
            ) as copy:
                for chunk in copy:
                    data += chunk
            dumps[table] = bytes(data)
    return dumps


def expected_breaks(result_dir: Path, labels: dict[str, str]) -> pl.DataFrame:
    statuses = {"left_only": f"{labels['left']}_only", "right_only": f"{labels['right']}_only"}
    return (
        pl.read_parquet(result_dir / RESULTS_FILE)
        .filter(pl.col("status") != "matched")
        .with_columns(pl.col("status").replace(statuses))
    )


# -- schema -----------------------------------------------------------------------------------


def test_schema_applies_again_and_concurrently(
    pg_clean: EmbeddedPostgres, hook: PostgresHook
) -> None:
    """ensure_schema skips an applied version; the file itself re-applies cleanly; racing
    mapped tasks serialise on the advisory lock (exactly one applies)."""
    assert ensure_schema(hook) is False
    assert ensure_schema(hook, force=True) is True
    schema = (REPO_ROOT / "include" / "sql" / "schema.sql").read_text()
    with pg_clean.connect() as conn:
        conn.execute(schema)
        conn.execute(schema)

    pg_clean.reset()
    applied: list[bool] = []
    threads = [
        threading.Thread(target=lambda: applied.append(ensure_schema(PostgresHook(PG_CONN))))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(applied) == [False, False, False, True]
    with pg_clean.connect() as conn:
        relations = conn.execute(
            "SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = 'recon' AND c.relkind IN ('r', 'v')"
            " ORDER BY 1"
        ).fetchall()
    assert relations == [
        ("audit_log", "r"),
        ("breaks", "r"),
        ("data_quality_checks", "r"),
        ("runs", "r"),
        ("schema_versions", "r"),
        ("v_daily_summary", "v"),
        ("v_high_value_breaks", "v"),
        ("v_latest_runs", "v"),
        ("v_open_breaks", "v"),
        ("v_source_daily_metrics", "v"),
    ]


# -- loading ----------------------------------------------------------------------------------


def test_load_writes_exactly_the_breaks(hook: PostgresHook, query: Query, payments: Path) -> None:
    """One row per non-matched result row, labelled statuses, both sides' values, the run."""
    outcome = make_outcome(payments, source="stripe", business_date=DAY1, recon="payments")
    stats = load(hook, outcome)
    summary = json.loads((payments / SUMMARY_FILE).read_text())
    want = expected_breaks(payments, outcome["labels"])
    assert stats["breaks"] == want.height == summary["breaks"] > 0
    assert (stats["replaced"], stats["previous"], stats["carried_over"]) == (False, None, 0)

    got = query(
        "SELECT key, key_text, status, mismatched_fields, left_values, right_values, difference,"
        " break_amount, side, input_row, reason, first_seen_date, age_days FROM recon.breaks"
    )
    statuses = {r["status"] for r in got}
    assert statuses == {"mismatched", "processor_only", "ledger_only", "duplicate", "invalid"}

    def identity(row: dict[str, Any]) -> tuple[Any, ...]:
        return (row["txn_id"], row["status"], row["side"], row["row"], row["reason"])

    db_rows = [{**r["key"], **r, "row": r["input_row"]} for r in got]
    assert sorted(map(identity, db_rows), key=repr) == sorted(
        map(identity, want.iter_rows(named=True)), key=repr
    )
    by_key = {(r["key"]["txn_id"], r["side"], r["input_row"]): r for r in got}
    for row in want.iter_rows(named=True):
        db = by_key[(row["txn_id"], row["side"], row["row"])]
        assert db["mismatched_fields"] == row["mismatched_fields"]
        assert db["break_amount"] == Decimal(str(round(row["break_amount"], 6)))
        assert (db["first_seen_date"], db["age_days"]) == (DAY1, 0)
        if row["status"] == "mismatched":
            assert db["left_values"] == {
                "amount": row["left_amount"],
                "currency": row["left_currency"],
                "status": row["left_status"],
                "booked_on": row["left_booked_on"].isoformat(),
            }
            assert db["right_values"]["amount"] == row["right_amount"]
            assert db["difference"] == Decimal(str(round(row["diff_amount"], 6)))
        if row["status"] == "processor_only":
            assert db["right_values"] is None and db["difference"] is None
    # a blank key and a missing key stay apart in key_text
    blank = {r["key_text"] for r in got if r["key"]["txn_id"] in ("", None)}
    assert blank == {"", "\\N"}

    (run,) = query("SELECT * FROM recon.runs")
    assert {s: run[s] for s in summary["counts"]} == summary["counts"]
    assert run["summary"] == summary
    assert (run["left_label"], run["right_label"], run["spec"]) == (
        "processor",
        "ledger",
        summary["recon"],
    )
    assert run["inputs"]["left"]["sha256"] == "l" * 64
    assert run["inputs"]["left"]["rows"] == summary["inputs"]["left"]["rows"]
    assert run["report_links"] == outcome["report_links"]
    assert run["discrepancy_amount"] == Decimal(str(summary["discrepancy_amount"]))
    assert run["started_at"] == dt.datetime.fromisoformat(outcome["started_at"])
    assert (run["dag_id"], run["airflow_run_id"], run["status"]) == (
        "aum_recon",
        "manual__1",
        "succeeded",
    )


def test_decimal_values_and_composite_keys_stay_exact(
    hook: PostgresHook, query: Query, aum: Aum
) -> None:
    load(hook, make_outcome(aum.cams_day1, source="CAMS", business_date=DAY1))
    want = expected_breaks(aum.cams_day1, {"left": "dbf", "right": "mongo"})
    got = {_key(r["key"]): r for r in query("SELECT * FROM recon.breaks")}
    assert len(got) == want.height
    for row in want.iter_rows(named=True):
        db = got[_key(row)]
        assert db["key_text"] == "|".join(_key(row))
        assert db["status"] == row["status"]
        if row["left_units"] is not None:  # Decimal(38, 4) as an exact JSON string
            assert db["left_values"] == {"units": str(row["left_units"])}
        if row["status"] == "mismatched":
            assert db["difference"] == row["diff_units"]
            assert db["right_values"] == {"units": str(row["right_units"])}


def test_reload_replaces_the_partition_and_audits_it(
    hook: PostgresHook, query: Query, aum: Aum
) -> None:
    outcome = make_outcome(aum.cams_day1, source="CAMS", business_date=DAY1)
    first = load(hook, outcome, "scheduled__1")
    again = load(hook, outcome, "manual__rerun")
    n = first["breaks"]
    assert again["replaced"] is True and again["run_id"] != first["run_id"]
    assert again["previous"]["run_id"] == first["run_id"]
    assert (again["previous"]["break_rows"], again["previous"]["airflow_run_id"]) == (
        n,
        "scheduled__1",
    )
    assert query("SELECT run_id FROM recon.runs") == [{"run_id": again["run_id"]}]
    assert query("SELECT count(*) AS n, min(run_id) AS run FROM recon.breaks") == [
        {"n": n, "run": again["run_id"]}
    ]
    assert query("SELECT count(DISTINCT run_id) AS n FROM recon.data_quality_checks") == [{"n": 1}]

    audit = query(
        "SELECT actor, action, recon, source, business_date, run_id, details"
        " FROM recon.audit_log ORDER BY id"
    )
    assert [(a["action"], a["run_id"]) for a in audit] == [
        ("insert_partition", first["run_id"]),
        ("replace_partition", again["run_id"]),
    ]
    assert {(a["actor"], a["recon"], a["source"], a["business_date"]) for a in audit} == {
        ("airflow:aum_recon", "aum_recon", "CAMS", DAY1)
    }
    details = audit[1]["details"]
    assert details["before"]["run_id"] == first["run_id"] and details["before"]["break_rows"] == n
    assert details["after"] == {
        "run_id": again["run_id"],
        "records": 200,
        "breaks": n,
        "checks": 11,
    }
    assert details["airflow_run_id"] == "manual__rerun"
    assert details["inputs"]["left"]["sha256"] == "l" * 64


def test_concurrent_loads_of_one_partition_serialise(
    hook: PostgresHook, query: Query, aum: Aum
) -> None:
    outcome = make_outcome(aum.cams_day1, source="CAMS", business_date=DAY1)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            load(PostgresHook(PG_CONN), outcome, f"run{i}")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert query("SELECT count(*) AS n FROM recon.runs") == [{"n": 1}]
    actions = [r["action"] for r in query("SELECT action FROM recon.audit_log ORDER BY id")]
    assert actions == ["insert_partition", "replace_partition", "replace_partition"]


def test_second_day_ages_open_breaks(hook: PostgresHook, query: Query, aum: Aum) -> None:
    """A key that broke yesterday keeps its first-seen date; a new break starts today; a fixed
    one leaves the open breaks."""
    load(hook, make_outcome(aum.cams_day1, source="CAMS", business_date=DAY1))
    stats = load(hook, make_outcome(aum.cams_day2, source="CAMS", business_date=DAY2))
    day1 = {
        tuple(r["key_text"].split("|"))
        for r in query("SELECT key_text FROM recon.breaks WHERE business_date = %s", DAY1)
    }
    day2 = {
        tuple(r["key_text"].split("|")): r
        for r in query(
            "SELECT key_text, first_seen_date, age_days FROM recon.breaks WHERE business_date = %s",
            DAY2,
        )
    }
    assert aum.resolved in day1 and aum.resolved not in day2
    assert aum.new not in day1 and aum.new in day2
    assert set(day2) == day1 - {aum.resolved} | {aum.new}
    for key, row in day2.items():
        want = (DAY2, 0) if key == aum.new else (DAY1, 1)
        assert (row["first_seen_date"], row["age_days"]) == want, key
    assert stats["carried_over"] == len(day1) - 1

    open_breaks = query(
        "SELECT business_date, key_text, age_days, break_amount FROM recon.v_open_breaks"
    )
    assert {tuple(r["key_text"].split("|")) for r in open_breaks} == set(day2)
    assert {r["business_date"] for r in open_breaks} == {DAY2}
    amounts = [r["break_amount"] for r in open_breaks]
    assert amounts == sorted(amounts, reverse=True)


def test_views_summarise_the_latest_runs_and_each_day(
    hook: PostgresHook, query: Query, aum: Aum
) -> None:
    outcomes = [
        make_outcome(aum.cams_day1, source="CAMS", business_date=DAY1),
        make_outcome(aum.karvy_day1, source="KARVY", business_date=DAY1),
        make_outcome(aum.cams_day2, source="CAMS", business_date=DAY2),
    ]
    runs = [load(hook, o) for o in outcomes]
    summaries = [json.loads((Path(o["result_dir"]) / SUMMARY_FILE).read_text()) for o in outcomes]

    latest = query(
        "SELECT source, business_date, run_id, breaks FROM recon.v_latest_runs ORDER BY source"
    )
    assert latest == [
        {
            "source": "CAMS",
            "business_date": DAY2,
            "run_id": runs[2]["run_id"],
            "breaks": summaries[2]["breaks"],
        },
        {
            "source": "KARVY",
            "business_date": DAY1,
            "run_id": runs[1]["run_id"],
            "breaks": summaries[1]["breaks"],
        },
    ]
    open_by_source = query(
        "SELECT source, count(*) AS n FROM recon.v_open_breaks GROUP BY 1 ORDER BY 1"
    )
    assert open_by_source == [
        {"source": "CAMS", "n": summaries[2]["breaks"]},
        {"source": "KARVY", "n": summaries[1]["breaks"]},
    ]

    daily = query("SELECT * FROM recon.v_daily_summary")
    day1 = summaries[:2]
    records = sum(s["records"] for s in day1)
    breaks = sum(s["breaks"] for s in day1)
    assert daily[0] == {
        **daily[0],
        "business_date": DAY2,
        "sources": ["CAMS"],
        "breaks": summaries[2]["breaks"],
    }
    assert daily[1] == {
        "recon": "aum_recon",
        "business_date": DAY1,
        "sources": ["CAMS", "KARVY"],
        "keys": sum(s["total_keys"] for s in day1),
        "records": records,
        "breaks": breaks,
        "break_rate": breaks / records,
        "discrepancy_amount": sum(Decimal(str(s["discrepancy_amount"])) for s in day1),
        "sources_over_threshold": sum(not s["threshold_passed"] for s in day1),
        "worst_risk_level": "HIGH",
    }


# -- data quality -----------------------------------------------------------------------------


def test_data_quality_checks_per_side(hook: PostgresHook, query: Query, payments: Path) -> None:
    outcome = make_outcome(payments, source="stripe", business_date=DAY1, recon="payments")
    report_date = {
        "name": "report_date",
        "side": "left",
        "passed": True,
        "observed": "2026-11-20",
        "expected": "2026-11-20",
        "details": {"field": "REP_DATE"},
    }
    outcome["summary"]["checks"] = [report_date]
    size = {"name": "file_size", "side": "right", "passed": False, "observed": 0, "expected": 1}
    stats = load(hook, outcome, extra_checks=[size])
    summary = json.loads((payments / SUMMARY_FILE).read_text())
    results = pl.read_parquet(payments / RESULTS_FILE)

    rows = query(
        "SELECT side, side_label, check_name, passed, observed, expected, details"
        " FROM recon.data_quality_checks"
    )
    checks = {(r["side"], r["check_name"]): r for r in rows}
    assert len(rows) == stats["checks"] == 13
    assert stats["checks_failed"] == sum(not r["passed"] for r in rows)
    for side, label in (("left", "processor"), ("right", "ledger")):
        read = summary["inputs"][side]["rows"]
        invalid = results.filter((pl.col("status") == "invalid") & (pl.col("side") == side))
        duplicate = results.filter(
            (pl.col("status") == "duplicate") & pl.col("side").is_in([side, "both"])
        )
        null_keys = invalid.filter(pl.col("reason").str.contains("is empty")).height
        want = {
            "rows_read": (read, read, True),
            "row_conservation": (results[f"{side}_rows"].sum(), read, True),
            "invalid_rows": (invalid.height, 0, invalid.height == 0),
            "duplicate_keys": (duplicate.height, 0, duplicate.height == 0),
            "null_keys": (null_keys, 0, null_keys == 0),
        }
        for name, (observed, expected, passed) in want.items():
            check = checks[(side, name)]
            assert (check["observed"], check["expected"], check["passed"]) == (
                observed,
                expected,
                passed,
            )
            assert check["side_label"] == label
        assert checks[(side, "invalid_rows")]["observed"] > 0 and null_keys > 0
    rate = checks[("both", "break_rate")]
    assert (rate["observed"], rate["expected"], rate["passed"]) == (
        summary["break_rate"],
        summary["thresholds"]["max_break_rate"],
        summary["threshold_passed"],
    )
    assert rate["side_label"] is None
    assert checks[("left", "report_date")]["details"] == {"field": "REP_DATE"}
    assert checks[("right", "file_size")]["passed"] is False


def test_bad_extra_checks_are_refused_with_every_problem(
    hook: PostgresHook, query: Query, aum: Aum
) -> None:
    outcome = make_outcome(aum.cams_day1, source="CAMS", business_date=DAY1)
    bad = [
        {"name": "x", "side": "middle", "passed": "yes"},
        {"name": "rows_read", "side": "left", "passed": True},
    ]
    with pytest.raises(BadOutcomeError) as caught:
        load(hook, outcome, extra_checks=bad)
    assert len(caught.value.problems) == 3
    text = str(caught.value)
    assert "extra check 1: `side` must be one of left, right, both" in text
    assert "extra check 1: `passed` must be true or false" in text
    assert "extra check 2: a check `rows_read` on side left exists already" in text
    assert query("SELECT count(*) AS n FROM recon.runs") == [{"n": 0}]


# -- failures ---------------------------------------------------------------------------------


def _truncated(result_dir: Path) -> None:
    path = result_dir / RESULTS_FILE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _one_more_break(result_dir: Path) -> None:
    """A results file that says one matched key broke: it no longer matches summary.json."""
    path = result_dir / RESULTS_FILE
    frame = pl.read_parquet(path)
    first = frame["status"].to_list().index("matched")
    status = pl.when(pl.int_range(pl.len()) == first).then(pl.lit("mismatched"))
    frame.with_columns(status.otherwise("status").alias("status")).write_parquet(path)


def _no_summary(result_dir: Path) -> None:
    (result_dir / SUMMARY_FILE).unlink()


def _gone(result_dir: Path) -> None:
    shutil.rmtree(result_dir)


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        (_truncated, f"{RESULTS_FILE}: not a readable Parquet file"),
        (_one_more_break, f"break rows, but {SUMMARY_FILE} says"),
        (_no_summary, f"{SUMMARY_FILE}: no such file (did the reconcile task write"),
        (_gone, f"{RESULTS_FILE}: no such file"),
    ],
    ids=[
        "corrupt-results",
        "results-disagree-with-summary",
        "summary-missing",
        "result-dir-missing",
    ],
)
def test_failed_load_leaves_the_previous_partition_byte_identical(
    pg_clean: EmbeddedPostgres,
    hook: PostgresHook,
    aum: Aum,
    tmp_path: Path,
    spoil: Callable[[Path], None],
    words: str,
) -> None:
    load(hook, make_outcome(aum.cams_day1, source="CAMS", business_date=DAY1))
    before = snapshot(pg_clean)
    assert before["breaks"] and before["audit_log"]
    spoilt = tmp_path / "result"
    shutil.copytree(aum.cams_day1, spoilt)
    spoil(spoilt)
    with pytest.raises(BadOutcomeError, match="cannot load aum_recon/CAMS/2026-11-20") as caught:
        load(
            hook,
            make_outcome(aum.cams_day1, source="CAMS", business_date=DAY1)
            | {"result_dir": str(spoilt)},
        )
    assert words in str(caught.value)
    assert str(spoilt) in str(caught.value)
    assert snapshot(pg_clean) == before


def test_results_that_do_not_match_the_outcome_are_refused(hook: PostgresHook, aum: Aum) -> None:
    outcome = make_outcome(aum.cams_day1, source="CAMS", business_date=DAY1)
    wrong = outcome | {
        "keys": ["amc_code", "folio_no"],
        "labels": {"left": "dbf", "right": "ledger"},
    }
    with pytest.raises(BadOutcomeError) as caught:
        load(hook, wrong)
    text = str(caught.value)
    assert "results.parquet: no column `folio_no`" in text
    assert "summary.json: labels {'left': 'dbf', 'right': 'mongo'}, but the outcome says" in text
    with pytest.raises(BadOutcomeError, match="business_date '20/11/2026' is not an ISO date"):
        load(hook, outcome | {"business_date": "20/11/2026"})


# -- audit log --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE recon.audit_log SET actor = 'someone else'",
        "DELETE FROM recon.audit_log",
        "DELETE FROM recon.audit_log WHERE false",
        "TRUNCATE recon.audit_log",
    ],
    ids=["update", "delete", "delete-nothing", "truncate"],
)
def test_audit_log_is_append_only(
    pg_clean: EmbeddedPostgres, hook: PostgresHook, aum: Aum, statement: str
) -> None:
    load(hook, make_outcome(aum.cams_day1, source="CAMS", business_date=DAY1))
    before = snapshot(pg_clean)["audit_log"]
    with (
        pg_clean.connect() as conn,
        pytest.raises(
            psycopg.errors.InsufficientPrivilege, match=r"recon\.audit_log is append-only"
        ),
    ):
        conn.execute(statement)
    assert snapshot(pg_clean)["audit_log"] == before


# -- the operator -----------------------------------------------------------------------------


def test_operator_loads_and_sorts_failures_for_retry(
    pg_clean: EmbeddedPostgres,
    db_connections: dict[str, str],
    query: Query,
    monkeypatch: pytest.MonkeyPatch,
    aum: Aum,
) -> None:
    """Bad files fail the task for good; an unreachable server raises a retryable error."""
    context = cast(Context, {"dag_run": SimpleNamespace(dag_id="aum_recon", run_id="scheduled__x")})
    outcome = make_outcome(aum.cams_day1, source="CAMS", business_date=DAY1)
    operator = PostgresResultsOperator(task_id="load_postgres", outcome=outcome)
    stats = operator.execute(context)  # creates the schema on an empty database
    assert json.loads(json.dumps(stats)) == stats
    assert (stats["business_date"], stats["replaced"]) == ("2026-11-20", False)
    assert query("SELECT dag_id, airflow_run_id FROM recon.runs") == [
        {"dag_id": "aum_recon", "airflow_run_id": "scheduled__x"}
    ]

    missing = outcome | {"result_dir": str(aum.cams_day1.parent / "nowhere")}
    with pytest.raises(AirflowFailException, match=r"results\.parquet: no such file"):
        PostgresResultsOperator(task_id="bad", outcome=missing).execute(context)

    conn = json.loads(db_connections["AIRFLOW_CONN_RECON_POSTGRES"]) | {"port": free_port()}
    monkeypatch.setenv("AIRFLOW_CONN_RECON_DOWN", json.dumps(conn))
    down = PostgresResultsOperator(task_id="down", outcome=outcome, postgres_conn_id="recon_down")
    with pytest.raises(PostgresUnavailableError, match=r"`recon_down` .* is unreachable") as caught:
        down.execute(context)
    assert isinstance(caught.value, ServiceUnavailableError)  # retried, never bad input
    assert isinstance(caught.value.__cause__, psycopg.OperationalError)
