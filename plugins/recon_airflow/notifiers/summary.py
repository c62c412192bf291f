"""The run summary: its subject, the HTML email (every run) and the Slack message (on a breach).

A source with core counts only (the AUM recon) is a row of the status table; a source whose
summary has ``classification`` or ``financial_impact`` (the payments recons) is a row of the
impact table instead (see :mod:`recon_airflow.notifiers.impact`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

from recon.pipeline_config.volume import INCOMPLETE_COMPLIANCE, is_incomplete, volume_problems
from recon_airflow.notifiers.impact import (
    HEADERS as IMPACT_HEADERS,
)
from recon_airflow.notifiers.impact import (
    NON_COMPLIANT,
    break_count,
    impact_slack,
    impact_view,
    is_extended,
    is_non_compliant,
    risk_of,
)
from recon_airflow.notifiers.text import (
    PREFIX,
    amount_text,
    count_text,
    is_web_link,
    one_line,
    percent_text,
    plural,
    slack_escape,
    slack_link,
    template,
    value_text,
)
from recon_airflow.outcome import COMBINED, Outcome

RISK_ORDER: Final = ("LOW", "MEDIUM", "HIGH")
_RISK_COLOURS: Final = {"LOW": "#2e7d32", "MEDIUM": "#ef6c00", "HIGH": "#c62828"}


def needs_alert(outcomes: Sequence[Outcome]) -> bool:
    """True when any source failed its thresholds: Slack hears only then, email always."""
    return any(o.get("summary", {}).get("threshold_passed") is False for o in outcomes)


def summary_subject(
    outcomes: Sequence[Outcome], *, recon: str, business_date: dt.date | str
) -> str:
    """``[recon] aum_recon 2026-11-20: 42 breaks (CAMS 20, KARVY 22) — HIGH`` or ``... all matched``.

    A source with a financial impact that is not compliant is named at the end:
    ``... — HIGH — NON_COMPLIANT (STRIPE)``.
    """
    head = f"{PREFIX} {recon} {business_date}"
    if not outcomes:
        return one_line(f"{head}: no source reconciled")
    non_compliant = [o["source"] for o in outcomes if is_non_compliant(o)]
    tail = f" — {NON_COMPLIANT} ({', '.join(non_compliant)})" if non_compliant else ""
    incomplete = _incomplete(outcomes)
    if incomplete:
        # a day with missing data is never "all matched": it says so first
        head = f"{head}: {INCOMPLETE_COMPLIANCE} ({', '.join(incomplete)});"
    else:
        head = f"{head}:"
    breaks = {o["source"]: break_count(o["summary"]) for o in _counted(outcomes)}
    total = sum(breaks.values())
    if total == 0:
        verdict = f"no breaks — {worst_risk(outcomes)}" if incomplete else "all matched"
        return one_line(f"{head} {verdict}{tail}")
    per_source = ", ".join(f"{source} {n:,}" for source, n in breaks.items() if n)
    return one_line(
        f"{head} {total:,} {plural(total, 'break')} ({per_source}) — {worst_risk(outcomes)}{tail}"
    )


def _incomplete(outcomes: Sequence[Outcome]) -> list[str]:
    """The sources whose data fell short of their volume expectation."""
    return [o["source"] for o in outcomes if is_incomplete(o["summary"])]


def worst_risk(outcomes: Sequence[Outcome]) -> str:
    levels = [risk_of(o["summary"]).upper() for o in outcomes]
    known = [level for level in levels if level in RISK_ORDER]
    return max(known, key=RISK_ORDER.index) if known else "UNKNOWN"


def summary_email(
    outcomes: Sequence[Outcome],
    *,
    recon: str,
    business_date: dt.date | str,
    top_breaks: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    attached: Collection[str] = (),
) -> tuple[str, str]:
    """Subject and HTML body of the run summary.

    :param top_breaks: source -> the largest breaks, rows of ``results.parquet`` as dicts
    :param attached: local report paths (``Outcome["reports"]`` values) attached to the email
    """
    core = [o for o in outcomes if not is_extended(o)]
    sides = _common_labels(core)
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
    impact = [impact_view(o, _labels(o)) for o in outcomes if is_extended(o)]
    sources = {id(o): _source_view(o, sides) for o in core}
    return summary_subject(outcomes, recon=recon, business_date=business_date), template(
        "summary"
    ).render(
        recon=recon,
        business_date=business_date,
        headline=_headline(outcomes),
        headers=headers,
        sources=list(sources.values()),
        impact_headers=IMPACT_HEADERS,
        impact=impact,
        reports=[
            {
                "source": sources[id(o)]["source"] if id(o) in sources else o["source"],
                "links": _links(o, set(attached)),
            }
            for o in outcomes
        ],
        missing=[
            {"source": o["source"], "problems": volume_problems(o["summary"])}
            for o in outcomes
            if is_incomplete(o["summary"])
        ],
        top=[
            _top_view(o, (top_breaks or {}).get(o["source"], ()))
            for o in outcomes
            if (top_breaks or {}).get(o["source"])
        ],
        colours=_RISK_COLOURS,
    )


def summary_slack(outcomes: Sequence[Outcome], *, recon: str, business_date: dt.date | str) -> str:
    """Slack mrkdwn: a headline, then one line per source with its figures and report links.

    A source with a financial impact says its compliance, risk, discrepancy and largest break
    types, and lists its compliance failures beneath; a source whose data fell short of its
    volume expectation says INCOMPLETE and lists which side has how many rows of how many.
    """
    icon = ":rotating_light:" if needs_alert(outcomes) else ":white_check_mark:"
    subject = summary_subject(outcomes, recon=recon, business_date=business_date)
    lines = [f"{icon} *{slack_escape(subject)}*"]
    for o in outcomes:
        links = " ".join(slack_link(link, fmt) for fmt, link in o.get("report_links", {}).items())
        failures: list[str] = []
        if is_extended(o):
            figures, failures = impact_slack(o, _labels(o))
        else:
            figures = _core_slack(o)
        line = f"• *{slack_escape(o['source'])}*: {figures}"
        lines.append(f"{line} — {links}" if links else line)
        # what data is missing first (a financial impact lists it among its failures too)
        missing = [slack_escape(p) for p in volume_problems(o["summary"])]
        failures = [*missing, *(f for f in failures if f not in missing)]
        lines.extend(f"    ↳ {failure}" for failure in failures)
    return "\n".join(lines)


def _core_slack(o: Outcome) -> str:
    """The counts by status, break rate, risk and verdict of one source (escaped mrkdwn)."""
    s = o["summary"]
    counts = s.get("counts", {})
    left, right = _labels(o)
    figures = ", ".join(
        [
            f"{count_text(s.get('total_keys'))} keys",
            f"{count_text(counts.get('matched'))} matched",
            f"{count_text(counts.get('mismatched'))} mismatched",
            f"{count_text(counts.get('left_only'))} {left} only",
            f"{count_text(counts.get('right_only'))} {right} only",
            f"{count_text(counts.get('duplicate'))} duplicate",
            f"{count_text(counts.get('invalid'))} invalid",
        ]
    )
    verdict = _verdict(s)
    return (
        f"{slack_escape(figures)} — break rate "
        f"{percent_text(s.get('break_rate'))}, {slack_escape(str(s.get('risk_level') or '—'))}, "
        f"{verdict}"
    )


# --- views --------------------------------------------------------------------------------------


def _counted(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """The sources whose breaks add up to the run's: all but the combined one, if any other."""
    # the combined source is listed like any source, but left out of the totals, which would
    # count every break twice
    parts = [o for o in outcomes if o["source"] != COMBINED]
    return parts or list(outcomes)


