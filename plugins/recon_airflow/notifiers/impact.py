"""Classified breaks and financial impact in the run summary (the payments recons).

A summary may carry ``classification`` (break counts by type) and ``financial_impact``
(volume, discrepancy, compliance in a reporting currency); both are optional, and a source
with neither (the AUM recon) is shown by :mod:`recon_airflow.notifiers.summary` as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from recon.pipeline_config.volume import INCOMPLETE_COMPLIANCE, is_incomplete
from recon_airflow.notifiers.text import (
    amount_text,
    as_int,
    count_text,
    money_text,
    percent_text,
    plural,
    slack_escape,
)
from recon_airflow.outcome import Outcome

NON_COMPLIANT: Final = "NON_COMPLIANT"
TOP_TYPES: Final = 3  # break types a Slack line names; the email lists them all
# the status words of a source without classification, in the order the core table shows them
_CORE_BREAKS: Final = ("mismatched", "left_only", "right_only", "duplicate", "invalid")


@dataclass(frozen=True)
class BreakType:
    """One kind of break and how many keys it holds, e.g. ``missing in ledger: 10``."""

    label: str
    count: int


def is_extended(outcome: Outcome) -> bool:
    """True when the summary has classified results or a financial impact to show."""
    s = outcome["summary"]
    return _mapping(s.get("classification")) is not None or impact_of(s) is not None


def impact_of(summary: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return _mapping(summary.get("financial_impact"))


def compliance_of(summary: Mapping[str, Any]) -> str | None:
    """``COMPLIANT`` / ``NON_COMPLIANT`` when the summary has a financial impact, else None."""
    fi = impact_of(summary)
    status = fi.get("compliance_status") if fi else None
    return str(status).upper() if status else None


def is_non_compliant(outcome: Outcome) -> bool:
    return compliance_of(outcome["summary"]) == NON_COMPLIANT


def break_count(summary: Mapping[str, Any]) -> int:
    """The core breaks: keys that disagree. Classified kinds that are not discrepancies
    (``timing``: settled after midnight, inside the window) are listed by type, never counted
    here, so the count is the one recon.runs and the reports call breaks."""
    return as_int(summary.get("breaks"))


def break_types(
    summary: Mapping[str, Any], labels: tuple[str, str] = ("left", "right")
) -> list[BreakType]:
    """The non-zero kinds of break, in the classification's order and with its labels.

    Without classification: the core statuses (``mismatched``, ``<left> only``, ...).
    """
    classification = _mapping(summary.get("classification"))
    if classification is None:
        counts = _mapping(summary.get("counts")) or {}
        words = {"left_only": f"{labels[0]} only", "right_only": f"{labels[1]} only"}
        found = [BreakType(words.get(k, k), as_int(counts.get(k))) for k in _CORE_BREAKS]
        return [t for t in found if t.count]
    counts = _mapping(classification.get("counts")) or {}
    names = _mapping(classification.get("labels")) or {}
    matched = classification.get("matched", "matched")
    order = classification.get("order")
    kinds = [str(k) for k in order] if isinstance(order, list) else []
    kinds += [str(k) for k in counts if k != matched and str(k) not in kinds]
    found = [
        BreakType(str(names.get(kind) or kind.replace("_", " ")), as_int(counts.get(kind)))
        for kind in kinds
    ]
    return [t for t in found if t.count]


def matched_count(summary: Mapping[str, Any]) -> Any:
    classification = _mapping(summary.get("classification"))
    if classification is None:
        return (_mapping(summary.get("counts")) or {}).get("matched")
    counts = _mapping(classification.get("counts")) or {}
    return counts.get(classification.get("matched", "matched"))


def risk_of(summary: Mapping[str, Any]) -> str:
    fi = impact_of(summary) or {}
    return str(fi.get("risk_level") or summary.get("risk_level") or "—")


# --- email --------------------------------------------------------------------------------------

HEADERS: Final = (
    "Source",
    "Records",
    "Matched",
    "Breaks",
    "Breaks by type",
    "Volume",
    "Discrepancy",
    "Discrepancy rate",
    "Break rate",
    "Risk",
    "Compliance",
)


def impact_view(outcome: Outcome, labels: tuple[str, str]) -> dict[str, Any]:
    """One row of the email's table of classified / financially assessed sources."""
    s = outcome["summary"]
    fi = impact_of(s) or {}
    currency = _currency(fi)
    status = compliance_of(s)
    if status is None and is_incomplete(s):
        status = INCOMPLETE_COMPLIANCE
    failed = status in (NON_COMPLIANT, INCOMPLETE_COMPLIANCE) if status else False
    failed = failed or s.get("threshold_passed") is False
    return {
        "source": outcome["source"],
        "numbers": [
            count_text(s.get("records", s.get("total_keys"))),
            count_text(matched_count(s)),
            f"{break_count(s):,}",
        ],
        "types": [f"{t.label}: {t.count:,}" for t in break_types(s, labels)],
        "figures": [
            money_text(fi.get("volume"), currency),
            money_text(fi.get("discrepancy_amount"), currency)
            if fi
            else amount_text(s.get("discrepancy_amount")),
            percent_text(fi.get("discrepancy_rate")),
            percent_text(fi.get("break_rate", s.get("break_rate"))),
        ],
        "risk": risk_of(s),
        "status": status or ("FAILED" if failed else "passed"),
        "failed": failed,
        "failures": [str(f) for f in _list(fi.get("compliance_failures"))],
        "unconverted": ", ".join(str(c) for c in _list(fi.get("unconverted"))),
    }


