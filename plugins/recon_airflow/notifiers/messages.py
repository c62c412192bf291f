"""The words of recon's alerts: summary and failure messages for email (HTML) and Slack.

Pure functions of plain data (no Airflow import, no I/O but reading the templates), so every
message can be read and tested without a server. HTML goes through jinja2 with autoescaping
(``templates/*.html.j2``); Slack text escapes ``&``, ``<`` and ``>`` as Slack asks, so a hostile
value in a key can neither run in a mail client nor ping a channel.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from recon_airflow.dates import business_date_for
from recon_airflow.outcome import Outcome

PREFIX: Final = "[recon]"
ERROR_LIMIT: Final = 2000  # characters of an error kept in a failure message
SLACK_ERROR_LIMIT: Final = 500
RISK_ORDER: Final = ("LOW", "MEDIUM", "HIGH")
_RISK_COLOURS: Final = {"LOW": "#2e7d32", "MEDIUM": "#ef6c00", "HIGH": "#c62828"}
_SLACK_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_WEB_LINK: Final = re.compile(r"https?://\S+\Z", re.IGNORECASE)


# --- failure ------------------------------------------------------------------------------------


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
    :func:`business_date_of`).
    """
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    map_index = _int_or_none(getattr(ti, "map_index", None))
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
        business_date=business_date_of(context, timezone=timezone, days_before=days_before),
        try_number=_int_or_none(getattr(ti, "try_number", None)) or 0,
        max_tries=_int_or_none(max_tries) or 0,
        error=error_text(context.get("exception")),
        log_url=_str_or_none(getattr(ti, "log_url", None)),
    )


def business_date_of(
    context: Mapping[str, Any], *, timezone: str | None = None, days_before: int = 0
) -> str | None:
    """The ``business_date`` param if set, else the date of the run's logical date or interval end.

    A pipeline whose 07:30 IST run reconciles the day before says so with
    ``timezone="Asia/Kolkata", days_before=1``. A manual run in Airflow 3 may have no logical
    date at all: then None.
    """
    params = context.get("params")
    param = params.get("business_date") if isinstance(params, Mapping) else None
    if param and not isinstance(param, dt.date):
        return _date_text(param)  # shown as given, even when it is not a valid date
    dag_run = context.get("dag_run")
    logical = None
    for name in ("logical_date", "data_interval_end"):
        value = context.get(name) or getattr(dag_run, name, None)
        if isinstance(value, dt.datetime):
            logical = value
            break
    day = business_date_for(param, logical, timezone=timezone, days_before=days_before)
    return day.isoformat() if day else None


def error_text(error: object, limit: int = ERROR_LIMIT) -> str:
    """``ValueError: bad folio`` from an exception (or a message), cut to ``limit`` characters."""
    if error is None:
        return "no exception in the task context (see the log)"
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    return _cut(text, limit)


def failure_email(info: FailureInfo) -> tuple[str, str]:
    """Subject and HTML body of the email sent when a task has failed for good."""
    return failure_subject(info), _template("failure").render(
        info=info,
        rows=[
            ("DAG", info.dag_id),
            ("Task", info.task_id),
            ("Map index", "—" if info.map_index is None else str(info.map_index)),
            ("Business date", info.business_date or "—"),
            ("Run", info.run_id),
            ("Attempt", info.attempt),
        ],
        log_link=info.log_url if info.log_url and _is_web_link(info.log_url) else None,
    )


def failure_subject(info: FailureInfo) -> str:
    when = f"for {info.business_date}" if info.business_date else f"(run {info.run_id})"
    return _one_line(f"{PREFIX} FAILED {info.task} {when}")


def failure_slack(info: FailureInfo) -> str:
    """Slack mrkdwn: the task, the date, the attempt, the error and a log link."""
    when = f" for {info.business_date}" if info.business_date else ""
    lines = [
        f":x: *{PREFIX} FAILED* `{slack_escape(info.task)}`{slack_escape(when)} "
        f"({info.attempt}, run `{slack_escape(info.run_id)}`)",
        "```" + slack_escape(_cut(info.error, SLACK_ERROR_LIMIT).replace("```", "'''")) + "```",
    ]
    if info.log_url:
        lines.append(f"Log: {slack_link(info.log_url, 'open the task log')}")
    return "\n".join(lines)


# --- summary ------------------------------------------------------------------------------------


def needs_alert(outcomes: Sequence[Outcome]) -> bool:
    """True when any source failed its thresholds: Slack hears only then, email always."""
    return any(o.get("summary", {}).get("threshold_passed") is False for o in outcomes)


