"""The Postgres results store on a real server, for classified (payments) partitions: break types
(``timing`` stored though its core status is matched), currency and impact per break, the run's
financial impact and counts per break type, the daily metrics and high-value views, and the
upgrade of a database made by the first schema.

Partitions are built by hand, small enough to read: the core (``recon.engine.reconcile.reconcile`` on two
literal frames) plus the columns and summary keys of the payments contract, each break type set
by the test, not by recon.payments.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from airflow.providers.postgres.hooks.postgres import PostgresHook
from psycopg.rows import dict_row

from embedded.postgres import EmbeddedPostgres
from embedded.results_store import Query, query_fixture, result_outcome, schema_hook_fixture
from recon.engine.reconcile import reconcile, reconcile_to_dir
from recon.result import RESULTS_FILE, SUMMARY_FILE
from recon.spec import spec_from_dict
from recon_airflow.outcome import Outcome
from recon_airflow.stores.postgres import BadOutcomeError, ensure_schema, load_outcome
from worlds.classified import BREAK_TYPE_ORDER, payments_spec

PG_CONN = "recon_postgres"
DAY1 = dt.date(2026, 11, 20)
DAY2 = DAY1 + dt.timedelta(days=1)
HIGH_VALUE = 1000.0  # USD
FX = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}  # XYZ has no rate: its impact is null
# the last commit that changed include/sql/schema.sql before break types: the first schema
FIRST_OPEN_BREAKS_COLUMNS = [
    *("recon", "source", "business_date", "run_id", "key", "key_text", "status"),
    *("mismatched_fields", "left_values", "right_values", "difference", "break_amount"),
    *("side", "input_row", "reason", "first_seen_date", "age_days"),
]


# -- data: classified partitions built by hand ----------------------------------------------------


@dataclass(frozen=True)
class Payment:
    """One reference on both sides, and the break type the test gives it."""

    reference: str
    processor: tuple[float, str] | None  # amount, currency
    ledger: tuple[float, str] | None
    break_type: str
    after_midnight: bool = False  # created at the processor after the business date
    booked_twice: bool = False  # two ledger rows: a duplicate key


# A processor's day: every kind of row the contract names, and the impacts the test expects
# (break_amount in USD at FX; the ledger's currency when it has one, else the processor's).
DAY2_PAYMENTS = (
    Payment("P01", (100.0, "USD"), (100.0, "USD"), "matched"),
    Payment("P02", (50.0, "USD"), (50.0, "USD"), "timing", after_midnight=True),
    Payment("P03", (1000.0, "EUR"), (2500.0, "EUR"), "amount"),  # 1500 EUR = 1620 USD
    Payment("P04", (800.0, "GBP"), None, "missing_in_ledger"),  # 1016 USD
    Payment("P05", None, (300.0, "USD"), "missing_at_processor"),
    Payment("P06", (200.0, "USD"), (200.0, "EUR"), "currency"),  # 216 USD
    Payment("P07", (5000.0, "XYZ"), None, "missing_in_ledger"),  # no rate: no impact
    Payment("P08", None, (10.0, "USD"), "duplicate", booked_twice=True),
    Payment("P09", (2000.0, "USD"), (1000.0, "USD"), "amount"),  # 1000 USD: exactly high value
    Payment("P10", (75.0, "USD"), (75.0, "USD"), "matched"),
)
# key -> (stored status, break_type, currency, impact_amount) of every break of DAY2_PAYMENTS
DAY2_BREAKS = {
    "P02": ("matched", "timing", "USD", Decimal("0")),
    "P03": ("mismatched", "amount", "EUR", Decimal("1620")),
    "P04": ("processor_only", "missing_in_ledger", "GBP", Decimal("1016")),
    "P05": ("ledger_only", "missing_at_processor", "USD", Decimal("300")),
    "P06": ("mismatched", "currency", "EUR", Decimal("216")),
    "P07": ("processor_only", "missing_in_ledger", "XYZ", None),
    "P08": ("duplicate", "duplicate", None, None),
    "P09": ("mismatched", "amount", "USD", Decimal("1000")),
}
# the day before: P03 broke already (its first-seen date carries), P11 broke and was fixed
DAY1_PAYMENTS = (
    Payment("P03", (1000.0, "EUR"), (2500.0, "EUR"), "amount"),
    Payment("P11", (9000.0, "USD"), None, "missing_in_ledger"),
    Payment("P01", (100.0, "USD"), (100.0, "USD"), "matched"),
)

SPEC = payments_spec("payments_mini", "reference", abs_tol=0)


def _side(payments: Sequence[Payment], side: str, day: dt.date) -> pl.DataFrame:
    rows = []
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
    for p in payments:
        value = p.processor if side == "processor" else p.ledger
        if value is None:
            continue
        at = (
            midnight + dt.timedelta(minutes=30)
            if p.after_midnight
            else midnight - dt.timedelta(hours=9)
        )
        copies = 2 if side == "ledger" and p.booked_twice else 1
        rows += [
            {"reference": p.reference, "amount": value[0], "currency": value[1], "at": at}
        ] * copies
    schema = {"reference": pl.String, "amount": pl.Float64, "currency": pl.String}
    return pl.DataFrame(rows, schema={**schema, "at": pl.Datetime("us", "UTC")})


def write_classified(
    out: Path, payments: Sequence[Payment], day: dt.date, *, high_value: float | None = HIGH_VALUE
) -> Path:
    """results.parquet and summary.json of a classified partition, as the payments contract says."""
    processor, ledger = _side(payments, "processor", day), _side(payments, "ledger", day)
    core = reconcile(
        processor.drop("at").lazy(),
        ledger.drop("at").lazy(),
        SPEC,
        sources=("stripe.json", "ledger.parquet"),
        inputs={"left": {"file": "stripe.json"}, "right": {"file": "ledger.parquet"}},
    )
    types = pl.DataFrame(
        {
            "reference": [p.reference for p in payments],
            "break_type": [p.break_type for p in payments],
        }
    )
    times = {
        "created_at": processor.group_by("reference").agg(pl.col("at").min().alias("created_at")),
        "booked_at": ledger.group_by("reference").agg(pl.col("at").min().alias("booked_at")),
    }
    currency = pl.coalesce("right_currency", "left_currency")
    rate = currency.replace_strict(FX, default=None, return_dtype=pl.Float64)
    at_stake = pl.when(pl.col("break_type").is_in(["matched", "timing"])).then(0.0)
    results = (
        core.results.join(types, on="reference", how="left", validate="m:1")
        .join(times["created_at"], on="reference", how="left", validate="m:1")
        .join(times["booked_at"], on="reference", how="left", validate="m:1")
        .with_columns(
            at_stake.otherwise(pl.col("break_amount")).alias("break_amount"),
            currency.alias("currency"),
        )
        .with_columns((pl.col("break_amount") * rate).round(6).alias("impact_amount"))
    )
    assert results["break_type"].null_count() == 0, "every reference needs its Payment"
    out.mkdir(parents=True)
    results.write_parquet(out / RESULTS_FILE)
    summary = {**core.summary, **_payments_keys(results, core.summary, high_value)}
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
    return out


def _payments_keys(
    results: pl.DataFrame, core: Mapping[str, Any], high_value: float | None
) -> dict[str, Any]:
    """classification, financial_impact, thresholds and checks, as the contract says."""
    rows = dict(results.group_by("break_type").len().iter_rows())
    amounts = dict(results.group_by("break_type").agg(pl.col("break_amount").sum()).iter_rows())
    converted = results.filter(pl.col("currency").is_in(list(FX)))
    rate = pl.col("currency").replace_strict(FX, return_dtype=pl.Float64)
    whole = pl.max_horizontal(pl.col("left_amount").abs(), pl.col("right_amount").abs())
    volume = float(converted.select((whole * rate).sum()).item())
    discrepancy = float(converted.select(pl.col("impact_amount").sum()).item())
    compliant = core["break_rate"] <= SPEC.thresholds.max_break_rate
    risk = "HIGH" if max(core["break_rate"], discrepancy / volume) >= 0.05 else "LOW"
    return {
        "classification": {
            "column": "break_type",
            "matched": "matched",
            "order": list(BREAK_TYPE_ORDER),
            "labels": {t: t.replace("_", " ") for t in BREAK_TYPE_ORDER},
            "counts": {t: int(rows.get(t, 0)) for t in ("matched", *BREAK_TYPE_ORDER)},
            "amounts": {t: float(amounts.get(t, 0.0)) for t in BREAK_TYPE_ORDER},
            "breaks": results.height - int(rows.get("matched", 0)),
        },
        "financial_impact": {
            "reporting_currency": "USD",
            "volume": round(volume, 6),
            "discrepancy_amount": round(discrepancy, 6),
            "discrepancy_rate": discrepancy / volume,
            "break_rate": core["break_rate"],
            "risk_level": risk,
            "compliance_status": "COMPLIANT" if compliant else "NON_COMPLIANT",
            "compliance_failures": [] if compliant else ["break rate over the 1.00% limit"],
            "by_currency": {},
            "unconverted": ["XYZ"] if results["currency"].is_in(["XYZ"]).any() else [],
        },
        "risk_level": risk,
        "threshold_passed": compliant,
        "thresholds": {
            "max_break_rate": SPEC.thresholds.max_break_rate,
            "max_discrepancy_rate": 0.005,
            "high_value_amount": high_value,
            "risk": {"medium": 0.02, "high": 0.05},
        },
        "checks": [
            {
                "name": "currency_codes",
                "side": side,
                "passed": side == "right",
                "observed": int(side == "left"),
                "expected": 0,
                "details": {"not_iso_4217": ["XYZ"] if side == "left" else []},
            }
            for side in ("left", "right")
        ],
    }


def make_outcome(
    result_dir: Path, *, source: str, business_date: dt.date, recon: str = "payments_recon"
) -> Outcome:
    """The Outcome a reconcile task would hand over for ``result_dir``: started at 03:00 the next
    day, 2.5 s long, the whole summary (checks included, as outcome_of hands it over)."""
    started = dt.datetime.combine(business_date + dt.timedelta(days=1), dt.time(3), dt.UTC)
    return result_outcome(
        result_dir,
        recon=recon,
        source=source,
        business_date=business_date,
        started_at=started,
        seconds=2.5,
    )


@pytest.fixture(scope="module")
def day2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_classified(tmp_path_factory.mktemp("stripe") / "day2", DAY2_PAYMENTS, DAY2)


@pytest.fixture(scope="module")
def day1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_classified(tmp_path_factory.mktemp("stripe") / "day1", DAY1_PAYMENTS, DAY1)


@pytest.fixture(scope="module")
def holdings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An unclassified (AUM-like) partition: labels dbf/mongo, no break types, no money."""
    spec = spec_from_dict(
        {
            "name": "aum_mini",
            "left": {"label": "dbf"},
            "right": {"label": "mongo"},
            "keys": ["folio"],
            "compare": {"units": {"abs_tol": 0.001}},
        }
    )
    dbf = pl.DataFrame({"folio": ["F1", "F2", "F3", "F3"], "units": [10.0, 20.0, 30.0, 30.0]})
    mongo = pl.DataFrame({"folio": ["F1", "F2", "F4"], "units": [10.0, 25.0, 40.0]})
    out = tmp_path_factory.mktemp("aum") / "result"
    reconcile_to_dir(dbf.lazy(), mongo.lazy(), spec, out, sources=("dbf", "mongo"))
    return out


