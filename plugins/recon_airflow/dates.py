"""Which business date a run reconciles: one rule, read one way, for the tasks and their alerts.

Every recon DAG has a ``business_date`` param. A run reconciles that date when it is given,
else ``days_before`` the run's own date in the recon's time zone (a 07:30 IST run that
reconciles the day before: ``"Asia/Kolkata", 1``), so a backfill over a range gives one business
date per run. The plan task of every DAG reads it with :func:`business_date_of` from its
context and hands on a ``datetime.date``, which stays a date through XCom to the stores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

# where a run's own date is, in the order tried: a manual run in Airflow 3 may have no
# logical date, and then its run_after says when it was asked for
_RUN_DATES = ("logical_date", "run_after", "data_interval_end")


def business_date_for(
    param: str | dt.date | None,
    logical: dt.datetime | None,
    *,
    timezone: str | None = None,
    days_before: int = 0,
) -> dt.date | None:
    """The rule: ``param`` if given, else ``logical`` in ``timezone`` minus ``days_before``.

    :raises ValueError: the param is not an ISO date.
    """
    if isinstance(param, dt.date):
        return dt.date(param.year, param.month, param.day)
    if param:
        return dt.date.fromisoformat(str(param)[:10])
    if logical is None:
        return None
    local = logical.astimezone(ZoneInfo(timezone)) if timezone else logical
    day = local.date() - dt.timedelta(days=days_before)
    return dt.date(day.year, day.month, day.day)  # a plain date, never pendulum's subclass


def asked_date(context: Mapping[str, Any]) -> Any:
    """The ``business_date`` param as the run was given it (None when empty)."""
    params = context.get("params")
    return (params.get("business_date") if isinstance(params, Mapping) else None) or None


def run_date(context: Mapping[str, Any]) -> dt.datetime | None:
    """The run's own date: its logical date, else when it was asked to run."""
    dag_run = context.get("dag_run")
    for name in _RUN_DATES:
        value = context.get(name) or getattr(dag_run, name, None)
        if isinstance(value, dt.datetime):
            return value
    return None


def as_date(value: dt.date | str, what: str = "business_date") -> dt.date:
    """``value`` as the one date type the pipelines hand on: a date stays one, and an ISO
    string (a template such as ``{{ ds }}``, a test's literal) is parsed once, here.

    :raises BadInputError: it is not an ISO date.
    """
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        from recon_airflow.errors import BadInputError

        raise BadInputError(f"{what} {value!r} is not an ISO date (YYYY-MM-DD)") from None


def business_date_of(
    context: Mapping[str, Any], *, timezone: str | None = None, days_before: int = 0
) -> dt.date:
    """The business date of the run whose task ``context`` this is.

    :raises BadInputError: the param is not a date, or there is none and no run date.
    """
    from recon_airflow.errors import BadInputError  # Airflow's: the alerts' texts import us

    param = asked_date(context)
    try:
        day = business_date_for(
            param, run_date(context), timezone=timezone, days_before=days_before
        )
    except ValueError:
        raise BadInputError(f"business_date {param!r} is not a date; use YYYY-MM-DD") from None
    if day is None:
        raise BadInputError("no business_date given and the run has no logical date")
    return day


__all__ = ["as_date", "asked_date", "business_date_for", "business_date_of", "run_date"]
