"""Why a task of a job failed, in one line, from the task's own log.

Airflow keeps no error message on a task instance; the reason is in its log. This reads the log
through Airflow's configured reader (``TaskLogReader``: local files, or the remote store the
deployment uses) and takes the last error event: ``AirflowFailException: <message>`` for a
refusal the DAG raised on purpose, else the exception or event that ended the task.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Final

from airflow.models.taskinstance import TaskInstance

log = logging.getLogger(__name__)

MAX_REASON: Final = 500
_ERROR_LEVELS: Final = frozenset({"error", "critical", "fatal"})


def failure_reason(ti: TaskInstance) -> str | None:
    """The error the task's last try ended on, or None when its log says nothing usable."""
    from airflow.utils.log.log_reader import TaskLogReader

    if not ti.try_number:
        return None
    try:
        stream, _ = TaskLogReader().read_log_chunks(ti, ti.try_number, {"end_of_log": False})
        events = [_as_dict(message) for message in stream]
    # A log store can fail in as many ways as there are stores; the reason is an extra on a
    # status answer, which must not fail because of it.
    except Exception as exc:
        log.warning("cannot read the log of %s (%s): %s", ti.task_id, ti.run_id, exc)
        return None
    return last_error(events)


def last_error(events: Iterable[Mapping[str, Any]]) -> str | None:
    """The last error-level event as ``ExcType: message`` (its exception) or its text."""
    reason = None
    for event in events:
        if str(event.get("level", "")).lower() not in _ERROR_LEVELS:
            continue
        reason = _exception_text(event.get("error_detail")) or str(event.get("event") or "")
    if not reason:
        return None
    line = " ".join(reason.split())
    return line if len(line) <= MAX_REASON else line[: MAX_REASON - 3] + "..."


def _exception_text(detail: Any) -> str | None:
    """structlog's exception dicts: the first is the raised exception, then its causes."""
    if isinstance(detail, list) and detail and isinstance(detail[0], Mapping):
        raised = detail[0]
        kind = str(raised.get("exc_type") or "").rsplit(".", 1)[-1]
        message = str(raised.get("exc_value") or "")
        return f"{kind}: {message}" if kind and message else kind or message or None
    return None


def _as_dict(message: Any) -> Mapping[str, Any]:
    if isinstance(message, Mapping):
        return message
    if hasattr(message, "model_dump"):
        dumped: Mapping[str, Any] = message.model_dump()
        return dumped
    return {"event": str(message)}


__all__ = ["failure_reason", "last_error"]