# -- database helpers -----------------------------------------------------------------------------


hook = schema_hook_fixture(PG_CONN, ensure_schema)
query = query_fixture()


def load(hook: PostgresHook, outcome: Outcome, run: str = "manual__1") -> Any:
    return load_outcome(hook, outcome, dag_id="payments_recon", airflow_run_id=run)


def stored_breaks(query: Query, business_date: dt.date = DAY2) -> dict[str, tuple[Any, ...]]:
    rows = query(
        "SELECT key_text, status, break_type, currency, impact_amount FROM recon.breaks"
        " WHERE business_date = %s ORDER BY key_text",
        business_date,
    )
    return {
        r["key_text"]: (r["status"], r["break_type"], r["currency"], r["impact_amount"])
        for r in rows
    }


# -- classified partitions ------------------------------------------------------------------------


def test_every_break_type_is_stored_with_its_currency_and_impact(
    hook: PostgresHook, query: Query, day2: Path
) -> None:
    """Rows whose break_type is not matched, timing included (core status matched)."""
    stats = load(hook, make_outcome(day2, source="stripe", business_date=DAY2))
    summary = json.loads((day2 / SUMMARY_FILE).read_text())
    assert stats["breaks"] == summary["classification"]["breaks"] == len(DAY2_BREAKS) == 8
    assert summary["breaks"] == 7  # the core's: timing is no core break
    assert stored_breaks(query) == DAY2_BREAKS

    (timing,) = query("SELECT * FROM recon.breaks WHERE break_type = 'timing'")
    assert (timing["break_amount"], timing["mismatched_fields"], timing["age_days"]) == (0, [], 0)
    assert timing["left_values"] == timing["right_values"] == {"amount": 50.0, "currency": "USD"}
    (p03,) = query("SELECT break_amount, difference FROM recon.breaks WHERE key_text = 'P03'")
    assert p03 == {"break_amount": Decimal("1500"), "difference": Decimal("-1500")}

    checks = query("SELECT side, check_name, passed FROM recon.data_quality_checks")
    assert {(c["side"], c["passed"]) for c in checks if c["check_name"] == "currency_codes"} == {
        ("left", False),
        ("right", True),
    }


