"""Volume expectations (issue 17): a side with no rows, or far under its trailing median, makes
the partition incomplete, never clean; a calendar day the source is known to be empty is not
an alert. The pure rules, what they do to a summary, and the words of the alerts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from recon.errors import SpecError
from recon.pipeline_config.aum import load_aum_config
from recon.pipeline_config.payments import load_payments_config
from recon.pipeline_config.volume import (
    HistoryDay,
    VolumeRules,
    VolumeSettings,
    history_since,
    volume_finding,
    with_volume,
)
from recon_airflow.notifiers.messages import needs_alert, summary_email, summary_slack
from recon_airflow.outcome import Outcome
from worlds.outcomes import aum_source

FRIDAY = dt.date(2026, 11, 20)
LABELS = {"left": "processor", "right": "ledger"}
WEEKDAYS_ONLY = VolumeRules.model_validate({"calendar": {"empty_weekdays": ["saturday", "sunday"]}})


def history(day: dt.date, *counts: tuple[int | None, int | None]) -> list[HistoryDay]:
    """One earlier partition per business day before ``day`` (latest first), Mon-Fri."""
    dates = WEEKDAYS_ONLY.calendar.business_days_before(day, len(counts))
    return [
        HistoryDay(business_date=d, left=left, right=right)
        for d, (left, right) in zip(dates, counts, strict=True)
    ]


def test_both_sides_empty_is_incomplete_and_says_which_side_and_how_many() -> None:
    found = volume_finding(FRIDAY, {"left": 0, "right": 0}, [], VolumeRules(), LABELS)
    assert found["status"] == "incomplete"
    assert [(s["side"], s["rows"], s["minimum"], s["passed"]) for s in found["sides"]] == [
        ("left", 0, 1, False),
        ("right", 0, 1, False),
    ]
    assert found["problems"] == [
        "processor side: 0 rows, expected at least 1 (0 of 3 days of history needed for a median)",
        "ledger side: 0 rows, expected at least 1 (0 of 3 days of history needed for a median)",
    ]


@pytest.mark.parametrize(
    ("left", "right", "failing"),
    [
        pytest.param(0, 1000, ["left"], id="processor-empty"),
        pytest.param(1000, 0, ["right"], id="ledger-empty"),
        pytest.param(498, 1000, ["left"], id="processor-under-half-the-median"),
        pytest.param(499, 500, [], id="at-half-the-median"),
    ],
)
def test_one_side_against_the_median_of_its_history(
    left: int, right: int, failing: list[str]
) -> None:
    past = history(FRIDAY, (1000, 990), (995, 1000), (1010, 1000), (20, 1000))
    found = volume_finding(FRIDAY, {"left": left, "right": right}, past, WEEKDAYS_ONLY, LABELS)
    assert [s["side"] for s in found["sides"] if not s["passed"]] == failing
    assert found["status"] == ("incomplete" if failing else "complete")
    left_side = found["sides"][0]
    # the median of 1000, 995, 1010, 20 (a bad day does not drag it down): 997.5
    assert (left_side["expected"], left_side["minimum"], left_side["history"]) == (997.5, 499, 4)
    if failing == ["left"] and left:
        assert found["problems"] == [
            "processor side: 498 rows, expected about 998 (the median of the last 4 business "
            "days), at least 499 (50% of it)"
        ]


def test_a_known_empty_day_is_no_alert() -> None:
    saturday = FRIDAY + dt.timedelta(days=1)
    rules = VolumeRules.model_validate(
        {"calendar": {"empty_weekdays": ["saturday", "sunday"], "holidays": ["2026-11-18"]}}
    )
    for day in (saturday, dt.date(2026, 11, 18)):
        found = volume_finding(day, {"left": 0, "right": 0}, [], rules, LABELS)
        assert found["status"] == "expected_empty" and found["problems"] == []
        assert all(s["passed"] for s in found["sides"])
    # the day after a holiday is an ordinary day again
    thursday = volume_finding(dt.date(2026, 11, 19), {"left": 0, "right": 5}, [], rules, LABELS)
    assert thursday["status"] == "incomplete"


def test_history_is_the_last_n_business_days_without_known_empty_ones() -> None:
    rules = VolumeRules.model_validate(
        {
            "history_days": 3,
            "min_history": 3,
            "calendar": {"empty_weekdays": ["saturday", "sunday"], "holidays": ["2026-11-19"]},
        }
    )
    monday = dt.date(2026, 11, 23)
    # business days before Monday 23rd: Fri 20th, Wed 18th, Tue 17th (Thursday a holiday)
    assert history_since(monday, rules) == dt.date(2026, 11, 17)
    past = [
        HistoryDay(business_date=dt.date(2026, 11, d), left=n, right=n)
        for d, n in [(22, 0), (21, 0), (20, 100), (19, 0), (18, 100), (17, 100), (16, 0)]
    ]
    found = volume_finding(monday, {"left": 40, "right": 60}, past, rules, LABELS)
    assert [(s["expected"], s["minimum"], s["history"]) for s in found["sides"]] == [
        (100.0, 50, 3),
        (100.0, 50, 3),
    ]
    assert [s["passed"] for s in found["sides"]] == [False, True]


def test_too_little_history_checks_only_the_minimum() -> None:
    past = history(FRIDAY, (1000, 1000), (1000, 1000))  # two days, three needed
    found = volume_finding(FRIDAY, {"left": 3, "right": 3}, past, WEEKDAYS_ONLY, LABELS)
    assert found["status"] == "complete"
    assert [s["expected"] for s in found["sides"]] == [None, None]


def payments_summary() -> dict[str, Any]:
    return {
        "inputs": {"left": {"rows": 0}, "right": {"rows": 0}},
        "risk_level": "LOW",
        "threshold_passed": True,
        "checks": [{"name": "currency_codes", "side": "left", "passed": True}],
        "financial_impact": {
            "risk_level": "LOW",
            "compliance_status": "COMPLIANT",
            "compliance_failures": [],
        },
    }


def test_an_incomplete_day_is_never_low_or_compliant() -> None:
    found = volume_finding(FRIDAY, {"left": 0, "right": 0}, [], VolumeRules(), LABELS)
    summary = with_volume(payments_summary(), found)
    assert (summary["risk_level"], summary["threshold_passed"]) == ("HIGH", False)
    impact = summary["financial_impact"]
    assert (impact["risk_level"], impact["compliance_status"]) == ("HIGH", "INCOMPLETE")
    assert impact["compliance_failures"] == found["problems"]
    volume_checks = [c for c in summary["checks"] if c["name"] == "volume"]
    assert [(c["side"], c["passed"], c["observed"]) for c in volume_checks] == [
        ("left", False, 0),
        ("right", False, 0),
    ]
    assert summary["checks"][0]["name"] == "currency_codes"
    # applied twice (a retried task): the same summary
    assert with_volume(summary, found) == summary


def test_a_complete_day_keeps_its_verdicts() -> None:
    past = history(FRIDAY, *[(10, 10)] * 3)
    found = volume_finding(FRIDAY, {"left": 10, "right": 9}, past, WEEKDAYS_ONLY, LABELS)
    summary = with_volume(payments_summary(), found)
    assert summary["volume"]["status"] == "complete"
    assert (summary["risk_level"], summary["financial_impact"]["compliance_status"]) == (
        "LOW",
        "COMPLIANT",
    )


def test_a_source_has_rules_of_its_own() -> None:
    settings = VolumeSettings.model_validate(
        {"min_rows": 5, "sources": {"UNASSIGNED": {"sides": []}, "KARVY": {"min_fraction": 0.8}}}
    )
    assert settings.for_source("UNASSIGNED").sides == []
    assert settings.for_source("KARVY").min_fraction == 0.8
    assert settings.for_source("KARVY").min_rows == 5
    assert settings.for_source("CAMS") == VolumeRules(min_rows=5)


def test_the_pipelines_config_their_expectations() -> None:
    aum = load_aum_config().volume
    assert aum.for_source("CAMS").calendar.is_empty_day(FRIDAY + dt.timedelta(days=1))
    assert aum.for_source("UNASSIGNED").sides == []  # no registrar: nothing to expect
    payments = load_payments_config().volume
    assert not payments.for_source("stripe").calendar.is_empty_day(FRIDAY + dt.timedelta(days=1))
    assert payments.for_source("stripe").sides == ["left", "right"]


def test_a_wrong_volume_section_is_named(tmp_path: Path) -> None:
    config = tmp_path / "aum_recon.yaml"
    base = (Path(__file__).parents[2] / "config/pipelines/aum_recon.yaml").read_text()
    config.write_text(
        base.replace("min_fraction: 0.5", "min_fraction: 2").replace(
            "empty_weekdays: [saturday, sunday]", "empty_weekdays: [sat]"
        )
    )
    with pytest.raises(SpecError) as err:
        load_aum_config(config)
    message = str(err.value)
    assert "volume.min_fraction: Input should be less than or equal to 1" in message
    assert "volume.calendar.empty_weekdays.0" in message and "'saturday'" in message


# --- the alerts ---------------------------------------------------------------------------------


def incomplete(outcome: Any, rows: dict[str, int]) -> Outcome:
    labels = outcome["labels"]
    found = volume_finding(FRIDAY, rows, [], VolumeRules(), labels)
    return {**outcome, "summary": with_volume(outcome["summary"], found)}


def test_the_alerts_say_which_side_and_how_many_rows_against_how_many() -> None:
    cams = incomplete(aum_source("CAMS", 10), {"left": 0, "right": 120})
    karvy = aum_source("KARVY", 0)
    outcomes = [cams, karvy]
    assert needs_alert(outcomes)
    subject, html = summary_email(outcomes, recon="aum_recon", business_date=FRIDAY)
    assert subject.startswith("[recon] aum_recon 2026-11-20: INCOMPLETE (CAMS);")
    assert "all matched" not in subject
    assert "Data missing: the day is incomplete, not clean" in html
    assert "<b>CAMS</b>: dbf side: 0 rows, expected at least 1" in html
    assert ">INCOMPLETE</b>" in html  # the thresholds column of CAMS
    slack = summary_slack(outcomes, recon="aum_recon", business_date=FRIDAY)
    assert slack.startswith(":rotating_light:")
    assert "↳ dbf side: 0 rows, expected at least 1" in slack
    assert "HIGH, INCOMPLETE" in slack


def test_an_empty_day_is_not_all_matched() -> None:
    outcome = incomplete(aum_source("CAMS", 0), {"left": 0, "right": 0})
    subject, html = summary_email([outcome], recon="aum_recon", business_date=FRIDAY)
    assert subject == "[recon] aum_recon 2026-11-20: INCOMPLETE (CAMS); no breaks — HIGH"
    assert "thresholds passed" not in html and "Every key matched" not in html