def _headline(outcomes: Sequence[Outcome]) -> str:
    non_compliant = [o["source"] for o in outcomes if is_non_compliant(o)]
    incomplete = _incomplete(outcomes)
    failed = [
        o["source"]
        for o in outcomes
        if o["summary"].get("threshold_passed") is False
        and o["source"] not in non_compliant
        and o["source"] not in incomplete
    ]
    total = sum(break_count(o["summary"]) for o in _counted(outcomes))
    if not outcomes:
        return "No source was reconciled."
    if failed or non_compliant or incomplete:
        verdicts = (
            [f"{INCOMPLETE_COMPLIANCE} (data missing, see below): {', '.join(incomplete)}"]
            if incomplete
            else []
        )
        verdicts += [f"{NON_COMPLIANT}: {', '.join(non_compliant)}"] if non_compliant else []
        verdicts += [f"thresholds failed for {', '.join(failed)}"] if failed else []
        return f"{total:,} {plural(total, 'break')}; {'; '.join(verdicts)}."
    if total:
        return f"{total:,} {plural(total, 'break')}, all within thresholds."
    return "Every key matched."


def _source_view(outcome: Outcome, sides: tuple[str, str]) -> dict[str, Any]:
    s = outcome["summary"]
    counts = s.get("counts", {})
    labels = _labels(outcome)
    source = outcome["source"]
    risk = str(s.get("risk_level") or "—")
    return {
        "source": source if labels == sides else f"{source} ({labels[0]} / {labels[1]})",
        "numbers": [
            count_text(s.get("total_keys")),
            *(
                count_text(counts.get(status))
                for status in (
                    "matched",
                    "mismatched",
                    "left_only",
                    "right_only",
                    "duplicate",
                    "invalid",
                )
            ),
            percent_text(s.get("break_rate")),
            amount_text(s.get("discrepancy_amount")),
        ],
        "risk": risk,
        "failed": s.get("threshold_passed") is False,
        "verdict": _verdict(s, passed="passed", failed="FAILED"),
    }