# --- Slack --------------------------------------------------------------------------------------


def impact_slack(outcome: Outcome, labels: tuple[str, str]) -> tuple[str, list[str]]:
    """The headline of one source (escaped mrkdwn) and its compliance failures (escaped).

    ``NON_COMPLIANT, HIGH risk — discrepancy 2,345.67 USD (0.19% of 1,234,567.89 USD volume),
    break rate 1.20% — 291 breaks, by type: 120 missing in ledger, 50 amount, 30 timing (+2 more
    types)``
    """
    s = outcome["summary"]
    fi = impact_of(s)
    status = compliance_of(s)
    if status is None and is_incomplete(s):
        status = INCOMPLETE_COMPLIANCE
    if status is None:
        status = "thresholds FAILED" if s.get("threshold_passed") is False else "within thresholds"
    parts = [f"{status}, {risk_of(s)} risk"]
    if fi:
        currency = _currency(fi)
        parts.append(
            f"discrepancy {money_text(fi.get('discrepancy_amount'), currency)} "
            f"({percent_text(fi.get('discrepancy_rate'))} of "
            f"{money_text(fi.get('volume'), currency)} volume), "
            f"break rate {percent_text(fi.get('break_rate', s.get('break_rate')))}"
        )
    else:
        parts.append(
            f"discrepancy {amount_text(s.get('discrepancy_amount'))}, "
            f"break rate {percent_text(s.get('break_rate'))}"
        )
    parts.append(_top_types(s, labels))
    failures = [slack_escape(str(f)) for f in _list((fi or {}).get("compliance_failures"))]
    return slack_escape(" — ".join(parts)), failures


def _top_types(summary: Mapping[str, Any], labels: tuple[str, str]) -> str:
    """``321 breaks, by type: 120 missing in ledger, 30 timing, ...`` (the types include kinds
    such as timing that are listed but are no breaks)."""
    n = break_count(summary)
    head = f"{n:,} {plural(n, 'break')}" if n else "no breaks"
    kinds = break_types(summary, labels)
    top = sorted(kinds, key=lambda t: -t.count)[:TOP_TYPES]  # stable: ties keep the order
    listed = ", ".join(f"{t.count:,} {t.label}" for t in top)
    more = len(kinds) - len(top)
    rest = f" (+{more} more {plural(more, 'type')})" if more else ""
    return f"{head}, by type: {listed}{rest}" if listed else head


# --- values -------------------------------------------------------------------------------------


def _currency(fi: Mapping[str, Any]) -> str | None:
    currency = fi.get("reporting_currency")
    return str(currency) if currency else None


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()
