"""What every recon DAG shares: the ``@dag`` header (a static start, no catch-up, native
templates), retries with backoff, a bound on each try, an owner and failure alerts for its
tasks, and the business date param."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from airflow.sdk import Param

from recon_airflow.notifiers.alerts import FailureAlert
from recon_airflow.timeouts import TASK_EXECUTION_TIMEOUT, DagWideTimeout


def business_date_param(description: str, **ui: Any) -> Param:
    """The ``business_date`` trigger param every recon DAG has: an ISO date, or empty for the
    schedule's (``description`` says which day that is; ``ui``: e.g. the form's ``section``)."""
    return Param(
        None,
        type=["null", "string"],
        format="date",
        title="Business date",
        description=description,
        **ui,
    )


def choice_param(options: Sequence[str], *, title: str, description: str, **ui: Any) -> Param:
    """Some of ``options`` (all by default), each at most once: e.g. which processors to run."""
    return Param(
        list(options),
        type="array",
        items={"type": "string", "enum": list(options)},
        uniqueItems=True,
        minItems=1,
        title=title,
        description=description,
        **ui,
    )


def override_param(*, title: str, description: str, maximum: float | None = None) -> Param:
    """An optional number >= 0 that overrides a configured one (empty keeps the config's)."""
    schema: dict[str, Any] = {"type": ["null", "number"], "minimum": 0}
    if maximum is not None:
        schema["maximum"] = maximum
    return Param(None, title=title, description=description, **schema)


def text_list_param(*, title: str, description: str, required: bool = False, **ui: Any) -> Param:
    """A list of non-empty texts, one per line in the form (``required``: at least one, and no
    default; else empty by default)."""
    schema: dict[str, Any] = {"type": "array", "items": {"type": "string", "minLength": 1}}
    if required:
        return Param(minItems=1, title=title, description=description, **schema, **ui)
    return Param([], title=title, description=description, **schema, **ui)


def flag_param(default: bool, *, title: str, description: str, **ui: Any) -> Param:
    """A yes/no switch."""
    return Param(default, type="boolean", title=title, description=description, **ui)


def default_args(
    *,
    owner: str,
    emails: Sequence[str],
    smtp_conn_id: str,
    slack_conn_id: str,
    timezone: str,
    days_before: int,
) -> dict[str, Any]:
    """3 retries with exponential backoff (2 min, up to 30), each try bounded (1 h, or the task
    class's own bound: ``recon_airflow.timeouts``), and email + Slack on any failure naming the
    business date the run was for (``timezone`` / ``days_before``: its rule)."""
    return {
        "owner": owner,
        "execution_timeout": DagWideTimeout(seconds=TASK_EXECUTION_TIMEOUT.total_seconds()),
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


START_DATE = (2026, 1, 1)


def dag_settings(
    *,
    doc_md: str | None,
    timezone: str,
    days_before: int,
    owner: str,
    emails: Sequence[str],
    tags: Sequence[str],
    smtp_conn_id: str = "recon_smtp",
    slack_conn_id: str = "recon_slack",
    max_active_runs: int = 2,
    start_date: tuple[int, int, int] = START_DATE,
    native_templates: bool = True,
) -> dict[str, Any]:
    """The ``@dag(...)`` / ``DAG(...)`` arguments every recon DAG has besides its id, schedule
    and params: ``@dag(dag_id=..., schedule=..., params={...}, **dag_settings(...))``.

    A static start in the recon's time zone, no catch-up (a backfill is asked for, never a
    surprise), native templates (lists and numbers from the form stay what they are), and
    :func:`default_args` with its failure alerts.
    """
    import pendulum

    return {
        "doc_md": doc_md,
        "start_date": pendulum.datetime(*start_date, tz=timezone),
        "catchup": False,
        "max_active_runs": max_active_runs,
        "tags": list(tags),
        "default_args": default_args(
            owner=owner,
            emails=emails,
            smtp_conn_id=smtp_conn_id,
            slack_conn_id=slack_conn_id,
            timezone=timezone,
            days_before=days_before,
        ),
        "render_template_as_native_obj": native_templates,
    }
