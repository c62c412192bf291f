"""Which business date a run reconciles: one rule for the tasks and for the alerts about them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def business_date_for(
    param: str | dt.date | None,
    logical: dt.datetime | None,
    *,
    timezone: str | None = None,
    days_before: int = 0,
) -> dt.date | None:
    """The ``business_date`` param if given, else the run's date in ``timezone`` minus
    ``days_before`` (a 07:30 IST run that reconciles the day before: "Asia/Kolkata", 1).

    :raises ValueError: the param is not an ISO date.
    """
    if isinstance(param, dt.date):
        return param
    if param:
        return dt.date.fromisoformat(str(param)[:10])
    if logical is None:
        return None
    local = logical.astimezone(ZoneInfo(timezone)) if timezone else logical
    return local.date() - dt.timedelta(days=days_before)
