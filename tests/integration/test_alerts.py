"""Alerts against the real loopback SMTP server and Slack webhook recorder.

The summary email always goes out, Slack only on a threshold breach; a failure alert sends
both, and one channel's trouble neither silences the other nor raises over the task's error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from embedded.base import connection_env, free_port
from embedded.slack import WEBHOOK_PATH, EmbeddedSlackWebhook
from embedded.smtp import FROM_EMAIL, EmbeddedSmtp
from recon.engine.reconcile import compare_files
from recon.spec import load_spec
from recon_airflow.notifiers.alerts import FailureAlert, SummaryAlertOperator, send_summary
from recon_airflow.outcome import Outcome
from worlds.outcomes import DATE, aum_outcome
from worlds.pairs import SamplePair

OPS = ["ops@example.test", "finance@example.test"]
PRESIGNED = "https://s3.example.test/recon-reports/KARVY/report.html?X-Amz-Signature=ab&x=1"


@pytest.fixture
def servers(
    monkeypatch: pytest.MonkeyPatch, smtp_clean: EmbeddedSmtp, slack_clean: EmbeddedSlackWebhook
) -> Iterator[SimpleNamespace]:
    """``recon_smtp`` and ``recon_slack`` pointing at freshly emptied servers."""
    for name, value in connection_env(smtp_clean, slack_clean).items():
        monkeypatch.setenv(name, value)
    yield SimpleNamespace(smtp=smtp_clean, slack=slack_clean)
    slack_clean.reset()  # a test that made Slack answer 500 leaves it answering ok


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def outcome(root: Path, source: str, breaks: int, *, passed: bool) -> Outcome:
    """A reconciled source with report files on disk (every source's named ``report.*``)."""
    folder = root / source
    folder.mkdir(parents=True)
    reports = {}
    for fmt in ("html", "xlsx"):
        path = folder / f"report.{fmt}"
        path.write_bytes(f"{source} {fmt} report".encode())
        reports[fmt] = str(path)
    counts = {
        "matched": 500 - breaks,
        "mismatched": breaks - 1 if breaks else 0,
        "left_only": 1 if breaks else 0,
        "right_only": 0,
        "duplicate": 0,
        "invalid": 0,
    }
    summary = {
        "counts": counts,
        "total_keys": 500,
        "breaks": breaks,
        "break_rate": breaks / 500,
        "discrepancy_amount": 42.0 * breaks,
        "risk_level": "HIGH" if not passed else "LOW",
        "threshold_passed": passed,
    }
    return aum_outcome(
        source,
        summary,
        result_dir=str(folder),
        reports=reports,
        report_links={**reports, "html": PRESIGNED} if source == "KARVY" else reports,
        finished_at="2026-11-21T02:00:03+00:00",
    )


def html_of(mail: Any) -> str:
    body = mail.message.get_body(("html",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def failure_context(exception: BaseException) -> dict[str, Any]:
    ti = SimpleNamespace(
        dag_id="aum_recon",
        task_id="fetch_registrar_file",
        map_index=1,
        run_id="scheduled__2026-11-21T02:00:00+00:00",
        try_number=4,
        max_tries=3,
        log_url="http://localhost:8080/dags/aum_recon/runs/x/tasks/fetch_registrar_file",
    )
    run = SimpleNamespace(run_id=ti.run_id, logical_date=None, data_interval_end=None)
    return {
        "dag": SimpleNamespace(dag_id="aum_recon"),
        "ti": ti,
        "dag_run": run,
        "params": {"business_date": DATE},
        "exception": exception,
    }


def assert_no_secret_logged(records: pytest.LogCaptureFixture, servers: SimpleNamespace) -> None:
    secrets = [servers.smtp.password, WEBHOOK_PATH, servers.slack.url]
    for record in records.records:
        text = record.getMessage() + (records.handler.format(record) if record.exc_info else "")
        assert not [s for s in secrets if s in text], text


# --- the summary ----------------------------------------------------------------------------


def test_summary_email_carries_counts_links_and_attachments_and_slack_stays_quiet(
    servers: SimpleNamespace, tmp_path: Path
) -> None:
    outcomes = [
        outcome(tmp_path, "CAMS", 3, passed=True),
        outcome(tmp_path, "KARVY", 0, passed=True),
    ]
    attach = [o["reports"]["xlsx"] for o in outcomes]

    sent = send_summary(
        outcomes, recon="aum_recon", business_date=DATE, email_to=OPS, attach=attach
    )

    assert sent == {"email": True, "slack": False}
    [mail] = servers.smtp.wait_for(1)
    assert mail.subject == f"[recon] aum_recon {DATE}: 3 breaks (CAMS 3) — LOW"
    assert mail.mail_from == FROM_EMAIL
    assert sorted(mail.rcpt_tos) == sorted(OPS)
    # both sources' files are called report.xlsx: each is named after its source
    assert sorted(mail.attachment_names()) == ["CAMS_report.xlsx", "KARVY_report.xlsx"]
    html = html_of(mail)
    assert ">497<" in html and ">dbf only<" in html and ">0.60%<" in html
    assert f"<code>{outcomes[0]['reports']['html']}</code>" in html
    assert f'<a href="{PRESIGNED.replace("&", "&amp;")}">KARVY html</a>' in html
    assert html.count("(attached)") == 2
    assert servers.slack.requests() == []


def test_a_threshold_breach_also_posts_to_slack(servers: SimpleNamespace, tmp_path: Path) -> None:
    outcomes = [
        outcome(tmp_path, "CAMS", 30, passed=False),
        outcome(tmp_path, "KARVY", 0, passed=True),
    ]

    sent = send_summary(outcomes, recon="aum_recon", business_date=DATE, email_to=OPS)

    assert sent == {"email": True, "slack": True}
    [mail] = servers.smtp.wait_for(1)
    assert mail.subject.endswith("30 breaks (CAMS 30) — HIGH")
    assert mail.attachment_names() == []
    [request] = servers.slack.wait_for(1)
    lines = request.text.splitlines()
    assert lines[1].startswith("• *CAMS*: 500 keys, 470 matched, 29 mismatched, 1 dbf only")
    assert "thresholds FAILED" in lines[1]
    assert f"<{PRESIGNED.replace('&', '&amp;')}|html>" in lines[2]


def test_summary_tries_slack_when_email_fails_then_raises_for_a_retry(
    servers: SimpleNamespace,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    records: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_RECON_SMTP", closed_smtp_connection())
    outcomes = [outcome(tmp_path, "CAMS", 30, passed=False)]

    with pytest.raises(ConnectionRefusedError):
        send_summary(outcomes, recon="aum_recon", business_date=DATE, email_to=OPS)

    assert len(servers.slack.wait_for(1)) == 1
    assert "summary email through connection 'recon_smtp'" in records.text
    assert_no_secret_logged(records, servers)


def test_summary_sends_the_email_then_raises_when_slack_fails(
    servers: SimpleNamespace, tmp_path: Path, records: pytest.LogCaptureFixture
) -> None:
    servers.slack.answer_with(500)
    outcomes = [outcome(tmp_path, "CAMS", 30, passed=False)]

    with pytest.raises(AirflowException, match="500"):
        send_summary(outcomes, recon="aum_recon", business_date=DATE, email_to=OPS)

    assert len(servers.smtp.wait_for(1)) == 1
    assert len(servers.slack.requests()) == 1
    assert "summary Slack message through connection 'recon_slack'" in records.text
    assert_no_secret_logged(records, servers)


def test_summary_operator_lists_the_largest_breaks_from_the_results(
    servers: SimpleNamespace, payments_pair: SamplePair, tmp_path: Path
) -> None:
    out = tmp_path / "PAYMENTS"
    result = compare_files(
        load_spec(payments_pair.spec),
        payments_pair.left,
        payments_pair.right,
        out,
        reports=("html", "xlsx"),
    )
    summary = result.summary
    paid = Outcome(
        recon="payments_recon",
        source="PAYMENTS",
        business_date=DATE,
        spec=summary["recon"],
        labels=summary["labels"],
        keys=summary["keys"],
        amount_field=summary["amount_field"],
        result_dir=str(out),
        inputs={},
        reports={"html": str(out / "report.html"), "xlsx": str(out / "report.xlsx")},
        report_links={"html": str(out / "report.html"), "xlsx": str(out / "report.xlsx")},
        summary=summary,
        started_at="",
        finished_at="",
    )
    operator = SummaryAlertOperator(
        task_id="send_summary",
        outcomes=[paid],
        recon="payments_recon",
        business_date=DATE,
        email_to="ops@example.test; finance@example.test",
        attach_formats=["xlsx"],
        top_breaks=3,
    )

    sent = operator.execute({})

    assert sent["email"] is True
    assert sent["slack"] is (summary["threshold_passed"] is False)
    [mail] = servers.smtp.wait_for(1)
    assert sorted(mail.rcpt_tos) == sorted(OPS)
    assert mail.attachment_names() == ["report.xlsx"]
    html = html_of(mail)
    assert "Largest breaks: PAYMENTS" in html
    table = html[html.index("Largest breaks: PAYMENTS") :]
    assert table[: table.index("</table>")].count("<tr><td>") == 3
    assert f">{summary['counts']['matched']:,}<" in html


def payments_outcome(root: Path, source: str) -> Outcome:
    """A classified payments source that is not compliant (summary as the payments recon
    writes it: ``classification`` and ``financial_impact`` beside the core keys)."""
    paid = outcome(root, source, 21, passed=False)
    order = ["missing_at_processor", "missing_in_ledger", "amount", "fee_mismatch", "timing"]
    counts = {"missing_at_processor": 0, "missing_in_ledger": 12, "amount": 3,
              "fee_mismatch": 1, "timing": 5}  # fmt: skip
    paid["labels"] = {"left": "processor", "right": "ledger"}
    paid["report_links"] = {**paid["reports"], "html": PRESIGNED}
    paid["summary"] |= {
        "classification": {
            "column": "break_type",
            "matched": "matched",
            "order": order,
            "labels": {kind: kind.replace("_", " ") for kind in order},
            "counts": {"matched": 479, **counts},
            "amounts": dict.fromkeys(order, 0.0),
            "breaks": 21,
        },
        "financial_impact": {
            "reporting_currency": "USD",
            "volume": 1_234_567.89,
            "discrepancy_amount": 2345.67,
            "discrepancy_rate": 2345.67 / 1_234_567.89,
            "break_rate": 0.032,
            "risk_level": "HIGH",
            "compliance_status": "NON_COMPLIANT",
            "compliance_failures": ["break rate 3.20% is over the 1.00% limit"],
            "by_currency": {},
            "unconverted": [],
        },
    }
    return paid


def test_a_non_compliant_payments_summary_says_so_by_email_and_slack(
    servers: SimpleNamespace, tmp_path: Path, records: pytest.LogCaptureFixture
) -> None:
    outcomes = [payments_outcome(tmp_path, "STRIPE")]

    sent = send_summary(outcomes, recon="payments_recon", business_date=DATE, email_to=OPS)

    assert sent == {"email": True, "slack": True}
    [mail] = servers.smtp.wait_for(1)
    assert mail.subject == (
        f"[recon] payments_recon {DATE}: 21 breaks (STRIPE 21) — HIGH — NON_COMPLIANT (STRIPE)"
    )
    html = html_of(mail)
    assert ">NON_COMPLIANT</b>" in html and ">2,345.67 USD<" in html
    assert "missing in ledger: 12<br>amount: 3<br>fee mismatch: 1<br>timing: 5" in html
    assert "break rate 3.20% is over the 1.00% limit" in html
    [request] = servers.slack.wait_for(1)
    assert "NON_COMPLIANT, HIGH risk — discrepancy 2,345.67 USD (0.19% of" in request.text
    assert (
        "21 breaks, by type: 12 missing in ledger, 5 timing, 3 amount (+1 more type)"
        in request.text
    )
    assert f"<{PRESIGNED.replace('&', '&amp;')}|html>" in request.text
    assert_no_secret_logged(records, servers)


# --- on failure ----------------------------------------------------------------------------


def test_failure_alert_sends_the_email_and_the_slack_message(
    servers: SimpleNamespace, records: pytest.LogCaptureFixture
) -> None:
    alert = FailureAlert(OPS)

    alert(failure_context(FileNotFoundError("cams_holdings_20261120.dbf not on the server")))

    [mail] = servers.smtp.wait_for(1)
    assert mail.subject == f"[recon] FAILED aum_recon.fetch_registrar_file[1] for {DATE}"
    html = html_of(mail)
    assert "FileNotFoundError: cams_holdings_20261120.dbf not on the server" in html
    assert "try 4 of 4" in html and "/tasks/fetch_registrar_file" in html
    [request] = servers.slack.wait_for(1)
    assert request.text.startswith(":x: *[recon] FAILED* `aum_recon.fetch_registrar_file[1]`")
    assert "FileNotFoundError" in request.text
    assert_no_secret_logged(records, servers)


def test_slack_answering_500_leaves_the_email_sent_and_raises_nothing(
    servers: SimpleNamespace, records: pytest.LogCaptureFixture
) -> None:
    servers.slack.answer_with(500)

    FailureAlert(OPS)(failure_context(RuntimeError("boom")))

    assert len(servers.smtp.wait_for(1)) == 1
    assert len(servers.slack.requests()) == 1
    [failure] = [r for r in records.records if r.levelno >= logging.ERROR]
    assert "failure Slack message through connection 'recon_slack'" in failure.getMessage()
    assert "500" in failure.getMessage()
    assert_no_secret_logged(records, servers)


def closed_smtp_connection() -> str:
    """``recon_smtp`` on a port nothing listens on (with credentials, to check none leak)."""
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": free_port(),
            "login": "recon",
            "password": "closed-port-secret",
            "extra": {"disable_tls": True, "disable_ssl": True, "from_email": FROM_EMAIL,
                      "timeout": 5, "retry_limit": 0},
        }
    )  # fmt: skip


def test_an_unreachable_smtp_server_leaves_slack_sent_and_raises_nothing(
    servers: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, records: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_RECON_SMTP", closed_smtp_connection())

    FailureAlert(OPS)(failure_context(RuntimeError("boom")))

    assert len(servers.slack.wait_for(1)) == 1
    assert servers.smtp.messages() == []
    [failure] = [r for r in records.records if r.levelno >= logging.ERROR]
    assert "failure email through connection 'recon_smtp'" in failure.getMessage()
    assert "ConnectionRefusedError" in failure.getMessage()
    assert not [r for r in records.records if "closed-port-secret" in r.getMessage()]
    assert_no_secret_logged(records, servers)


def test_a_missing_connection_is_logged_by_its_id(
    servers: SimpleNamespace, records: pytest.LogCaptureFixture
) -> None:
    FailureAlert(OPS, slack_conn_id="recon_slack_missing")(failure_context(RuntimeError("x")))

    assert len(servers.smtp.wait_for(1)) == 1
    assert "connection 'recon_slack_missing'" in records.text
