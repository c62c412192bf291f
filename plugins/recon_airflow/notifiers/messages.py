"""The words of recon's alerts: summary and failure messages for email (HTML) and Slack.

Pure functions of plain data (no Airflow import, no I/O but reading the templates), so every
message can be read and tested without a server. HTML goes through jinja2 with autoescaping
(``templates/*.html.j2``); Slack text escapes ``&``, ``<`` and ``>`` as Slack asks, so a hostile
value in a key can neither run in a mail client nor ping a channel.

This module is the public face; the work is done in
:mod:`~recon_airflow.notifiers.summary` (the run summary),
:mod:`~recon_airflow.notifiers.impact` (classified breaks and financial impact in it),
:mod:`~recon_airflow.notifiers.failure` (a task's failure) and
:mod:`~recon_airflow.notifiers.text` (escaping, number formats, templates).
"""

from __future__ import annotations

from recon_airflow.notifiers.failure import (
    ERROR_LIMIT,
    SLACK_ERROR_LIMIT,
    FailureInfo,
    error_text,
    failure_email,
    failure_info,
    failure_slack,
    failure_subject,
    shown_business_date,
)
from recon_airflow.notifiers.impact import NON_COMPLIANT
from recon_airflow.notifiers.summary import (
    RISK_ORDER,
    needs_alert,
    summary_email,
    summary_slack,
    summary_subject,
    worst_risk,
)
from recon_airflow.notifiers.text import PREFIX, TEMPLATE_DIR, slack_escape, slack_link

__all__ = [
    "ERROR_LIMIT",
    "NON_COMPLIANT",
    "PREFIX",
    "RISK_ORDER",
    "SLACK_ERROR_LIMIT",
    "TEMPLATE_DIR",
    "FailureInfo",
    "error_text",
    "failure_email",
    "failure_info",
    "failure_slack",
    "failure_subject",
    "needs_alert",
    "shown_business_date",
    "slack_escape",
    "slack_link",
    "summary_email",
    "summary_slack",
    "summary_subject",
    "worst_risk",
]
