"""Volume expectations and ageing across dates, end to end against the real servers (issue 17).

- ``payments_recon`` for a date with no data at the processors and none in the ledger: the run
  succeeds, every partition is loaded with 0 rows and status ``incomplete`` (risk HIGH,
  compliance INCOMPLETE, never LOW / COMPLIANT), its volume checks failed per side, and the
  e-mail and Slack say which side has how many rows against how many expected.
- ``aum_recon`` over three consecutive business dates of one book, then a fourth whose CAMS
  file is empty: a break that persists keeps its ``first_seen_date`` while ``age_days`` grows,
  a cleared break goes away, and the empty file is held against the median of the three days
  before it in ``recon.runs``.
"""

from __future__ import annotations

import datetime as dt
from contextlib import closing
from typing import Any

import polars as pl
import psycopg
import pytest

from embedded.aum_world import seed_aum_days
from embedded.dag_runs import dag_fixture, pg_rows, run_for, task_states
from embedded.payments_seed import load_processor_apis, seed_ledger_postgres
from worlds.aum import AumSample, generate_aum_days
from worlds.fixtures import payments_day_fixture
from worlds.payments import PROCESSORS

pytestmark = pytest.mark.slow

SEEDED = dt.date(2026, 11, 20)  # the payments day seeded; its neighbours hold its edge cases
EMPTY = dt.date(2026, 11, 24)  # nothing booked, nothing settled
AUM_DAYS = [dt.date(2026, 11, 17), dt.date(2026, 11, 18), dt.date(2026, 11, 19)]
CAMS_EMPTY = dt.date(2026, 11, 20)  # the CAMS export of this Friday has no record

payments_day = payments_day_fixture(SEEDED, per_processor=60, seed=13)
payments_dag = dag_fixture("payments_recon")
aum_dag = dag_fixture("aum_recon")


def logical(day: dt.date, hours: int) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(hours), dt.UTC)


def test_a_day_without_data_is_incomplete_loaded_and_alerted(
    payments_dag: Any,
    airflow_env: dict[str, str],
    pg_clean: Any,
    processor_api: Any,
    s3_clean: Any,
    smtp_clean: Any,
    slack_clean: Any,
    payments_day: Any,
) -> None:
    with closing(psycopg.connect(pg_clean.dsn)) as conn:
        seed_ledger_postgres(conn, payments_day.ledger)
    load_processor_apis(processor_api, payments_day)

    run = run_for(payments_dag, EMPTY, logical(EMPTY, 6))
    assert run.state == "success", task_states(run)

    runs = pg_rows(
        "select source, status, records, risk_level, compliance_status, threshold_passed, "
        "summary->'volume'->'problems' from recon.runs "
        "where recon = 'payments_recon' and business_date = %s order by source",
        EMPTY,
    )
    assert [r[0] for r in runs] == sorted(PROCESSORS)  # loaded, so the numbers can be seen
    for source, status, records, risk, compliance, passed, problems in runs:
        assert (status, records, risk, compliance, passed) == (
            "incomplete",
            0,
            "HIGH",
            "INCOMPLETE",
            False,
        ), source
        assert problems == [
            "processor side: 0 rows, expected at least 1 (0 of 3 days of history needed for "
            "a median)",
            "ledger side: 0 rows, expected at least 1 (0 of 3 days of history needed for a median)",
        ]
    checks = pg_rows(
        "select source, side, passed, observed from recon.data_quality_checks "
        "where check_name = 'volume' and business_date = %s order by source, side",
        EMPTY,
    )
    assert checks == [(p, side, False, 0) for p in sorted(PROCESSORS) for side in ("left", "right")]
    metrics = pg_rows(
        "select distinct status from recon.v_source_daily_metrics where business_date = %s",
        EMPTY,
    )
    assert metrics == [("incomplete",)]

    mail = smtp_clean.wait_for(1)[0]
    assert mail.subject.startswith(
        f"[recon] payments_recon {EMPTY}: INCOMPLETE (stripe, paypal, square);"
    )
    body = mail.message.get_body(("html",)).get_content()
    assert "Data missing: the day is incomplete, not clean" in body
    assert "<b>stripe</b>: processor side: 0 rows, expected at least 1" in body
    assert "<b>square</b>: ledger side: 0 rows, expected at least 1" in body
    assert "COMPLIANT</" not in body.replace("NON_COMPLIANT", "")
    slack = slack_clean.wait_for(1)[0].text
    assert slack.startswith(":rotating_light:") and "INCOMPLETE, HIGH risk" in slack
    assert "↳ processor side: 0 rows" in slack and "↳ ledger side: 0 rows" in slack

    # the seeded day next to it is complete: it has its rows
    run = run_for(payments_dag, SEEDED, logical(SEEDED, 6))
    assert run.state == "success", task_states(run)
    assert pg_rows("select distinct status from recon.runs where business_date = %s", SEEDED) == [
        ("succeeded",)
    ]