def test_run_row_holds_the_financial_impact_and_the_counts_per_break_type(
    hook: PostgresHook, query: Query, day2: Path
) -> None:
    load(hook, make_outcome(day2, source="stripe", business_date=DAY2))
    summary = json.loads((day2 / SUMMARY_FILE).read_text())
    impact = summary["financial_impact"]
    (run,) = query("SELECT * FROM recon.runs")
    assert {k: run[k] for k in ("reporting_currency", "compliance_status", "discrepancy_rate")} == {
        "reporting_currency": "USD",
        "compliance_status": "NON_COMPLIANT",
        "discrepancy_rate": impact["discrepancy_rate"],
    }
    # in USD, the larger side of each converted row: XYZ and the duplicate have no rate
    # 100 + 50 + 2500 * 1.08 + 800 * 1.27 + 300 + 200 * 1.08 + 2000 + 75
    assert run["volume"] == Decimal("6457") == Decimal(repr(impact["volume"]))
    assert run["impact_discrepancy_amount"] == Decimal("4152")  # 1620 + 1016 + 300 + 216 + 1000
    assert run["high_value_amount"] == Decimal("1000")
    assert run["breaks_by_type"] == {
        "missing_at_processor": 1,
        "missing_in_ledger": 2,
        "amount": 2,
        "currency": 1,
        "failed_payment": 0,
        "fee_mismatch": 0,
        "status": 0,
        "duplicate": 1,
        "invalid": 0,
        "timing": 1,
    }
    # the core's figures keep their meaning
    assert (run["breaks"], run["matched"], run["threshold_passed"]) == (7, 3, False)
    assert run["discrepancy_amount"] == Decimal(repr(summary["discrepancy_amount"]))