def _verdict(
    summary: Mapping[str, Any],
    *,
    passed: str = "within thresholds",
    failed: str = "thresholds FAILED",
) -> str:
    """A source's threshold verdict; INCOMPLETE (data missing) before any other."""
    if is_incomplete(summary):
        return INCOMPLETE_COMPLIANCE
    return failed if summary.get("threshold_passed") is False else passed


def _links(outcome: Outcome, attached: set[str]) -> list[dict[str, Any]]:
    return [
        {
            "format": fmt,
            "target": target,
            "web": is_web_link(target),
            "attached": outcome.get("reports", {}).get(fmt) in attached,
        }
        for fmt, target in outcome.get("report_links", {}).items()
    ]


def _top_view(outcome: Outcome, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    left, right = _labels(outcome)
    status_words = {"left_only": f"{left} only", "right_only": f"{right} only"}
    classification = outcome["summary"].get("classification")
    type_words = classification.get("labels") if isinstance(classification, Mapping) else None
    keys = outcome.get("keys") or []
    amount_field = outcome.get("amount_field")
    shown = []
    for row in rows:
        mismatched = [str(f) for f in row.get("mismatched_fields") or ()]
        field = amount_field if amount_field and _has_field(row, amount_field) else None
        field = field or (mismatched[0] if mismatched else None)
        status = str(row.get("status") or "")
        kind = row.get("break_type")
        shown.append(
            {
                "key": " / ".join(value_text(row.get(k)) for k in keys) or "—",
                # a classified break says its type ("missing in ledger"), not the core status
                "status": str(type_words.get(kind) or kind)
                if isinstance(type_words, Mapping) and kind
                else status_words.get(status, status),
                "field": field or "",
                "left": value_text(row.get(f"left_{field}")) if field else "",
                "right": value_text(row.get(f"right_{field}")) if field else "",
                "difference": value_text(_first(row.get(f"diff_{field}"), row.get("break_amount"))),
                "note": value_text(row.get("reason")) or ", ".join(mismatched),
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
