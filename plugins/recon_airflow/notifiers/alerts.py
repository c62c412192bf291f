"""Send recon's alerts: the run summary (email always, Slack on a threshold breach) and the
on-failure alert of every task (email and Slack); ``SummaryAlertOperator`` is the summary task.

The messages come from :mod:`recon_airflow.notifiers.messages`. They are sent through the
providers' hooks rather than their notifiers: ``BaseNotifier`` renders its fields as Jinja
templates, and a message that quotes data (a folio holding ``{{ ... }}``) must never be
evaluated as one.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, cast

from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
from airflow.providers.smtp.hooks.smtp import SmtpHook
from airflow.sdk import BaseNotifier, BaseOperator, Context
from airflow.sdk.exceptions import AirflowException
from slack_sdk.errors import SlackClientError

from recon.result import RESULTS_FILE
from recon_airflow.errors import BadInputError, ServiceUnavailableError
from recon_airflow.notifiers.messages import (
    failure_email,
    failure_info,
    failure_slack,
    needs_alert,
    summary_email,
    summary_slack,
)
from recon_airflow.outcome import Outcome
from recon_airflow.timeouts import NOTIFY_EXECUTION_TIMEOUT, with_execution_timeout

log = logging.getLogger(__name__)

SMTP_CONN_ID: Final = "recon_smtp"
SLACK_CONN_ID: Final = "recon_slack"

# What a send fails with when the server, the network or the connection is wrong: smtplib's
# and urllib's errors are OSErrors; the hooks raise AirflowException for a missing connection
# or a non-200 answer.
SEND_ERRORS: Final = (OSError, AirflowException, SlackClientError)

# slack_sdk logs the full webhook URL (the secret) at DEBUG, and again at INFO when it retries:
# its client gets a logger of its own that lets warnings through only.
_slack_client_log = logging.getLogger(f"{__name__}.slack_client")
_slack_client_log.setLevel(logging.WARNING)


def send_email(
    to: Sequence[str],
    subject: str,
    html: str,
    *,
    smtp_conn_id: str = SMTP_CONN_ID,
    files: Sequence[str] = (),
) -> None:
    """Send one HTML email (sender from the connection's ``from_email``), files attached.

    The server has the connection's ``timeout`` extra (the provider's 30 s by default) for each
    answer; running out of it raises ``ServiceUnavailableError`` naming the connection.
    """
    hook = SmtpHook(smtp_conn_id=smtp_conn_id)
    try:
        with attachments(files) as named, hook:
            hook.send_email_smtp(
                to=list(to), subject=subject, html_content=html, files=named or None
            )
    except (TimeoutError, smtplib.SMTPServerDisconnected, AirflowException) as exc:
        # the hook says only "Unable to connect" when the server's greeting timed out
        if isinstance(exc, AirflowException) and "Unable to connect" not in str(exc):
            raise
        raise ServiceUnavailableError(
            f"SMTP connection `{smtp_conn_id}` ({hook.host}:{hook.port}): no answer within "
            f"timeout {hook.timeout} s; the task will be retried"
        ) from exc


def send_slack(text: str, *, slack_conn_id: str = SLACK_CONN_ID) -> None:
    """Post one mrkdwn message to the incoming webhook of ``slack_conn_id``.

    The webhook has the connection's ``timeout`` extra (slack_sdk's 30 s by default) to answer;
    running out of it raises ``ServiceUnavailableError`` naming the connection (never the URL:
    it is the secret).
    """
    hook = SlackWebhookHook(slack_webhook_conn_id=slack_conn_id, logger=_slack_client_log)
    try:
        hook.send(text=text, unfurl_links=False, unfurl_media=False)
    except TimeoutError as exc:
        seconds = hook.client.timeout
        raise ServiceUnavailableError(
            f"Slack webhook connection `{slack_conn_id}`: no answer within timeout {seconds} s; "
            "the task will be retried"
        ) from exc


def send_summary(
    outcomes: Sequence[Outcome],
    *,
    recon: str,
    business_date: dt.date | str,
    email_to: Sequence[str] | str,
    smtp_conn_id: str = SMTP_CONN_ID,
    slack_conn_id: str | None = SLACK_CONN_ID,
    attach: Sequence[str] = (),
    top_breaks: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> dict[str, bool]:
    """Email the run summary, and post it to Slack when a source failed its thresholds
    (``slack_conn_id`` None: e-mail only, e.g. an ad-hoc recon's report to whoever asked).

    Both channels are tried even if one fails; then the first error is raised, so the task's
    retries send again (a retry may repeat a message; an alert is never lost in silence).

    :param attach: local report files to attach (``Outcome["reports"]`` values)
    :returns: what was sent, ``{"email": True, "slack": bool}``
    """
    subject, html = summary_email(
        outcomes,
        recon=recon,
        business_date=business_date,
        top_breaks=top_breaks,
        attached=attach,
    )
    errors: list[BaseException] = []
    try:
        send_email(recipients(email_to), subject, html, smtp_conn_id=smtp_conn_id, files=attach)
    except SEND_ERRORS as exc:
        _log_failure("summary email", smtp_conn_id, exc)
        errors.append(exc)
    slack = slack_conn_id is not None and needs_alert(outcomes)
    if slack and slack_conn_id is not None:
        try:
            send_slack(
                summary_slack(outcomes, recon=recon, business_date=business_date),
                slack_conn_id=slack_conn_id,
            )
        except SEND_ERRORS as exc:
            _log_failure("summary Slack message", slack_conn_id, exc)
            errors.append(exc)
    if errors:
        raise errors[0]
    if slack:
        channels = "email and Slack"
    elif slack_conn_id is None:
        channels = "email only (no Slack for this summary)"
    else:
        channels = "email (thresholds passed: no Slack message)"
    log.info("recon summary for %s %s sent by %s", recon, business_date, channels)
    return {"email": True, "slack": slack}


class FailureAlert(BaseNotifier):
    """The ``on_failure_callback`` of every recon DAG: the failure email and the Slack message,
    each tried once.

    A failing alert is logged (connection id and error) and never raised: it must not hide the
    task's own error. ``timezone`` and ``days_before`` say which business date a run without a
    ``business_date`` param is for (see :func:`recon_airflow.dates.business_date_of`). The
    messages are built by pure functions (``recon_airflow.notifiers.failure``).
    """

    # nothing templated: the recipients and connection ids are the DAG's constants
    template_fields: Sequence[str] = ()
    _FIELDS = ("email_to", "smtp_conn_id", "slack_conn_id", "timezone", "days_before")

    def __init__(
        self,
        email_to: Sequence[str] | str,
        *,
        smtp_conn_id: str = SMTP_CONN_ID,
        slack_conn_id: str = SLACK_CONN_ID,
        timezone: str | None = None,
        days_before: int = 0,
    ) -> None:
        super().__init__()
        self.email_to = recipients(email_to)
        self.smtp_conn_id = smtp_conn_id
        self.slack_conn_id = slack_conn_id
        self.timezone = timezone
        self.days_before = days_before

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        # callbacks can be handed a DAG without a template environment (a serialized DAG, as
        # AIRFLOW-NOTES records for dag.test()): render with a plain sandbox then, never fail
        if jinja_env is None and not hasattr(context.get("dag"), "get_template_env"):
            jinja_env = self.get_template_env(dag=None)
        super().render_template_fields(context, jinja_env)

    def notify(self, context: Any) -> None:
        info = failure_info(context, timezone=self.timezone, days_before=self.days_before)
        _attempt(
            "failure email",
            self.smtp_conn_id,
            lambda: send_email(self.email_to, *failure_email(info), smtp_conn_id=self.smtp_conn_id),
        )
        _attempt(
            "failure Slack message",
            self.slack_conn_id,
            lambda: send_slack(failure_slack(info), slack_conn_id=self.slack_conn_id),
        )

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={v!r}" for n, v in zip(self._FIELDS, self._values(), strict=True))
        return f"FailureAlert({fields})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FailureAlert) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())


def recipients(email_to: Sequence[str] | str) -> tuple[str, ...]:
    """Addresses as a tuple: one string may hold several, separated by ``,`` or ``;``."""
    items = [email_to] if isinstance(email_to, str) else list(email_to)
    found = tuple(
        address.strip()
        for item in items
        for address in item.replace(";", ",").split(",")
        if address.strip()
    )
    if not found:
        raise ValueError("no email recipient: give at least one address in email_to")
    return found


def _attempt(what: str, conn_id: str, send: Callable[[], None]) -> bool:
    """Run one send of a failure alert; log and swallow whatever goes wrong."""
    try:
        send()
    # the one place recon catches everything: an alert about a failure must never raise over
    # it (Airflow would log it and go on anyway), and one channel's trouble, even a bug in a
    # message, must not keep the other channel quiet
    except Exception as exc:
        _log_failure(what, conn_id, exc)
        return False
    log.info("%s sent through connection %r", what, conn_id)
    return True


def _log_failure(what: str, conn_id: str, exc: BaseException) -> None:
    # the error's type and text only: exception texts from these clients name hosts and status
    # codes, never credentials, while a traceback adds nothing an operator can act on here
    log.error(
        "could not send the %s through connection %r: %s: %s",
        what,
        conn_id,
        type(exc).__name__,
        exc,
    )


@contextmanager
def attachments(files: Sequence[str]) -> Iterator[list[str]]:
    """The files under distinct attachment names, for the duration of one send.

    Every source's reports share their names (``report.xlsx``), and a mail client shows only
    the name: on a clash each file is linked into a temporary folder as ``<folder>_<name>``
    (``CAMS_report.xlsx``, the folder being the source's).
    """
    paths = [Path(f) for f in files]
    if len({p.name for p in paths}) == len(paths):
        yield [str(p) for p in paths]
        return
    with tempfile.TemporaryDirectory(prefix="recon-attach-") as folder:
        named: list[str] = []
        for i, path in enumerate(paths):
            name = f"{path.parent.name}_{path.name}"
            if any(Path(n).name == name for n in named):
                name = f"{i + 1}_{name}"
            link = Path(folder) / name
            link.symlink_to(path.resolve())
            named.append(str(link))
        yield named


def read_top_breaks(outcomes: Sequence[Outcome], limit: int) -> dict[str, list[dict[str, Any]]]:
    """Each source's ``limit`` largest breaks, read from its local ``results.parquet``.

    A source whose results are not a local file (or ``limit`` 0) shows none: the email still
    carries its counts and links.
    """
    found: dict[str, list[dict[str, Any]]] = {}
    paths = {o["source"]: Path(o["result_dir"]) / RESULTS_FILE for o in outcomes}
    if limit <= 0 or not any(path.is_file() for path in paths.values()):
        return found
    import polars as pl  # task run time only: the DAG file imports this module at every parse

    from recon.reports.view import break_rows, by_break_amount

    for o in outcomes:
        if not paths[o["source"]].is_file():
            log.info("no local results for %s: its largest breaks are left out", o["source"])
            continue
        breaks = break_rows(pl.scan_parquet(paths[o["source"]]))
        found[o["source"]] = by_break_amount(breaks, o["keys"]).head(limit).collect().to_dicts()
    return found


class SummaryAlertOperator(BaseOperator):
    """Send a run's summary: email always (reports attached if asked), Slack on a breach.

    :param outcomes: the reconciled partitions (``Outcome`` dicts, e.g. a task's XCom)
    :param attach_formats: report formats to attach from each source's local reports (``xlsx``)
    :param top_breaks: how many of each source's largest breaks the email lists
    """

    template_fields: Sequence[str] = ("outcomes", "recon", "business_date", "email_to")
    ui_color = "#fdebd0"

    def __init__(
        self,
        *,
        outcomes: Any,
        recon: str,
        business_date: dt.date | str,
        email_to: Sequence[str] | str,
        smtp_conn_id: str = SMTP_CONN_ID,
        slack_conn_id: str = SLACK_CONN_ID,
        attach_formats: Sequence[str] = (),
        top_breaks: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**with_execution_timeout(kwargs, NOTIFY_EXECUTION_TIMEOUT))
        self.outcomes = outcomes
        self.recon = recon
        self.business_date = business_date
        self.email_to = email_to
        self.smtp_conn_id = smtp_conn_id
        self.slack_conn_id = slack_conn_id
        self.attach_formats = tuple(attach_formats)
        self.top_breaks = top_breaks

    def execute(self, context: Context) -> dict[str, bool]:
        outcomes = outcome_list(self.outcomes)
        attach = [
            path
            for o in outcomes
            for fmt in self.attach_formats
            if (path := o.get("reports", {}).get(fmt)) and Path(path).is_file()
        ]
        return send_summary(
            outcomes,
            recon=self.recon,
            business_date=str(self.business_date),
            email_to=self.email_to,
            smtp_conn_id=self.smtp_conn_id,
            slack_conn_id=self.slack_conn_id,
            attach=attach,
            top_breaks=read_top_breaks(outcomes, self.top_breaks),
        )


def outcome_list(value: Any) -> list[Outcome]:
    """The outcomes as a list; a rendered string or a non-dict item is a wiring mistake."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise BadInputError(
            f"outcomes must be a list of Outcome dicts, got {type(value).__name__}: pass the "
            "reconcile task's .output, or render templates as native objects "
            "(render_template_as_native_obj=True)"
        )
    items = [item for item in value if item is not None]  # a skipped mapped source leaves None
    wrong = [type(item).__name__ for item in items if not isinstance(item, Mapping)]
    if wrong:
        raise BadInputError(f"outcomes must be Outcome dicts, got {', '.join(wrong)}")
    return [cast(Outcome, item) for item in items]