@pytest.fixture
def stripe_days_and_cams(
    hook: PostgresHook, day1: Path, day2: Path, holdings: Path
) -> PostgresHook:
    """The hook, stripe's day 1 and day 2 loaded, and an unclassified CAMS partition of day 2."""
    load(hook, make_outcome(day1, source="stripe", business_date=DAY1))
    load(hook, make_outcome(day2, source="stripe", business_date=DAY2))
    load(hook, make_outcome(holdings, source="CAMS", business_date=DAY2, recon="aum_recon"))
    return hook


def test_source_daily_metrics_has_a_row_per_processor_and_day(
    stripe_days_and_cams: PostgresHook, query: Query, day2: Path, holdings: Path
) -> None:
    load(stripe_days_and_cams, make_outcome(day2, source="paypal", business_date=DAY2))
    rows = query("SELECT * FROM recon.v_source_daily_metrics")
    assert [(r["recon"], r["source"], r["business_date"]) for r in rows] == [
        ("aum_recon", "CAMS", DAY2),
        ("payments_recon", "paypal", DAY2),
        ("payments_recon", "stripe", DAY2),
        ("payments_recon", "stripe", DAY1),
    ]
    summary = json.loads((day2 / SUMMARY_FILE).read_text())
    (run,) = query("SELECT * FROM recon.runs WHERE source = 'stripe' AND business_date = %s", DAY2)
    stripe = rows[2]
    assert list(stripe) == [
        *("recon", "source", "business_date", "run_id", "records", "total_keys", "breaks"),
        *("break_rate", "volume", "discrepancy_amount", "discrepancy_rate", "reporting_currency"),
        *("risk_level", "compliance_status", "threshold_passed", "breaks_by_type", "started_at"),
        *("finished_at", "duration_seconds", "status"),
    ]
    assert stripe == {
        "recon": "payments_recon",
        "source": "stripe",
        "business_date": DAY2,
        "run_id": run["run_id"],
        "records": summary["records"],
        "total_keys": summary["total_keys"],
        "breaks": 7,
        "break_rate": summary["break_rate"],
        "volume": Decimal("6457"),
        "discrepancy_amount": Decimal("4152"),  # in USD, not the core's mix of currencies
        "discrepancy_rate": summary["financial_impact"]["discrepancy_rate"],
        "reporting_currency": "USD",
        "risk_level": summary["risk_level"],
        "compliance_status": "NON_COMPLIANT",
        "threshold_passed": False,
        "breaks_by_type": run["breaks_by_type"],
        "started_at": run["started_at"],
        "finished_at": run["finished_at"],
        "duration_seconds": 2.5,
        "status": "succeeded",
    }
    aum = rows[0]
    assert (aum["volume"], aum["reporting_currency"], aum["compliance_status"]) == (
        None,
        None,
        None,
    )
    assert aum["discrepancy_amount"] == Decimal(
        repr(json.loads((holdings / SUMMARY_FILE).read_text())["discrepancy_amount"])
    )