def summary_subject(outcomes: Sequence[Outcome], *, recon: str, business_date: str) -> str:
    """``[recon] aum_recon 2026-11-20: 42 breaks (CAMS 20, KARVY 22) — HIGH`` or ``... all matched``."""
    head = f"{PREFIX} {recon} {business_date}"
    if not outcomes:
        return _one_line(f"{head}: no source reconciled")
    breaks = {o["source"]: _int(o["summary"].get("breaks")) for o in outcomes}
    total = sum(breaks.values())
    if total == 0:
        return _one_line(f"{head}: all matched")
    per_source = ", ".join(f"{source} {n:,}" for source, n in breaks.items() if n)
    return _one_line(
        f"{head}: {total:,} {_plural(total, 'break')} ({per_source}) — {worst_risk(outcomes)}"
    )


def worst_risk(outcomes: Sequence[Outcome]) -> str:
    levels = [str(o["summary"].get("risk_level") or "").upper() for o in outcomes]
    known = [level for level in levels if level in RISK_ORDER]
    return max(known, key=RISK_ORDER.index) if known else "UNKNOWN"


def summary_email(
    outcomes: Sequence[Outcome],
    *,
    recon: str,
    business_date: str,
    top_breaks: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    attached: Collection[str] = (),
) -> tuple[str, str]:
    """Subject and HTML body of the run summary.

    :param top_breaks: source -> the largest breaks, rows of ``results.parquet`` as dicts
    :param attached: local report paths (``Outcome["reports"]`` values) attached to the email
    """
    sides = _common_labels(outcomes)
    headers = [
        "Source",
        "Keys",
        "Matched",
        "Mismatched",
        f"{sides[0]} only",
        f"{sides[1]} only",
        "Duplicate",
        "Invalid",
        "Break rate",
        "Discrepancy",
        "Risk",
        "Thresholds",
    ]
    return summary_subject(outcomes, recon=recon, business_date=business_date), _template(
        "summary"
    ).render(
        recon=recon,
        business_date=business_date,
        headline=_headline(outcomes),
        headers=headers,
        sources=[_source_view(o, sides, set(attached)) for o in outcomes],
        top=[
            _top_view(o, (top_breaks or {}).get(o["source"], ()))
            for o in outcomes
            if (top_breaks or {}).get(o["source"])
        ],
        colours=_RISK_COLOURS,
    )


def summary_slack(outcomes: Sequence[Outcome], *, recon: str, business_date: str) -> str:
    """Slack mrkdwn: a headline, then one line per source with its counts and report links."""
    icon = ":rotating_light:" if needs_alert(outcomes) else ":white_check_mark:"
    subject = summary_subject(outcomes, recon=recon, business_date=business_date)
    lines = [f"{icon} *{slack_escape(subject)}*"]
    for o in outcomes:
        s = o["summary"]
        counts = s.get("counts", {})
        left, right = _labels(o)
        figures = ", ".join(
            [
                f"{_count(s.get('total_keys'))} keys",
                f"{_count(counts.get('matched'))} matched",
                f"{_count(counts.get('mismatched'))} mismatched",
                f"{_count(counts.get('left_only'))} {left} only",
                f"{_count(counts.get('right_only'))} {right} only",
                f"{_count(counts.get('duplicate'))} duplicate",
                f"{_count(counts.get('invalid'))} invalid",
            ]
        )
        verdict = "thresholds FAILED" if s.get("threshold_passed") is False else "within thresholds"
        links = " ".join(slack_link(link, fmt) for fmt, link in o.get("report_links", {}).items())
        line = (
            f"• *{slack_escape(o['source'])}*: {slack_escape(figures)} — break rate "
            f"{_percent(s.get('break_rate'))}, {slack_escape(str(s.get('risk_level') or '—'))}, "
            f"{verdict}"
        )
        lines.append(f"{line} — {links}" if links else line)
    return "\n".join(lines)


# --- Slack text ---------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>``: the only characters Slack gives a meaning to in text."""
    return text.translate(_SLACK_ESCAPES)


def slack_link(target: str, label: str) -> str:
    """``<url|label>`` for a web link; a local path is shown as code, since Slack cannot open it."""
    if _is_web_link(target):
        url = slack_escape(target.replace("|", "%7C"))
        return f"<{url}|{slack_escape(label.replace('|', '/'))}>"
    path = slack_escape(target.replace("`", "'"))
    return f"{slack_escape(label)}: `{path}`"


# --- views --------------------------------------------------------------------------------------


