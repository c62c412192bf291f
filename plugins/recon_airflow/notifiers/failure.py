"""The failure alert of a task: which task of which run, for which date, why, and a log link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from recon_airflow.dates import asked_date, business_date_for, run_date
from recon_airflow.notifiers.text import (
    PREFIX,
    cut,
    date_text,
    int_or_none,
    is_web_link,
    one_line,
    slack_escape,
    slack_link,
    str_or_none,
    template,
)

ERROR_LIMIT: Final = 2000  # characters of an error kept in a failure message
SLACK_ERROR_LIMIT: Final = 500


@dataclass(frozen=True)
class FailureInfo:
    """What a failure alert says: which task of which run, for which date, why, and where to look."""

    dag_id: str
    task_id: str
    map_index: int | None  # None for an unmapped task (Airflow's -1)
    run_id: str
    business_date: str | None
    try_number: int
    max_tries: int  # retries allowed: the last try is number max_tries + 1
    error: str  # exception type and message, cut to ERROR_LIMIT characters
    log_url: str | None

    @property
    def task(self) -> str:
        """``aum_recon.fetch_registrar[1]``: the DAG, the task and the map index if mapped."""
        index = f"[{self.map_index}]" if self.map_index is not None else ""
        return f"{self.dag_id}.{self.task_id}{index}"

    @property
    def attempt(self) -> str:
        return f"try {self.try_number} of {self.max_tries + 1}"


def failure_info(
    context: Mapping[str, Any], *, timezone: str | None = None, days_before: int = 0
) -> FailureInfo:
    """Read a FailureInfo from an Airflow task context; missing pieces become ``unknown``/None.

    ``timezone`` and ``days_before`` state how a run's date maps to its business date (see
    :func:`recon_airflow.dates.business_date_of`).
    """
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    map_index = int_or_none(getattr(ti, "map_index", None))
    max_tries = getattr(ti, "max_tries", None)
    if max_tries is None:
        max_tries = getattr(context.get("task"), "retries", 0)
    return FailureInfo(
        dag_id=str(
            getattr(context.get("dag"), "dag_id", None) or getattr(ti, "dag_id", None) or "unknown"
        ),
        task_id=str(
            getattr(ti, "task_id", None)
            or getattr(context.get("task"), "task_id", None)
            or "unknown"
        ),
        map_index=map_index if map_index is not None and map_index >= 0 else None,
        run_id=str(
            getattr(dag_run, "run_id", None)
            or context.get("run_id")
            or getattr(ti, "run_id", None)
            or "unknown"
        ),
        business_date=shown_business_date(context, timezone=timezone, days_before=days_before),
        try_number=int_or_none(getattr(ti, "try_number", None)) or 0,
        max_tries=int_or_none(max_tries) or 0,
        error=error_text(context.get("exception")),
        log_url=str_or_none(getattr(ti, "log_url", None)),
    )


def shown_business_date(
    context: Mapping[str, Any], *, timezone: str | None = None, days_before: int = 0
) -> str | None:
    """The business date an alert names: the run's (see ``recon_airflow.dates``), the param as
    given when it is not a date, None when there is neither."""
    param = asked_date(context)
    try:
        day = business_date_for(
            param, run_date(context), timezone=timezone, days_before=days_before
        )
    except ValueError:
        return date_text(param)
    return day.isoformat() if day else None


def error_text(error: object, limit: int = ERROR_LIMIT) -> str:
    """``ValueError: bad folio`` from an exception (or a message), cut to ``limit`` characters."""
    if error is None:
        return "no exception in the task context (see the log)"
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    return cut(text, limit)


def failure_email(info: FailureInfo) -> tuple[str, str]:
    """Subject and HTML body of the email sent when a task has failed for good."""
    return failure_subject(info), template("failure").render(
        info=info,
        rows=[
            ("DAG", info.dag_id),
            ("Task", info.task_id),
            ("Map index", "—" if info.map_index is None else str(info.map_index)),
            ("Business date", info.business_date or "—"),
            ("Run", info.run_id),
            ("Attempt", info.attempt),
        ],
        log_link=info.log_url if info.log_url and is_web_link(info.log_url) else None,
    )


def failure_subject(info: FailureInfo) -> str:
    when = f"for {info.business_date}" if info.business_date else f"(run {info.run_id})"
    return one_line(f"{PREFIX} FAILED {info.task} {when}")


def failure_slack(info: FailureInfo) -> str:
    """Slack mrkdwn: the task, the date, the attempt, the error and a log link."""
    when = f" for {info.business_date}" if info.business_date else ""
    lines = [
        f":x: *{PREFIX} FAILED* `{slack_escape(info.task)}`{slack_escape(when)} "
        f"({info.attempt}, run `{slack_escape(info.run_id)}`)",
        "```" + slack_escape(cut(info.error, SLACK_ERROR_LIMIT).replace("```", "'''")) + "```",
    ]
    if info.log_url:
        lines.append(f"Log: {slack_link(info.log_url, 'open the task log')}")
    return "\n".join(lines)