def test_high_value_breaks_are_those_of_the_latest_runs_over_the_threshold(
    stripe_days_and_cams: PostgresHook, query: Query, day1: Path
) -> None:
    """Largest impact first; an older day's break (P11) is not open; the threshold is >=."""
    load(stripe_days_and_cams, make_outcome(day1, source="adyen", business_date=DAY1))
    rows = query("SELECT * FROM recon.v_high_value_breaks")
    assert [(r["source"], r["key_text"], r["impact_amount"]) for r in rows] == [
        ("adyen", "P11", Decimal("9000")),
        ("adyen", "P03", Decimal("1620")),
        ("stripe", "P03", Decimal("1620")),
        ("stripe", "P04", Decimal("1016")),
        ("stripe", "P09", Decimal("1000")),
    ]
    p03 = rows[2]
    assert {k: p03[k] for k in ("business_date", "first_seen_date", "age_days")} == {
        "business_date": DAY2,
        "first_seen_date": DAY1,
        "age_days": 1,
    }
    assert {k: p03[k] for k in ("status", "break_type", "currency", "reporting_currency")} == {
        "status": "mismatched",
        "break_type": "amount",
        "currency": "EUR",
        "reporting_currency": "USD",
    }
    assert (p03["left_values"], p03["right_values"]) == (
        {"amount": 1000.0, "currency": "EUR"},
        {"amount": 2500.0, "currency": "EUR"},
    )
    assert (p03["break_amount"], p03["high_value_amount"]) == (Decimal("1500"), Decimal("1000"))

    open_breaks = query("SELECT * FROM recon.v_open_breaks WHERE source = 'stripe'")
    assert list(open_breaks[0])[: len(FIRST_OPEN_BREAKS_COLUMNS)] == FIRST_OPEN_BREAKS_COLUMNS
    assert list(open_breaks[0])[len(FIRST_OPEN_BREAKS_COLUMNS) :] == [
        "break_type",
        "currency",
        "impact_amount",
    ]
    assert {
        r["key_text"]: (r["status"], r["break_type"], r["currency"], r["impact_amount"])
        for r in open_breaks
    } == DAY2_BREAKS


def test_no_threshold_no_high_value_breaks(
    hook: PostgresHook, query: Query, tmp_path: Path
) -> None:
    result = write_classified(tmp_path / "result", DAY2_PAYMENTS, DAY2, high_value=None)
    load(hook, make_outcome(result, source="stripe", business_date=DAY2))
    assert query("SELECT high_value_amount FROM recon.runs") == [{"high_value_amount": None}]
    assert query("SELECT * FROM recon.v_high_value_breaks") == []


def test_reload_replaces_a_classified_partition(
    hook: PostgresHook, query: Query, day2: Path
) -> None:
    """Same rows again, never twice."""
    outcome = make_outcome(day2, source="stripe", business_date=DAY2)
    first = load(hook, outcome, "scheduled__1")
    again = load(hook, outcome, "manual__rerun")
    assert (again["replaced"], again["previous"]["run_id"]) == (True, first["run_id"])
    assert again["breaks"] == first["breaks"] == 8
    assert again["checks"] == first["checks"]
    assert query("SELECT run_id FROM recon.runs") == [{"run_id": again["run_id"]}]
    assert stored_breaks(query) == DAY2_BREAKS
    counts = query("SELECT count(*) AS n, count(DISTINCT key_text) AS keys FROM recon.breaks")
    assert counts == [{"n": 8, "keys": 8}]
    assert query("SELECT count(*) AS n FROM recon.v_source_daily_metrics") == [{"n": 1}]


