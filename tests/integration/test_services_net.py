"""The embedded SFTP, S3, SMTP and Slack servers answer the provider clients the pipelines use.

Connections come from ``AIRFLOW_CONN_*`` variables only (no metadata database).
"""

from __future__ import annotations

import json
import os
import smtplib
import time
import urllib.request
from pathlib import Path

import asyncssh
import paramiko
import pytest
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.sftp.hooks.sftp import SFTPHook
from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier
from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.sdk.exceptions import AirflowException

from embedded.s3 import EmbeddedS3
from embedded.sftp import EmbeddedSftp, public_key_line
from embedded.slack import WEBHOOK_PATH, EmbeddedSlackWebhook
from embedded.smtp import FROM_EMAIL, EmbeddedSmtp

pytestmark = pytest.mark.usefixtures("net_connections")


def _connection_variant(
    monkeypatch: pytest.MonkeyPatch, env_name: str, conn_id: str, **changes: object
) -> str:
    """Register ``conn_id`` as a copy of the connection in ``env_name`` with ``changes``."""
    body = json.loads(os.environ[env_name])
    for key, value in changes.items():
        if key.startswith("extra_"):
            body.setdefault("extra", {})[key.removeprefix("extra_")] = value
        else:
            body[key] = value
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(body))
    return conn_id


# SFTP ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("conn_id", ["recon_sftp", "recon_sftp_key"], ids=["password", "key"])
def test_sftp_hook_lists_and_retrieves_a_file_over_a_verified_host_key(
    sftp_clean: EmbeddedSftp, conn_id: str, tmp_path: Path
) -> None:
    remote = sftp_clean.put("inbox/cams/HOLDINGS_20240102.dbf", b"\x03dbf bytes\x00")

    hook = SFTPHook(ssh_conn_id=conn_id, conn_retry_attempts=1)
    assert hook.host_key is not None and hook.no_host_key_check is False
    assert hook.list_directory("/inbox/cams") == ["HOLDINGS_20240102.dbf"]
    hook.retrieve_file(remote, str(tmp_path / "copy.dbf"))

    assert (tmp_path / "copy.dbf").read_bytes() == b"\x03dbf bytes\x00"


def test_sftp_session_is_confined_to_the_served_root(sftp_clean: EmbeddedSftp) -> None:
    sftp_clean.put("inbox/a.csv", b"x")

    hook = SFTPHook(ssh_conn_id="recon_sftp", conn_retry_attempts=1)

    assert hook.list_directory("/") == ["inbox"]
    assert hook.list_directory("/../..") == ["inbox"]