@pytest.fixture(scope="module")
def aum_days(tmp_path_factory: pytest.TempPathFactory) -> list[AumSample]:
    return generate_aum_days(
        tmp_path_factory.mktemp("aum-days"),
        [*AUM_DAYS, CAMS_EMPTY],
        positions=60,
        seed=5,
        empty={CAMS_EMPTY: ["CAMS"]},
    )


def breaks_of(day: dt.date) -> dict[tuple[str, str, str], tuple[dt.date, int]]:
    rows = pg_rows(
        "select source, key->>'folio', key->>'product', first_seen_date, age_days "
        "from recon.breaks where recon = 'aum_recon' and business_date = %s",
        day,
    )
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


def truth_breaks(sample: AumSample) -> set[tuple[str, str, str]]:
    truth = pl.read_csv(sample.truth, schema_overrides={"folio": pl.String, "product": pl.String})
    broken = truth.filter(pl.col("status") != "matched")
    return set(broken.select("registrar", "folio", "product").iter_rows())


def test_breaks_age_across_three_dates_and_an_empty_file_is_held_to_its_history(
    aum_dag: Any,
    airflow_env: dict[str, str],
    pg_clean: Any,
    mongo_clean: Any,
    sftp_clean: Any,
    s3_clean: Any,
    smtp_clean: Any,
    slack_clean: Any,
    aum_days: list[AumSample],
) -> None:
    seed_aum_days(sftp_clean, mongo_clean.client(), aum_days)
    for day in AUM_DAYS:
        run = run_for(aum_dag, day, logical(day, 2))
        assert run.state == "success", (day, task_states(run))

    planted = [truth_breaks(sample) for sample in aum_days[:3]]
    stored = [breaks_of(day) for day in AUM_DAYS]
    for want, got in zip(planted, stored, strict=True):
        assert set(got) == want  # each date has its own breaks, exactly
    first, second, third = stored
    persisting = set(first) & set(second) & set(third)
    cleared = set(second) - set(third)
    assert persisting and cleared  # the generated dates have both
    for key in persisting:
        assert [first[key], second[key], third[key]] == [
            (AUM_DAYS[0], 0),
            (AUM_DAYS[0], 1),
            (AUM_DAYS[0], 2),
        ], key
    open_keys = set(pg_rows_open_keys())
    assert open_keys == set(third) and not cleared & open_keys  # cleared: not open any more
    for key in set(third) - set(second):  # new on the third date
        assert third[key] == (AUM_DAYS[2], 0)
    assert pg_rows("select distinct status from recon.runs where recon = 'aum_recon'") == [
        ("succeeded",)
    ]

    # --- the fourth date: the CAMS export is empty; KARVY's is as usual
    smtp_clean.reset()
    slack_clean.reset()
    run = run_for(aum_dag, CAMS_EMPTY, logical(CAMS_EMPTY, 2))
    assert run.state == "success", task_states(run)
    runs = dict(
        pg_rows(
            "select source, status from recon.runs where recon = 'aum_recon' "
            "and business_date = %s",
            CAMS_EMPTY,
        )
    )
    assert runs == {"CAMS": "incomplete", "KARVY": "succeeded", "UNASSIGNED": "succeeded"}
    rows_before = [
        r[0]
        for r in pg_rows(
            "select (summary->'inputs'->'left'->>'rows')::int from recon.runs "
            "where source = 'CAMS' and business_date < %s order by business_date",
            CAMS_EMPTY,
        )
    ]
    median = sorted(rows_before)[1]
    problem = (
        f"dbf side: 0 rows, expected about {median:,} (the median of the last 3 business days), "
        f"at least {-(-median // 2):,} (50% of it)"
    )
    assert pg_rows(
        "select summary->'volume'->'problems', risk_level, threshold_passed from recon.runs "
        "where source = 'CAMS' and business_date = %s",
        CAMS_EMPTY,
    ) == [([problem], "HIGH", False)]
    mail = smtp_clean.wait_for(1)[0]
    assert mail.subject.startswith(f"[recon] aum_recon {CAMS_EMPTY}: INCOMPLETE (CAMS);")
    assert problem in mail.message.get_body(("html",)).get_content()
    assert f"↳ {problem}" in slack_clean.wait_for(1)[0].text


def pg_rows_open_keys() -> list[tuple[str, str, str]]:
    rows = pg_rows(
        "select source, key->>'folio', key->>'product' from recon.v_open_breaks "
        "where recon = 'aum_recon'"
    )
    return [(r[0], r[1], r[2]) for r in rows]