def test_results_and_classification_that_disagree_are_refused(
    pg_clean: EmbeddedPostgres, hook: PostgresHook, query: Query, day2: Path, tmp_path: Path
) -> None:
    """The break count checked is classification.breaks; a missing break_type column is named."""
    load(hook, make_outcome(day2, source="stripe", business_date=DAY2))
    before = query("SELECT break_id, run_id FROM recon.breaks ORDER BY break_id")

    spoilt = tmp_path / "spoilt"
    spoilt.mkdir()
    summary = json.loads((day2 / SUMMARY_FILE).read_text())
    summary["classification"]["breaks"] = 7  # the core's count: timing left out
    (spoilt / SUMMARY_FILE).write_text(json.dumps(summary))
    (spoilt / RESULTS_FILE).write_bytes((day2 / RESULTS_FILE).read_bytes())
    outcome = make_outcome(day2, source="stripe", business_date=DAY2) | {"result_dir": str(spoilt)}
    with pytest.raises(BadOutcomeError) as caught:
        load(hook, outcome)
    assert "8 break rows, but summary.json says 7 (classification.breaks)" in str(caught.value)

    pl.read_parquet(day2 / RESULTS_FILE).drop("break_type").write_parquet(spoilt / RESULTS_FILE)
    with pytest.raises(BadOutcomeError, match=r"results\.parquet: no column `break_type`"):
        load(hook, outcome)
    del summary["classification"]["column"]
    (spoilt / SUMMARY_FILE).write_text(json.dumps(summary))
    with pytest.raises(BadOutcomeError, match=r"summary\.json: no `classification\.column`"):
        load(hook, outcome)
    assert query("SELECT break_id, run_id FROM recon.breaks ORDER BY break_id") == before


# -- unclassified partitions ----------------------------------------------------------------------


def test_unclassified_partition_stores_its_status_as_break_type(
    hook: PostgresHook, query: Query, holdings: Path
) -> None:
    load(hook, make_outcome(holdings, source="CAMS", business_date=DAY2, recon="aum_recon"))
    breaks = query(
        "SELECT key_text, status, break_type, currency, impact_amount FROM recon.breaks"
        " ORDER BY key_text"
    )
    assert breaks == [
        {"key_text": k, "status": s, "break_type": s, "currency": None, "impact_amount": None}
        for k, s in (("F2", "mismatched"), ("F3", "duplicate"), ("F4", "mongo_only"))
    ]
    (run,) = query("SELECT * FROM recon.runs")
    assert run["breaks_by_type"] == {
        "mismatched": 1,
        "dbf_only": 0,
        "mongo_only": 1,
        "duplicate": 1,
        "invalid": 0,
    }
    financial = ("reporting_currency", "volume", "impact_discrepancy_amount", "discrepancy_rate")
    assert {
        k: run[k] for k in (*financial, "compliance_status", "high_value_amount")
    } == dict.fromkeys((*financial, "compliance_status", "high_value_amount"))
    assert query("SELECT * FROM recon.v_high_value_breaks") == []


# -- upgrading a database of the first schema -----------------------------------------------------


def first_schema() -> str:
    """schema.sql as first released (issue 3), kept as a test file: the upgrade path from it
    must keep working whatever schema.sql becomes."""
    return (Path(__file__).parent / "data" / "schema_v1.sql").read_text(encoding="utf-8")