def _headline(outcomes: Sequence[Outcome]) -> str:
    failed = [o["source"] for o in outcomes if o["summary"].get("threshold_passed") is False]
    total = sum(_int(o["summary"].get("breaks")) for o in outcomes)
    if not outcomes:
        return "No source was reconciled."
    if failed:
        return f"{total:,} {_plural(total, 'break')}; thresholds failed for {', '.join(failed)}."
    if total:
        return f"{total:,} {_plural(total, 'break')}, all within thresholds."
    return "Every key matched."


def _source_view(outcome: Outcome, sides: tuple[str, str], attached: set[str]) -> dict[str, Any]:
    s = outcome["summary"]
    counts = s.get("counts", {})
    labels = _labels(outcome)
    source = outcome["source"]
    risk = str(s.get("risk_level") or "—")
    return {
        "source": source if labels == sides else f"{source} ({labels[0]} / {labels[1]})",
        "numbers": [
            _count(s.get("total_keys")),
            *(
                _count(counts.get(status))
                for status in (
                    "matched",
                    "mismatched",
                    "left_only",
                    "right_only",
                    "duplicate",
                    "invalid",
                )
            ),
            _percent(s.get("break_rate")),
            _amount(s.get("discrepancy_amount")),
        ],
        "risk": risk,
        "failed": s.get("threshold_passed") is False,
        "links": [
            {
                "format": fmt,
                "target": target,
                "web": _is_web_link(target),
                "attached": outcome.get("reports", {}).get(fmt) in attached,
            }
            for fmt, target in outcome.get("report_links", {}).items()
        ],
    }


def _top_view(outcome: Outcome, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    left, right = _labels(outcome)
    status_words = {"left_only": f"{left} only", "right_only": f"{right} only"}
    keys = outcome.get("keys") or []
    amount_field = outcome.get("amount_field")
    shown = []
    for row in rows:
        mismatched = [str(f) for f in row.get("mismatched_fields") or ()]
        field = amount_field if amount_field and _has_field(row, amount_field) else None
        field = field or (mismatched[0] if mismatched else None)
        status = str(row.get("status") or "")
        shown.append(
            {
                "key": " / ".join(_value(row.get(k)) for k in keys) or "—",
                "status": status_words.get(status, status),
                "field": field or "",
                "left": _value(row.get(f"left_{field}")) if field else "",
                "right": _value(row.get(f"right_{field}")) if field else "",
                "difference": _value(_first(row.get(f"diff_{field}"), row.get("break_amount"))),
                "note": _value(row.get("reason")) or ", ".join(mismatched),
            }
        )
    return {"source": outcome["source"], "left": left, "right": right, "rows": shown}


def _first(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def _has_field(row: Mapping[str, Any], field: str) -> bool:
    return row.get(f"left_{field}") is not None or row.get(f"right_{field}") is not None


def _labels(outcome: Outcome) -> tuple[str, str]:
    labels = outcome.get("labels") or outcome["summary"].get("labels") or {}
    return str(labels.get("left") or "left"), str(labels.get("right") or "right")


def _common_labels(outcomes: Sequence[Outcome]) -> tuple[str, str]:
    """The sources' side labels if they all share them, else the neutral ``left``/``right``."""
    labels = {_labels(o) for o in outcomes}
    return labels.pop() if len(labels) == 1 else ("left", "right")


# --- text helpers -------------------------------------------------------------------------------


def _is_web_link(target: str) -> bool:
    return bool(_WEB_LINK.match(target))


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _count(value: Any) -> str:
    return "—" if value is None else f"{_int(value):,}"


def _percent(value: Any) -> str:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "—"
    if 0 < value < 0.0001:
        return "<0.01%"
    return f"{value:.2%}"


def _amount(value: Any) -> str:
    if not isinstance(value, int | float | Decimal) or not math.isfinite(value):
        return "—"
    return f"{value:,.2f}"


def _value(value: Any) -> str:
    """A data value for reading: numbers with separators and no float noise, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | Decimal):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.6f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(_value(item) for item in value)
    return str(value)


def _date_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10] if re.match(r"\d{4}-\d{2}-\d{2}", str(value)) else str(value)


def _plural(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def _one_line(text: str) -> str:
    """A header value: no line breaks (a CR/LF in a subject would start a new header)."""
    return " ".join(text.split())


# --- templates ----------------------------------------------------------------------------------

TEMPLATE_DIR: Final = Path(__file__).parent / "templates"


@functools.cache
def _template(name: str) -> Template:
    """``templates/<name>_email.html.j2``, read and compiled once; every value is HTML-escaped."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(f"{name}_email.html.j2")
