"""What every recon DAG's tasks share: retries with backoff, an owner and failure alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from recon_airflow.notifiers.alerts import FailureAlert


def default_args(
    *,
    owner: str,
    emails: Sequence[str],
    smtp_conn_id: str,
    slack_conn_id: str,
    timezone: str,
    days_before: int,
) -> dict[str, Any]:
    """3 retries with exponential backoff (2 min, up to 30), and email + Slack on any failure
    naming the business date the run was for (``timezone`` / ``days_before``: its rule)."""
    return {
        "owner": owner,
        "retries": 3,
        "retry_delay": dt.timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": dt.timedelta(minutes=30),
        "on_failure_callback": FailureAlert(
            list(emails),
            smtp_conn_id=smtp_conn_id,
            slack_conn_id=slack_conn_id,
            timezone=timezone,
            days_before=days_before,
        ),
    }