def rows_of(pg: EmbeddedPostgres, sql: str, *params: Any) -> list[dict[str, Any]]:
    """A query on a connection of its own (the test resets the server, which ends connections)."""
    with pg.connect(autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(sql, params or None).fetchall()


def layout(query: Query) -> list[tuple[Any, ...]]:
    """Every column of the recon schema's tables and views, in order, with its type."""
    rows = query(
        "SELECT table_name, ordinal_position, column_name, data_type"
        " FROM information_schema.columns WHERE table_schema = 'recon' ORDER BY 1, 2"
    )
    return [tuple(r.values()) for r in rows]


def test_ensure_schema_upgrades_a_database_of_the_first_schema(
    pg_clean: EmbeddedPostgres, db_connections: dict[str, str], holdings: Path
) -> None:
    """The new columns arrive without losing a row; old breaks get their status as break type,
    old runs their counts per stored status; the upgraded layout is a new database's; the next
    load carries first-seen dates over from the old rows."""
    query = functools.partial(rows_of, pg_clean)
    hook = PostgresHook(postgres_conn_id=PG_CONN)
    ensure_schema(hook)
    fresh = layout(query)
    pg_clean.reset()

    old = first_schema()
    with pg_clean.connect() as conn:
        conn.execute(old)
        conn.execute(
            "INSERT INTO recon.schema_versions (sha256) VALUES (%s)",
            (hashlib.sha256(old.encode()).hexdigest(),),
        )
        (run_id,) = conn.execute(
            "INSERT INTO recon.runs (recon, source, business_date, spec, dag_id, airflow_run_id,"
            " left_label, right_label, matched, mismatched, left_only, right_only, duplicate,"
            " invalid, records, total_keys, breaks, break_rate, match_rate, discrepancy_amount,"
            " risk_level, threshold_passed, summary) VALUES ('aum_recon', 'CAMS', %s, 'aum_mini',"
            " 'aum_recon', 'scheduled__1', 'dbf', 'mongo', 7, 1, 2, 0, 0, 0, 10, 10, 3, 0.3, 0.7,"
            " 12.5, 'HIGH', false, '{}') RETURNING run_id",
            (DAY1,),
        ).fetchone() or (None,)
        for key, status, amount in (
            ("F2", "mismatched", 5),
            ("F8", "dbf_only", 7),
            ("F9", "dbf_only", 0.5),
        ):
            conn.execute(
                "INSERT INTO recon.breaks (run_id, recon, source, business_date, key, key_text,"
                " status, break_amount, first_seen_date, age_days) VALUES (%s, 'aum_recon', 'CAMS',"
                " %s, %s, %s, %s, %s, %s, 0)",
                (run_id, DAY1, json.dumps({"folio": key}), key, status, amount, DAY1),
            )
        conn.execute(
            "INSERT INTO recon.audit_log (actor, action, run_id) VALUES ('airflow:x', 'insert_partition', %s)",
            (run_id,),
        )
    before = {
        t: query(f"SELECT count(*) AS n FROM recon.{t}")[0]["n"]
        for t in ("runs", "breaks", "audit_log", "schema_versions")
    }
    assert ensure_schema(hook) is True
    assert layout(query) == fresh
    after = {
        t: query(f"SELECT count(*) AS n FROM recon.{t}")[0]["n"]
        for t in ("runs", "breaks", "audit_log", "schema_versions")
    }
    assert after == {**before, "schema_versions": 2}
    assert query(
        "SELECT key_text, status, break_type, currency, impact_amount FROM recon.breaks ORDER BY key_text"
    ) == [
        {"key_text": k, "status": s, "break_type": s, "currency": None, "impact_amount": None}
        for k, s in (("F2", "mismatched"), ("F8", "dbf_only"), ("F9", "dbf_only"))
    ]
    assert query("SELECT breaks_by_type FROM recon.runs") == [
        {
            "breaks_by_type": {
                "mismatched": 1,
                "dbf_only": 2,
                "mongo_only": 0,
                "duplicate": 0,
                "invalid": 0,
            }
        }
    ]
    assert ensure_schema(hook, force=True) is True  # applies again without changing a row
    assert query("SELECT count(*) AS n FROM recon.breaks WHERE break_type = status") == [{"n": 3}]

    stats = load_outcome(
        hook,
        make_outcome(holdings, source="CAMS", business_date=DAY2, recon="aum_recon"),
        dag_id="aum_recon",
        airflow_run_id="scheduled__2",
    )
    assert stats["carried_over"] == 1  # F2 broke on the old schema's day too
    ages = query(
        "SELECT key_text, first_seen_date, age_days, break_type FROM recon.v_open_breaks"
        " ORDER BY key_text"
    )
    assert ages == [
        {"key_text": "F2", "first_seen_date": DAY1, "age_days": 1, "break_type": "mismatched"},
        {"key_text": "F3", "first_seen_date": DAY2, "age_days": 0, "break_type": "duplicate"},
        {"key_text": "F4", "first_seen_date": DAY2, "age_days": 0, "break_type": "mongo_only"},
    ]
    metrics = query("SELECT business_date, breaks FROM recon.v_source_daily_metrics")
    assert metrics == [{"business_date": DAY2, "breaks": 3}, {"business_date": DAY1, "breaks": 3}]
