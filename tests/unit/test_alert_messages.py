"""The words of the alerts: subjects, counts, links, escaping, and what a failure context yields."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from recon_airflow.notifiers.messages import (
    ERROR_LIMIT,
    FailureInfo,
    failure_email,
    failure_info,
    failure_slack,
    needs_alert,
    slack_escape,
    summary_email,
    summary_slack,
)
from recon_airflow.outcome import Outcome
from worlds.checks import loads_airflow
from worlds.outcomes import CAMS_F1_BREAK, CAMS_XLSX_LINK, DATE, aum_source

ROOT = Path(__file__).resolve().parents[2]


# --- summary --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "subject"),
    [
        (
            [aum_source("CAMS", 20, risk="HIGH"), aum_source("KARVY", 22, risk="MEDIUM")],
            f"[recon] aum_recon {DATE}: 42 breaks (CAMS 20, KARVY 22) — HIGH",
        ),
        (
            [aum_source("CAMS", 0), aum_source("KARVY", 0)],
            f"[recon] aum_recon {DATE}: all matched",
        ),
        (
            [aum_source("CAMS", 0), aum_source("KARVY", 1, risk="LOW")],
            f"[recon] aum_recon {DATE}: 1 break (KARVY 1) — LOW",
        ),
        ([], f"[recon] aum_recon {DATE}: no source reconciled"),
    ],
    ids=["breaks", "all-matched", "one-break", "no-sources"],
)
def test_summary_subject(outcomes: list[Outcome], subject: str) -> None:
    assert summary_email(outcomes, recon="aum_recon", business_date=DATE)[0] == subject


def test_a_line_break_in_a_name_cannot_add_a_mail_header() -> None:
    subject, _ = summary_email(
        [aum_source("CAMS", 0)], recon="aum\r\nBcc: evil@example.test", business_date=DATE
    )
    assert "\r" not in subject and "\n" not in subject


def test_summary_email_shows_each_sources_counts_with_side_labels() -> None:
    _, html = summary_email(
        [aum_source("CAMS", 20, passed=False, risk="HIGH"), aum_source("KARVY", 22)],
        recon="aum_recon",
        business_date=DATE,
    )
    assert "dbf only" in html and "mongo only" in html
    assert "left_only" not in html
    cams = html[html.index("<b>CAMS</b>") : html.index("<b>KARVY</b>")]
    for figure in ("1,000", "980", "10", "2.00%", "1,234.50", "HIGH", "FAILED"):
        assert f">{figure}<" in cams
    assert "thresholds failed for CAMS" in html


def test_sources_with_different_side_labels_name_them_beside_the_source() -> None:
    _, html = summary_email(
        [aum_source("CAMS", 1), aum_source("STRIPE", 1, labels=("processor", "ledger"))],
        recon="mixed",
        business_date=DATE,
    )
    assert "left only" in html and "right only" in html
    assert "STRIPE (processor / ledger)" in html


def test_summary_email_links_every_report() -> None:
    cams = aum_source("CAMS", 3, links={"xlsx": CAMS_XLSX_LINK, "html": "/srv/r/CAMS/report.html"})
    _, html = summary_email(
        [cams],
        recon="aum_recon",
        business_date=DATE,
        attached=[cams["reports"]["xlsx"]],
    )
    escaped = CAMS_XLSX_LINK.replace("&", "&amp;")
    assert f'<a href="{escaped}">CAMS xlsx</a>' in html
    assert "<code>/srv/r/CAMS/report.html</code>" in html
    xlsx_item = html[html.index(escaped) : html.index("</li>", html.index(escaped))]
    assert "(attached)" in xlsx_item


def test_summary_email_lists_the_largest_breaks_with_both_values() -> None:
    top = {
        "CAMS": [
            CAMS_F1_BREAK,  # F1 / P1: 1,250.5 units in the DBF against 1,000 in MongoDB
            {
                "folio_no": "F2",
                "product_code": "P2",
                "status": "left_only",
                "left_units": 100.0,
                "break_amount": 100.0,
            },
        ]
    }
    _, html = summary_email(
        [aum_source("CAMS", 2)], recon="aum_recon", business_date=DATE, top_breaks=top
    )
    assert "Largest breaks: CAMS" in html
    assert "<td>F1 / P1</td><td>mismatched</td><td>units</td>" in html
    assert '<td align="right">1,250.5</td><td align="right">1,000</td>' in html
    assert '<td align="right">250.5</td>' in html
    assert "<td>F2 / P2</td><td>dbf only</td>" in html


def test_hostile_values_are_escaped_in_the_email() -> None:
    hostile = '<script>alert("folio")</script>'
    cams = aum_source("CAMS", 1, links={"html": "javascript:alert(1)"})
    top = {"CAMS": [{"folio_no": hostile, "product_code": "P1", "status": "mismatched"}]}
    _, html = summary_email([cams], recon="<b>aum</b>", business_date=DATE, top_breaks=top)
    assert "<script>" not in html and "<b>aum</b>" not in html
    assert "&lt;script&gt;alert(&#34;folio&#34;)&lt;/script&gt;" in html
    assert 'href="javascript' not in html


def test_slack_summary_has_a_line_per_source_with_counts_and_links() -> None:
    text = summary_slack(
        [
            aum_source("CAMS", 20, passed=False, risk="HIGH", links={"xlsx": CAMS_XLSX_LINK}),
            aum_source("KARVY", 0, links={"html": "/srv/r/KARVY/report.html"}),
        ],
        recon="aum_recon",
        business_date=DATE,
    )
    lines = text.splitlines()
    assert lines[0].startswith(":rotating_light: *[recon] aum_recon 2026-11-20: 20 breaks")
    assert lines[1].startswith("• *CAMS*: 1,000 keys, 980 matched, 10 mismatched, 10 dbf only")
    assert "thresholds FAILED" in lines[1]
    assert f"<{CAMS_XLSX_LINK.replace('&', '&amp;')}|xlsx>" in lines[1]
    assert lines[2].startswith("• *KARVY*:") and "within thresholds" in lines[2]
    assert lines[2].endswith("html: `/srv/r/KARVY/report.html`")


def test_slack_summary_cannot_ping_a_channel_or_forge_a_link() -> None:
    text = summary_slack(
        [
            aum_source(
                "<!channel> & co",
                1,
                links={"x|<!here>": "https://evil.example.test/a|<!everyone>"},
            )
        ],
        recon="aum_recon",
        business_date=DATE,
    )
    assert "<!" not in text
    assert "&lt;!channel&gt; &amp; co" in text
    assert "<https://evil.example.test/a%7C&lt;!everyone&gt;|x/&lt;!here&gt;>" in text


def test_slack_escape_only_touches_the_three_characters_slack_reads() -> None:
    assert slack_escape("a & <b> *c* _d_") == "a &amp; &lt;b&gt; *c* _d_"


@pytest.mark.parametrize(
    ("passed", "expected"),
    [([True, True], False), ([True, False], True), ([None, True], False)],
    ids=["all-passed", "one-failed", "unknown-is-not-a-breach"],
)
def test_needs_alert_only_when_a_source_failed_its_thresholds(
    passed: list[bool | None], expected: bool
) -> None:
    outcomes = [aum_source(f"S{i}", 5, passed=p) for i, p in enumerate(passed)]
    assert needs_alert(outcomes) is expected


# --- failure --------------------------------------------------------------------------------


def context(
    *,
    logical_date: dt.datetime | None = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC),
    params: dict[str, Any] | None = None,
    map_index: int = 1,
    exception: BaseException | None = None,
) -> dict[str, Any]:
    """A task context as Airflow hands it to an on-failure callback, reduced to what is read."""
    ti = SimpleNamespace(
        dag_id="aum_recon",
        task_id="fetch_registrar",
        map_index=map_index,
        run_id="scheduled__2026-11-20T02:00:00+00:00",
        try_number=4,
        max_tries=3,
        log_url="http://airflow.example.test/dags/aum_recon/runs/x/tasks/fetch_registrar",
    )
    dag_run = SimpleNamespace(
        run_id=ti.run_id, logical_date=logical_date, data_interval_end=logical_date
    )
    return {
        "dag": SimpleNamespace(dag_id="aum_recon"),
        "ti": ti,
        "task_instance": ti,
        "dag_run": dag_run,
        "logical_date": logical_date,
        "params": params or {"business_date": None},
        "exception": exception if exception is not None else FileNotFoundError("no cams.dbf"),
    }


def test_failure_info_reads_a_scheduled_runs_context() -> None:
    info = failure_info(context())
    assert info == FailureInfo(
        dag_id="aum_recon",
        task_id="fetch_registrar",
        map_index=1,
        run_id="scheduled__2026-11-20T02:00:00+00:00",
        business_date=DATE,
        try_number=4,
        max_tries=3,
        error="FileNotFoundError: no cams.dbf",
        log_url="http://airflow.example.test/dags/aum_recon/runs/x/tasks/fetch_registrar",
    )


def test_the_business_date_param_wins_over_the_run_date() -> None:
    info = failure_info(context(params={"business_date": "2026-10-31"}))
    assert info.business_date == "2026-10-31"


def test_a_manual_run_without_logical_date_has_no_business_date() -> None:
    ctx = context(logical_date=None)
    ctx["dag_run"].run_id = ctx["ti"].run_id = "manual__2026-11-21T09:00:00+00:00"
    info = failure_info(ctx)
    assert info.business_date is None
    assert failure_email(info)[0] == (
        "[recon] FAILED aum_recon.fetch_registrar[1] (run manual__2026-11-21T09:00:00+00:00)"
    )


def test_a_run_date_maps_to_the_business_date_in_the_pipelines_timezone() -> None:
    # 07:30 IST on the 21st is 02:00 UTC; that run reconciles the 20th
    ctx = context(logical_date=dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC))
    assert failure_info(ctx, timezone="Asia/Kolkata", days_before=1).business_date == DATE


def test_failure_info_survives_a_sparse_context() -> None:
    info = failure_info({"exception": "killed by the scheduler"})
    assert (info.dag_id, info.task_id, info.run_id) == ("unknown", "unknown", "unknown")
    assert (info.map_index, info.business_date, info.log_url) == (None, None, None)
    assert info.error == "killed by the scheduler"


def test_an_unmapped_task_has_no_index_and_a_long_error_is_cut() -> None:
    info = failure_info(context(map_index=-1, exception=ValueError("x" * 10_000)))
    assert info.map_index is None
    assert info.task == "aum_recon.fetch_registrar"
    assert len(info.error) < ERROR_LIMIT + 50
    assert info.error.endswith("more characters)")


def test_failure_email_says_which_task_which_date_why_and_where_the_log_is() -> None:
    info = failure_info(context(exception=RuntimeError("folio <script>x</script> bad")))
    subject, html = failure_email(info)
    assert subject == f"[recon] FAILED aum_recon.fetch_registrar[1] for {DATE}"
    assert "try 4 of 4" in html
    assert "RuntimeError: folio &lt;script&gt;x&lt;/script&gt; bad" in html
    assert "<script>" not in html
    assert f'<a href="{info.log_url}">Open the task log</a>' in html


def test_failure_slack_escapes_the_error_and_links_the_log() -> None:
    info = failure_info(context(exception=RuntimeError("<!channel> folio & co")))
    text = failure_slack(info)
    assert text.startswith(
        f":x: *[recon] FAILED* `aum_recon.fetch_registrar[1]` for {DATE} (try 4 of 4"
    )
    assert "<!" not in text
    assert "RuntimeError: &lt;!channel&gt; folio &amp; co" in text
    assert text.endswith(f"<{info.log_url}|open the task log>")


def test_the_messages_module_loads_no_airflow() -> None:
    plugins_and_include = [ROOT / "plugins", ROOT / "include"]
    assert (
        loads_airflow("recon_airflow.notifiers.messages", pythonpath=plugins_and_include) is False
    )
