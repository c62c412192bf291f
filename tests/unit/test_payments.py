"""recon.payments on tiny literal frames: scope of the day, break types, money at stake, summary."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from recon.errors import SchemaError, SpecError
from recon.payments import BREAK_TYPES, Day, check_spec, financial_impact, reconcile_payments
from recon.result import RESULTS_FILE, SUMMARY_FILE
from recon.spec import ReconSpec, load_spec, spec_from_dict
from worlds.snapshots import LEDGER_SCHEMA, PROCESSOR_SCHEMA, UTC_US

SPEC_PATH = Path(__file__).parents[2] / "config" / "specs" / "payments.yaml"
SPEC = load_spec(SPEC_PATH)
D = dt.date(2026, 3, 10)
DAY = Day(D, dt.timedelta(hours=1))


def at(days: int, hour: int, minute: int = 0) -> dt.datetime:
    """A UTC time ``days`` after the business date D."""
    return dt.datetime.combine(D + dt.timedelta(days=days), dt.time(hour, minute), tzinfo=dt.UTC)


def txn(
    reference: str | None,
    gross: str = "100.00",
    *,
    fee: str = "2.90",
    currency: str | None = "USD",
    status: str = "succeeded",
    created: dt.datetime | None = None,
    txn_id: str | None = None,
) -> dict[str, Any]:
    """One processor record (the hooks' normalised snapshot), created at noon on D by default."""
    return {
        "processor": "stripe",
        "transaction_id": txn_id or f"tx_{reference}",
        "gross": Decimal(gross),
        "fee": Decimal(fee),
        "net": Decimal(gross) - Decimal(fee),
        "currency": currency,
        "status": status,
        "created_at": created or at(0, 12),
        "reference": reference,
    }


def booking(
    reference: str | None,
    amount: str = "100.00",
    *,
    fee: str = "2.90",
    currency: str = "USD",
    status: str = "paid",
    booked: dt.datetime | None = None,
    processor: str = "stripe",
    payment_id: str | None = None,
) -> dict[str, Any]:
    """One ledger booking (our words for the status), booked at 10:00 on D by default."""
    return {
        "payment_id": payment_id or f"pay_{reference}",
        "processor": processor,
        "processor_reference": reference,
        "amount": Decimal(amount),
        "currency": currency,
        "fee": Decimal(fee),
        "status": status,
        "booked_at": booked or at(0, 10),
    }


def run_into(
    out_dir: Path,
    processor: list[dict[str, Any]],
    ledger: list[dict[str, Any]],
    spec: ReconSpec = SPEC,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Reconcile stripe's day D (W = 1h) into ``out_dir``: (results, summary)."""
    result = reconcile_payments(
        pl.DataFrame(processor, schema=PROCESSOR_SCHEMA).lazy(),
        pl.DataFrame(ledger, schema=LEDGER_SCHEMA).lazy(),
        spec,
        processor_name="stripe",
        day=DAY,
        out_dir=out_dir,
    )
    return result.results, result.summary


def row_of(results: pl.DataFrame, reference: str) -> dict[str, Any]:
    rows = results.filter(pl.col("reference") == reference)
    assert rows.height == 1, f"{reference}: {rows.height} result rows"
    return rows.row(0, named=True)


def spec_with(**changes: Any) -> ReconSpec:
    """The real payments spec with some top-level settings replaced (validated again)."""
    data = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return spec_from_dict({**data, **changes})


def check(summary: dict[str, Any], name: str, side: str) -> dict[str, Any]:
    found = [c for c in summary["checks"] if c["name"] == name and c["side"] == side]
    assert len(found) == 1, f"{name}/{side}: {len(found)} checks"
    return found[0]


# -- break types, one case each ---------------------------------------------------------


def test_exact_match_and_ledger_paid_matches_processor_succeeded(tmp_path: Path) -> None:
    results, summary = run_into(tmp_path, [txn("R1")], [booking("R1", status="paid")])
    r1 = row_of(results, "R1")
    assert (r1["status"], r1["break_type"]) == ("matched", "matched")
    assert (r1["break_amount"], r1["impact_amount"]) == (0.0, 0.0)
    assert (r1["left_status"], r1["right_status"]) == ("succeeded", "succeeded")  # the map rule
    assert (r1["currency"], r1["transaction_id"], r1["payment_id"]) == ("USD", "tx_R1", "pay_R1")
    assert summary["classification"]["breaks"] == 0


def test_settled_after_midnight_inside_the_window_is_timing(tmp_path: Path) -> None:
    results, summary = run_into(
        tmp_path, [txn("R1", created=at(1, 0, 30))], [booking("R1", booked=at(0, 23, 50))]
    )
    r1 = row_of(results, "R1")
    assert (r1["status"], r1["break_type"]) == ("matched", "timing")  # a break by type only
    assert (r1["break_amount"], r1["impact_amount"]) == (0.0, 0.0)
    assert (r1["created_at"], r1["booked_at"]) == (at(1, 0, 30), at(0, 23, 50))
    assert summary["breaks"] == 0 and summary["classification"]["breaks"] == 1
    assert summary["financial_impact"]["discrepancy_amount"] == 0.0


def test_record_created_after_midnight_for_none_of_ds_bookings_is_excluded(
    tmp_path: Path,
) -> None:
    results, summary = run_into(
        tmp_path,
        [txn("R1"), txn("N1", created=at(1, 0, 30))],  # N1: D+1's business
        [booking("R1")],
    )
    assert results["reference"].to_list() == ["R1"]
    assert summary["scope"]["processor"] == {
        "rows": 2,
        "in_scope": 1,
        "excluded_other_day": 0,
        "excluded_next_day": 1,
    }


def test_record_of_a_payment_booked_the_day_before_is_excluded(tmp_path: Path) -> None:
    results, summary = run_into(
        tmp_path,
        [txn("R1"), txn("P1", created=at(0, 0, 20))],  # D-1's timing case, settled on D
        [booking("R1"), booking("P1", booked=at(-1, 23, 40))],
    )
    assert results["reference"].to_list() == ["R1"]  # never missing_in_ledger on D
    assert summary["scope"]["processor"]["excluded_other_day"] == 1
    assert summary["scope"]["processor"]["excluded_next_day"] == 0
    assert summary["scope"]["ledger"] == {"rows": 2, "in_scope": 1, "other_days": 1}


def test_other_processors_bookings_are_ignored_other_days_counted(tmp_path: Path) -> None:
    results, summary = run_into(
        tmp_path,
        [txn("R1")],
        [
            booking("R1", processor="square"),  # same reference, another processor's payment
            booking("S1", processor="square"),
            booking("Y1", booked=at(-1, 9)),
            booking("T1", booked=at(1, 9)),
        ],
    )
    assert results["reference"].to_list() == ["R1"]
    assert row_of(results, "R1")["break_type"] == "missing_in_ledger"
    assert summary["scope"]["ledger"] == {"rows": 2, "in_scope": 0, "other_days": 2}


@pytest.mark.parametrize(
    ("processor", "ledger", "kind", "at_stake", "impact"),
    [
        pytest.param(
            txn("R1", "-50.00", fee="0", status="failed"),  # Stripe: payment_failure_refund
            booking("R1", "50.00", fee="1.75"),
            "failed_payment",
            50.0,  # the ledger amount, not |-50 - 50|
            50.0,
            id="failed-at-processor",
        ),
        pytest.param(
            txn("R1", "10.00", currency="EUR"),
            booking("R1", "10.00", currency="GBP"),
            "currency",
            10.0,  # the ledger amount, in the ledger's currency
            12.7,
            id="currency",
        ),
        pytest.param(
            txn("R1", "11.00", currency="EUR"),
            booking("R1", "10.00", currency="GBP"),
            "currency",  # checked before the amount: the digits mean nothing across currencies
            10.0,
            12.7,
            id="currency-and-amount",
        ),
        pytest.param(
            txn("R1", "-50.00", fee="0", currency="EUR", status="failed"),
            booking("R1", "50.00", fee="1.75", currency="USD"),
            "failed_payment",  # checked first of all
            50.0,
            50.0,
            id="failed-in-another-currency",
        ),
        pytest.param(
            txn("R1", "100.01"), booking("R1", "100.00"), "amount", 0.01, 0.01, id="amount-cent"
        ),
        pytest.param(
            txn("R1", "100.50", fee="3.00"),
            booking("R1", "100.00", fee="2.90"),
            "amount",  # checked before the fee
            0.5,
            0.5,
            id="amount-and-fee",
        ),
        pytest.param(
            txn("R1", "1000", fee="30", currency="JPY"),
            booking("R1", "1001", fee="30", currency="JPY"),
            "amount",
            1.0,
            0.0066,
            id="amount-jpy",
        ),
        pytest.param(
            txn("R1", "50.00", fee="1.00", currency="EUR"),
            booking("R1", "50.00", fee="1.50", currency="EUR"),
            "fee_mismatch",
            0.5,
            0.54,
            id="fee",
        ),
        pytest.param(
            txn("R1", status="refunded"),
            booking("R1", status="paid"),
            "status",
            100.0,
            100.0,
            id="refunded-vs-paid",
        ),
        pytest.param(
            txn("R1", status="pending"),
            booking("R1", status="paid"),
            "status",
            100.0,
            100.0,
            id="pending-vs-paid",
        ),
    ],
)
def test_pair_that_differs_has_its_break_type_and_money_at_stake(
    tmp_path: Path,
    processor: dict[str, Any],
    ledger: dict[str, Any],
    kind: str,
    at_stake: float,
    impact: float,
) -> None:
    results, _ = run_into(tmp_path, [processor], [ledger])
    r1 = row_of(results, "R1")
    assert (r1["status"], r1["break_type"]) == ("mismatched", kind)
    assert r1["break_amount"] == pytest.approx(at_stake)
    assert r1["impact_amount"] == pytest.approx(impact)
    assert r1["currency"] == ledger["currency"]


def test_one_sided_payments_are_missing_on_the_other_side(tmp_path: Path) -> None:
    results, _ = run_into(
        tmp_path,
        [txn("S1", "25.00", currency="EUR")],
        [booking("B1", "40.00", currency="GBP")],
    )
    booked = row_of(results, "B1")
    assert (booked["break_type"], booked["break_amount"]) == ("missing_at_processor", 40.0)
    assert (booked["currency"], booked["impact_amount"]) == ("GBP", pytest.approx(50.8))
    settled = row_of(results, "S1")
    assert (settled["break_type"], settled["break_amount"]) == ("missing_in_ledger", 25.0)
    assert (settled["currency"], settled["impact_amount"]) == ("EUR", pytest.approx(27.0))


@pytest.mark.parametrize(
    ("processor", "ledger", "side", "ids"),
    [
        pytest.param(
            [txn("R1", "80.00", txn_id="tx_a"), txn("R1", "80.00", txn_id="tx_b")],
            [booking("R1", "80.00")],
            "left",
            ("tx_a,tx_b", "pay_R1"),
            id="settled-twice",
        ),
        pytest.param(
            [txn("R1", "80.00")],
            [booking("R1", "80.00", payment_id="p1"), booking("R1", "80.00", payment_id="p2")],
            "right",
            ("tx_R1", "p1,p2"),
            id="booked-twice",
        ),
        pytest.param(
            [txn("R1", "80.00", txn_id="tx_a"), txn("R1", "80.00", txn_id="tx_b")],
            [],
            "left",
            ("tx_a,tx_b", None),
            id="settled-twice-never-booked",
        ),
    ],
)
def test_duplicate_puts_one_payment_at_stake(
    tmp_path: Path,
    processor: list[dict[str, Any]],
    ledger: list[dict[str, Any]],
    side: str,
    ids: tuple[str | None, str | None],
) -> None:
    results, _ = run_into(tmp_path, processor, ledger)
    r1 = row_of(results, "R1")
    assert (r1["status"], r1["break_type"], r1["side"]) == ("duplicate", "duplicate", side)
    assert (r1["break_amount"], r1["currency"], r1["impact_amount"]) == (80.0, "USD", 80.0)
    assert (r1["transaction_id"], r1["payment_id"]) == ids
    assert (r1["left_rows"], r1["right_rows"]) == (len(processor), len(ledger))


def test_duplicate_currency_is_normalised_like_every_other_rows(tmp_path: Path) -> None:
    """The spec normalises currency (strip, upper): a duplicate's currency must be too."""
    results, summary = run_into(
        tmp_path,
        [txn("R1", currency="usd", txn_id="tx_a"), txn("R1", currency="usd", txn_id="tx_b")],
        [],
    )
    r1 = row_of(results, "R1")
    assert (r1["break_type"], r1["currency"], r1["impact_amount"]) == ("duplicate", "USD", 100.0)
    assert summary["financial_impact"]["unconverted"] == []


@pytest.mark.parametrize(
    ("processor", "ledger", "side", "column"),
    [
        pytest.param([txn("R1"), txn(None)], [booking("R1")], "left", "reference", id="processor"),
        pytest.param(
            [txn("R1")],
            [booking("R1"), booking(None)],
            "right",
            "processor_reference",
            id="ledger",
        ),
    ],
)
def test_null_reference_is_invalid(
    tmp_path: Path,
    processor: list[dict[str, Any]],
    ledger: list[dict[str, Any]],
    side: str,
    column: str,
) -> None:
    results, summary = run_into(tmp_path, processor, ledger)
    invalid = results.filter(pl.col("break_type") == "invalid")
    assert invalid.height == 1
    row = invalid.row(0, named=True)
    assert (row["status"], row["side"], row["break_amount"]) == ("invalid", side, 0.0)
    assert row["reason"] == f"key `{column}` is empty"
    assert row_of(results, "R1")["break_type"] == "matched"
    assert summary["classification"]["counts"]["invalid"] == 1


def test_reference_is_matched_in_scope_as_the_spec_normalises_it(tmp_path: Path) -> None:
    """`reference: [strip]`: a padded reference settled after midnight is still D's payment."""
    results, summary = run_into(
        tmp_path, [txn("R1 ", created=at(1, 0, 30))], [booking("R1", booked=at(0, 23, 50))]
    )
    assert summary["scope"]["processor"]["excluded_next_day"] == 0
    r1 = row_of(results, "R1")
    assert (r1["status"], r1["break_type"], r1["break_amount"]) == ("matched", "timing", 0.0)


# -- a day of every kind: summary, scope, conservation ----------------------------------

DAY_PROCESSOR = [
    txn("R1"),  # matched
    txn("R2", "100.01"),  # amount, 0.01 USD
    txn("R3", "200.00", created=at(1, 0, 30)),  # timing
    # R4: booked, never settled (40 USD)
    txn("R5", "50.00", fee="1.00", currency="EUR"),  # fee_mismatch, 0.50 EUR
    txn("R6", "-30.00", fee="0", currency="EUR", status="failed"),  # failed_payment, 30 EUR
    txn("R7", "10.00", currency="EUR"),  # currency: the ledger says 10 GBP
    txn("R8", "25.00", currency="CHF"),  # missing_in_ledger, 25 CHF (no rate)
    txn("X1", "70.00", created=at(1, 0, 30)),  # excluded: D+1's
    txn("X2", "80.00", created=at(0, 0, 20)),  # excluded: booked on D-1
]
DAY_LEDGER = [
    booking("R1"),
    booking("R2", "100.00"),
    booking("R3", "200.00", booked=at(0, 23, 50)),
    booking("R4", "40.00"),
    booking("R5", "50.00", fee="1.50", currency="EUR"),
    booking("R6", "30.00", fee="0.90", currency="EUR"),
    booking("R7", "10.00", currency="GBP"),
    booking("X2", "80.00", booked=at(-1, 23, 40)),
    booking("Y1", "60.00", booked=at(1, 9)),  # D+1's booking
    booking("Z1", "90.00", processor="square"),  # another processor's
]


@pytest.fixture
def day_run(tmp_path: Path) -> tuple[pl.DataFrame, dict[str, Any]]:
    return run_into(tmp_path / "out", DAY_PROCESSOR, DAY_LEDGER)


def test_every_kind_of_a_day_is_classified(day_run: tuple[pl.DataFrame, dict[str, Any]]) -> None:
    results, _ = day_run
    got = dict(zip(results["reference"], results["break_type"], strict=True))
    assert got == {
        "R1": "matched",
        "R2": "amount",
        "R3": "timing",
        "R4": "missing_at_processor",
        "R5": "fee_mismatch",
        "R6": "failed_payment",
        "R7": "currency",
        "R8": "missing_in_ledger",
    }
    impact = dict(zip(results["reference"], results["impact_amount"], strict=True))
    assert impact == pytest.approx(
        {"R1": 0, "R2": 0.01, "R3": 0, "R4": 40, "R5": 0.54, "R6": 32.4, "R7": 12.7, "R8": None}
    )
    assert results["break_type"].null_count() == 0


def test_classification_agrees_with_the_rows(day_run: tuple[pl.DataFrame, dict[str, Any]]) -> None:
    results, summary = day_run
    classification = summary["classification"]
    assert classification["order"] == list(BREAK_TYPES)
    assert classification["labels"]["missing_at_processor"] == "missing at processor"
    assert classification["counts"] == {
        "matched": 1,
        "missing_at_processor": 1,
        "missing_in_ledger": 1,
        "amount": 1,
        "currency": 1,
        "failed_payment": 1,
        "fee_mismatch": 1,
        "status": 0,
        "duplicate": 0,
        "invalid": 0,
        "timing": 1,
    }
    assert classification["amounts"] == pytest.approx(
        {
            "missing_at_processor": 40.0,
            "missing_in_ledger": 25.0,
            "amount": 0.01,
            "currency": 10.0,
            "failed_payment": 30.0,
            "fee_mismatch": 0.5,
            "status": 0.0,
            "duplicate": 0.0,
            "invalid": 0.0,
            "timing": 0.0,
        }
    )
    per_type = results.group_by("break_type").agg(pl.len(), pl.col("break_amount").sum())
    for kind, rows, amount in per_type.iter_rows():
        assert classification["counts"][kind] == rows
        if kind != "matched":
            assert classification["amounts"][kind] == pytest.approx(amount)
    assert classification["breaks"] == results.filter(pl.col("break_type") != "matched").height
    assert summary["labels"] == {"left": "processor", "right": "ledger"}


def test_financial_impact_per_currency_and_in_usd(
    day_run: tuple[pl.DataFrame, dict[str, Any]],
) -> None:
    _, summary = day_run
    impact = summary["financial_impact"]
    assert impact["by_currency"] == {
        "CHF": {
            "transactions": 1,
            "volume": 25.0,
            "discrepancy_amount": 25.0,
            "discrepancy_rate": 1.0,
        },
        "EUR": {
            "transactions": 2,
            "volume": 80.0,
            "discrepancy_amount": 30.5,
            "discrepancy_rate": pytest.approx(30.5 / 80),
        },
        "GBP": {
            "transactions": 1,
            "volume": 10.0,
            "discrepancy_amount": 10.0,
            "discrepancy_rate": 1.0,
        },
        "USD": {  # R1, R2, R3 (timing: volume, no discrepancy) and R4
            "transactions": 4,
            "volume": 440.01,
            "discrepancy_amount": 40.01,
            "discrepancy_rate": pytest.approx(40.01 / 440.01),
        },
    }
    volume = 440.01 + 80 * 1.08 + 10 * 1.27  # CHF has no rate: left out
    discrepancy = 40.01 + 30.5 * 1.08 + 10 * 1.27
    assert impact["reporting_currency"] == "USD"
    assert impact["unconverted"] == ["CHF"]
    assert impact["volume"] == pytest.approx(volume)
    assert impact["discrepancy_amount"] == pytest.approx(discrepancy)
    assert impact["discrepancy_rate"] == pytest.approx(discrepancy / volume)
    assert impact["break_rate"] == 6 / 8  # R1 and R3 are core matches
    assert (impact["risk_level"], impact["compliance_status"]) == ("HIGH", "NON_COMPLIANT")
    assert impact["compliance_failures"] == [
        "break rate 75.00% is over the 1.00% limit",
        "discrepancy rate 15.89% is over the 0.50% limit",
    ]
    assert (summary["risk_level"], summary["threshold_passed"]) == ("HIGH", False)
    assert summary["thresholds"] == {
        "max_break_rate": 0.01,
        "max_discrepancy_rate": 0.005,
        "high_value_amount": 500.0,
        "risk": {"medium": 0.02, "high": 0.05},
    }


def test_every_row_is_in_the_results_or_out_of_scope(
    day_run: tuple[pl.DataFrame, dict[str, Any]],
) -> None:
    results, summary = day_run
    scope = summary["scope"]
    stripe_bookings = [b for b in DAY_LEDGER if b["processor"] == "stripe"]
    assert scope["processor"] == {
        "rows": 9,
        "in_scope": 7,
        "excluded_other_day": 1,
        "excluded_next_day": 1,
    }
    assert scope["ledger"] == {"rows": 9, "in_scope": 7, "other_days": 2}
    processor = scope["processor"]
    excluded = processor["excluded_other_day"] + processor["excluded_next_day"]
    assert results["left_rows"].sum() + excluded == len(DAY_PROCESSOR)
    assert results["right_rows"].sum() + scope["ledger"]["other_days"] == len(stripe_bookings)
    assert {"X1", "X2", "Y1", "Z1"}.isdisjoint(results["reference"].to_list())
    assert summary["row_conservation"]["ok"] is True
    assert scope["processor_window"] == ["2026-03-10T00:00:00+00:00", "2026-03-11T01:00:00+00:00"]
    assert check(summary, "scope", "both")["observed"] == {
        "processor": processor,
        "ledger": scope["ledger"],
    }


# -- compliance and risk ----------------------------------------------------------------

# four payments of D, one of them 10.00 USD apart: break rate 25%, discrepancy rate 10 / 410
FOUR = (
    [txn("R1"), txn("R2"), txn("R3"), txn("R4", "110.00")],
    [booking("R1"), booking("R2"), booking("R3"), booking("R4", "100.00")],
)


@pytest.mark.parametrize(
    ("thresholds", "failures"),
    [
        pytest.param(
            {"max_break_rate": 0.3, "max_discrepancy_rate": 0.03}, [], id="under-both-limits"
        ),
        pytest.param({"max_break_rate": 0.25}, [], id="at-the-break-rate-limit"),
        pytest.param(
            {"max_break_rate": 0.2},
            ["break rate 25.00% is over the 20.00% limit"],
            id="over-the-break-rate-limit",
        ),
        pytest.param(
            {"max_break_rate": 0.3, "max_discrepancy_rate": 0.02},
            ["discrepancy rate 2.44% is over the 2.00% limit"],
            id="over-the-discrepancy-limit",
        ),
    ],
)
def test_compliance_against_the_spec_thresholds(
    tmp_path: Path, thresholds: dict[str, Any], failures: list[str]
) -> None:
    _, summary = run_into(tmp_path, *FOUR, spec=spec_with(thresholds=thresholds))
    impact = summary["financial_impact"]
    assert impact["compliance_failures"] == failures
    assert impact["compliance_status"] == ("NON_COMPLIANT" if failures else "COMPLIANT")
    assert summary["threshold_passed"] is (impact["compliance_status"] == "COMPLIANT")
    assert summary["risk_level"] == impact["risk_level"]


@pytest.mark.parametrize(
    ("risk", "level"),
    [
        pytest.param({"medium": 0.3, "high": 0.5}, "LOW", id="low"),
        pytest.param({"medium": 0.2501, "high": 0.5}, "LOW", id="just-under-medium"),
        pytest.param({"medium": 0.25, "high": 0.5}, "MEDIUM", id="at-medium"),
        pytest.param({"medium": 0.1, "high": 0.2501}, "MEDIUM", id="just-under-high"),
        pytest.param({"medium": 0.1, "high": 0.25}, "HIGH", id="at-high"),
    ],
)
def test_risk_level_from_the_break_rate(tmp_path: Path, risk: dict[str, float], level: str) -> None:
    spec = spec_with(thresholds={"max_break_rate": 1, "risk": risk})
    _, summary = run_into(tmp_path, *FOUR, spec=spec)
    assert summary["financial_impact"]["break_rate"] == 0.25
    assert summary["financial_impact"]["risk_level"] == level
    assert summary["risk_level"] == level
    assert summary["threshold_passed"] is True


def test_risk_level_from_the_discrepancy_rate_when_it_is_higher(tmp_path: Path) -> None:
    """One small match and one big missing payment: 50% of keys, 99.9% of the money."""
    spec = spec_with(thresholds={"max_break_rate": 1, "risk": {"medium": 0.6, "high": 0.9}})
    _, summary = run_into(
        tmp_path, [txn("R1", "1.00")], [booking("R1", "1.00"), booking("R2", "1000.00")], spec
    )
    impact = summary["financial_impact"]
    assert impact["break_rate"] == 0.5
    assert impact["discrepancy_rate"] == pytest.approx(1000 / 1001)
    assert (impact["risk_level"], summary["risk_level"]) == ("HIGH", "HIGH")


# -- data-quality checks ----------------------------------------------------------------


def test_quality_checks_flag_unknown_currencies_and_unexpected_negatives(
    tmp_path: Path,
) -> None:
    _, summary = run_into(
        tmp_path,
        [
            txn("Q1", currency="XXX"),
            txn("Q2", currency=None),
            txn("Q3", currency=" usd "),  # normalised like the spec: fine
            txn("Q4", "-20.00", status="succeeded"),  # a negative charge: suspicious
            txn("Q5", "-20.00", status="refunded"),  # negative by design at the processor
            txn("Q6", "-20.00", fee="0", status="failed"),
        ],
        [booking("L1", "-20.00"), booking("L2")],
    )
    currencies = check(summary, "currency_codes", "left")
    assert (currencies["passed"], currencies["observed"]) == (False, 2)
    assert currencies["details"] == {"not_iso_4217": ["XXX", "(empty)"]}
    assert check(summary, "currency_codes", "right")["passed"] is True
    negatives = check(summary, "negative_amounts", "left")
    assert (negatives["passed"], negatives["observed"], negatives["details"]) == (
        False,
        1,
        {"rows": 6},
    )
    negatives = check(summary, "negative_amounts", "right")
    assert (negatives["passed"], negatives["observed"]) == (False, 1)


def test_quality_checks_pass_on_clean_inputs(tmp_path: Path) -> None:
    _, summary = run_into(tmp_path, [txn("R1")], [booking("R1")])
    assert [(c["name"], c["side"], c["passed"]) for c in summary["checks"]] == [
        ("currency_codes", "left", True),
        ("negative_amounts", "left", True),
        ("currency_codes", "right", True),
        ("negative_amounts", "right", True),
        ("scope", "both", True),
    ]


# -- the spec and the output folder -----------------------------------------------------


@pytest.mark.parametrize(
    ("compare", "missing"),
    [
        pytest.param(
            {"amount": {"left": "gross", "right": "amount"}, "currency": {}, "status": {}},
            "fee",
            id="no-fee",
        ),
        pytest.param(
            {"amount": {"left": "gross", "right": "amount"}, "currency": {}},
            "fee, status",
            id="no-fee-no-status",
        ),
    ],
)
def test_spec_without_a_compare_field_of_the_break_types_is_refused(
    compare: dict[str, Any], missing: str
) -> None:
    with pytest.raises(SpecError, match=f"missing: {missing}"):
        check_spec(spec_with(compare=compare))


def test_the_real_spec_passes_check_spec() -> None:
    check_spec(SPEC)


def test_results_and_summary_are_written(
    tmp_path: Path, day_run: tuple[pl.DataFrame, dict[str, Any]]
) -> None:
    results, summary = day_run
    out = tmp_path / "out"
    assert_frame_equal(pl.read_parquet(out / RESULTS_FILE), results)
    written = json.loads((out / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(summary, default=str))
    extra = {
        "break_type": pl.String,
        "currency": pl.String,
        "impact_amount": pl.Float64,
        "created_at": UTC_US,
        "booked_at": UTC_US,
    }
    assert {name: results.schema[name] for name in extra} == extra


@pytest.mark.parametrize(
    ("spec", "ledger", "error"),
    [
        pytest.param(
            spec_with(
                compare={
                    "amount": {"left": "gross", "right": "amount"},
                    "currency": {},
                    "status": {},
                }
            ),
            [booking("R1")],
            SpecError,
            id="spec-without-fee",
        ),
        pytest.param(
            SPEC, [{k: v for k, v in booking("R1").items() if k != "fee"}], SchemaError, id="no-fee"
        ),
    ],
)
def test_failing_run_leaves_the_earlier_output_as_it_was(
    tmp_path: Path, spec: ReconSpec, ledger: list[dict[str, Any]], error: type[Exception]
) -> None:
    run_into(tmp_path, [txn("R1")], [booking("R1")])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(before) == {RESULTS_FILE, SUMMARY_FILE}
    schema = {k: v for k, v in LEDGER_SCHEMA.items() if k in ledger[0]}
    with pytest.raises(error, match="fee"):
        reconcile_payments(
            pl.DataFrame([txn("R1", "5.00")], schema=PROCESSOR_SCHEMA).lazy(),
            pl.DataFrame(ledger, schema=schema).lazy(),
            spec,
            processor_name="stripe",
            day=DAY,
            out_dir=tmp_path,
        )
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_rate_just_over_its_limit_is_shown_with_the_digits_that_tell_them_apart() -> None:
    """0.501 % against a 0.5 % limit must not read "0.50% is over the 0.50% limit"."""
    spec = SPEC.model_copy(
        update={"thresholds": SPEC.thresholds.model_copy(update={"max_break_rate": 0.005})}
    )
    no_rows = pl.DataFrame(
        schema={
            "left_amount": pl.Float64,
            "right_amount": pl.Float64,
            "break_amount": pl.Float64,
            "break_type": pl.String,
            "currency": pl.String,
        }
    )
    impact = financial_impact(no_rows, 0.00501, spec)
    assert impact["compliance_failures"] == ["break rate 0.501% is over the 0.500% limit"]
    assert financial_impact(no_rows, 0.012, spec)["compliance_failures"] == [
        "break rate 1.20% is over the 0.50% limit"
    ]