def test_sftp_client_refuses_a_server_whose_host_key_differs(
    sftp: EmbeddedSftp, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_key = public_key_line(asyncssh.generate_private_key("ssh-ed25519"))
    assert other_key != sftp.host_key_line
    conn_id = _connection_variant(
        monkeypatch, "AIRFLOW_CONN_RECON_SFTP", "recon_sftp_impostor", extra_host_key=other_key
    )

    hook = SFTPHook(ssh_conn_id=conn_id, conn_retry_attempts=1)
    with pytest.raises(paramiko.BadHostKeyException):
        hook.list_directory("/")


@pytest.mark.parametrize(
    "changes",
    [
        {"password": "not-the-password"},
        {"login": "someone-else"},
    ],
    ids=["wrong-password", "wrong-user"],
)
def test_sftp_server_refuses_other_credentials(
    sftp: EmbeddedSftp, monkeypatch: pytest.MonkeyPatch, changes: dict[str, object]
) -> None:
    conn_id = _connection_variant(
        monkeypatch, "AIRFLOW_CONN_RECON_SFTP", "recon_sftp_bad", **changes
    )

    hook = SFTPHook(ssh_conn_id=conn_id, conn_retry_attempts=1)
    with pytest.raises(paramiko.AuthenticationException):
        hook.list_directory("/")


def test_sftp_server_refuses_an_unknown_client_key(
    sftp: EmbeddedSftp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger_ed25519"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(
        str(stranger), format_name="openssh"
    )
    stranger.chmod(0o600)
    conn_id = _connection_variant(
        monkeypatch,
        "AIRFLOW_CONN_RECON_SFTP_KEY",
        "recon_sftp_stranger",
        extra_key_file=str(stranger),
    )

    hook = SFTPHook(ssh_conn_id=conn_id, conn_retry_attempts=1)
    with pytest.raises(paramiko.AuthenticationException):
        hook.list_directory("/")


# S3 -----------------------------------------------------------------------------------------


def test_s3_hook_writes_reads_lists_and_presigns(s3_clean: EmbeddedS3) -> None:
    hook = S3Hook(aws_conn_id="recon_s3")
    hook.load_bytes(
        b"folio,units\nF1,10\n", key="reports/2024-01-02/breaks.csv", bucket_name=s3_clean.bucket
    )

    assert hook.read_key("reports/2024-01-02/breaks.csv", s3_clean.bucket) == "folio,units\nF1,10\n"
    assert hook.list_keys(s3_clean.bucket, prefix="reports/") == ["reports/2024-01-02/breaks.csv"]

    url = hook.generate_presigned_url(
        "get_object",
        params={"Bucket": s3_clean.bucket, "Key": "reports/2024-01-02/breaks.csv"},
        expires_in=300,
    )
    assert url and url.startswith(s3_clean.endpoint_url)
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"folio,units\nF1,10\n"


def test_s3_reset_forgets_objects_and_recreates_the_staging_bucket(s3_clean: EmbeddedS3) -> None:
    hook = S3Hook(aws_conn_id="recon_s3")
    hook.load_bytes(b"x", key="left.parquet", bucket_name=s3_clean.bucket)
    hook.create_bucket("recon-scratch")

    s3_clean.reset()

    assert hook.check_for_bucket(s3_clean.bucket)
    assert not hook.check_for_bucket("recon-scratch")
    assert hook.list_keys(s3_clean.bucket) == []


# SMTP ---------------------------------------------------------------------------------------


def test_smtp_notifier_delivers_html_with_an_attachment(
    smtp_clean: EmbeddedSmtp, tmp_path: Path
) -> None:
    attachment = tmp_path / "breaks_2024-01-02.csv"
    attachment.write_text("folio,status\nF1,mismatched\n")

    SmtpNotifier(
        smtp_conn_id="recon_smtp",
        to=["ops@example.test", "finance@example.test"],
        subject="cams_holdings 2024-01-02: 1 break",
        html_content="<h1>1 break</h1>",
        files=[str(attachment)],
    ).notify({})

    [mail] = smtp_clean.wait_for(1, timeout=10)
    assert mail.subject == "cams_holdings 2024-01-02: 1 break"
    assert mail.mail_from == FROM_EMAIL
    assert sorted(mail.rcpt_tos) == ["finance@example.test", "ops@example.test"]
    assert mail.attachment_names() == ["breaks_2024-01-02.csv"]
    body = mail.message.get_body(("html",))
    assert body is not None and "<h1>1 break</h1>" in body.get_content()


def test_smtp_wrong_credentials_fail_at_once(
    smtp_clean: EmbeddedSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn_id = _connection_variant(
        monkeypatch, "AIRFLOW_CONN_RECON_SMTP", "recon_smtp_bad", password="not-the-password"
    )
    notifier = SmtpNotifier(
        smtp_conn_id=conn_id, to="ops@example.test", subject="s", html_content="h"
    )

    started = time.monotonic()
    with pytest.raises(smtplib.SMTPAuthenticationError):
        notifier.notify({})

    assert time.monotonic() - started < 5
    assert smtp_clean.messages() == []


def test_smtp_refuses_mail_without_auth(smtp_clean: EmbeddedSmtp) -> None:
    with (
        smtplib.SMTP(smtp_clean.host, smtp_clean.port, timeout=10) as client,
        pytest.raises(smtplib.SMTPSenderRefused) as refused,
    ):
        client.sendmail(FROM_EMAIL, ["ops@example.test"], "Subject: s\r\n\r\nh")

    assert refused.value.smtp_code == 530
    assert smtp_clean.messages() == []


# Slack --------------------------------------------------------------------------------------


def test_slack_notifier_posts_the_text_to_the_webhook(slack_clean: EmbeddedSlackWebhook) -> None:
    SlackWebhookNotifier(
        slack_webhook_conn_id="recon_slack", text="cams_holdings 2024-01-02: 3 breaks"
    ).notify({})

    [request] = slack_clean.wait_for(1, timeout=10)
    assert request.path == WEBHOOK_PATH
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.text == "cams_holdings 2024-01-02: 3 breaks"


def test_slack_error_answer_raises(slack_clean: EmbeddedSlackWebhook) -> None:
    slack_clean.answer_with(500)

    with pytest.raises(AirflowException, match="500"):
        SlackWebhookHook(slack_webhook_conn_id="recon_slack").send_text("will fail")

    assert [r.text for r in slack_clean.requests()] == ["will fail"]


# connections --------------------------------------------------------------------------------


def test_connections_verify_host_keys_and_never_skip_the_check(
    net_connections: dict[str, str],
) -> None:
    sftp_conns = [
        json.loads(net_connections[name])
        for name in ("AIRFLOW_CONN_RECON_SFTP", "AIRFLOW_CONN_RECON_SFTP_KEY")
    ]
    for conn in sftp_conns:
        assert conn["extra"]["host_key"].startswith("ssh-ed25519 AAAA")
        assert "no_host_key_check" not in conn["extra"]
    assert json.loads(net_connections["AIRFLOW_CONN_RECON_SLACK"])["password"].endswith(
        WEBHOOK_PATH
    )
