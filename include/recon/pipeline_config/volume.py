"""Volume expectations: how many rows each side of a source should bring on a business date.

A side with no rows, or far fewer than its trailing history (under ``min_fraction`` of the
median of its last ``history_days`` business days), makes the partition *incomplete*: a
data-quality failure that is never reported as clean (risk ``HIGH``, thresholds failed,
compliance ``INCOMPLETE``), while the partition is still loaded so the numbers can be seen.
Days a source is known to be empty (a calendar: weekdays and holidays) are not alerts.

Pure: the settings (a pipeline config's ``volume:`` section), the rows of the day and the
history (read from ``recon.runs`` by the caller) go in; a JSON-able finding comes out, and
:func:`with_volume` folds it into a summary.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, model_validator

Side = Literal["left", "right"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: Final[tuple[str, ...]] = (
    *("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
)
COMPLETE: Final = "complete"
INCOMPLETE: Final = "incomplete"
EXPECTED_EMPTY: Final = "expected_empty"  # a calendar day the source is known to be empty
INCOMPLETE_RISK: Final = "HIGH"
INCOMPLETE_COMPLIANCE: Final = "INCOMPLETE"
CHECK_NAME: Final = "volume"
BOTH_SIDES: Final[tuple[Side, Side]] = ("left", "right")


class Strict(BaseModel):
    # as recon.pipeline_config.base.Strict, which imports this module
    model_config = ConfigDict(extra="forbid", frozen=True)


class Calendar(Strict):
    """Days a source is known to send nothing: weekdays (e.g. a registrar's weekend) and dates."""

    empty_weekdays: list[Weekday] = Field(default_factory=list)
    holidays: list[dt.date] = Field(default_factory=list)

    def is_empty_day(self, day: dt.date) -> bool:
        return WEEKDAYS[day.weekday()] in self.empty_weekdays or day in self.holidays

    def business_days_before(self, day: dt.date, count: int) -> list[dt.date]:
        """The ``count`` days before ``day`` that are not known-empty, latest first."""
        if len(self.empty_weekdays) == len(WEEKDAYS):
            return []
        found: list[dt.date] = []
        current = day
        while len(found) < count:
            current -= dt.timedelta(days=1)
            if not self.is_empty_day(current):
                found.append(current)
        return found


class VolumeRules(Strict):
    """What every source of a pipeline is held to, unless ``sources`` says otherwise."""

    sides: list[Side] = Field(default_factory=lambda: list(BOTH_SIDES))
    min_rows: int = Field(default=1, ge=0)  # fewer on a checked side: incomplete (0 rows: always)
    history_days: int = Field(default=10, ge=1, le=250)  # trailing business days in recon.runs
    min_history: int = Field(default=3, ge=1)  # fewer days of history: only min_rows applies
    min_fraction: float = Field(default=0.5, gt=0, le=1)  # of the median of the history
    calendar: Calendar = Field(default_factory=Calendar)


class SourceRules(Strict):
    """A source's own rules: any field of ``VolumeRules``; the others are the pipeline's."""

    sides: list[Side] | None = None
    min_rows: int | None = Field(default=None, ge=0)
    history_days: int | None = Field(default=None, ge=1, le=250)
    min_history: int | None = Field(default=None, ge=1)
    min_fraction: float | None = Field(default=None, gt=0, le=1)
    calendar: Calendar | None = None


class VolumeSettings(VolumeRules):
    """A pipeline config's ``volume:`` section: the rules, and per-source overrides."""

    sources: dict[str, SourceRules] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _history_fits(self) -> VolumeSettings:
        for where, rules in [("volume", self), *self._overrides()]:
            if rules.min_history > rules.history_days:
                raise ValueError(
                    f"{where}: min_history {rules.min_history} is more than history_days "
                    f"{rules.history_days} (the median could never be taken)"
                )
        return self

    def _overrides(self) -> list[tuple[str, VolumeRules]]:
        return [(f"volume.sources.{name}", self.for_source(name)) for name in self.sources]

    def for_source(self, source: str) -> VolumeRules:
        """The rules ``source`` is held to: the pipeline's, with the source's own on top."""
        base = self.model_dump(exclude={"sources"})
        own = self.sources.get(source)
        if own is not None:
            base.update(own.model_dump(exclude_none=True))
        return VolumeRules.model_validate(base)


class HistoryDay(TypedDict):
    """One earlier partition of the source: its date and the rows each side brought."""

    business_date: dt.date
    left: int | None
    right: int | None


class SideVolume(TypedDict):
    side: str
    label: str
    rows: int
    expected: float | None  # the median of the history; None without enough of it
    minimum: int  # fewer rows than this: incomplete
    history: int  # days of history the median was taken over
    passed: bool
    problem: str | None  # what is wrong, in words, e.g. "processor side: 0 rows, ..."


class VolumeFinding(TypedDict):
    status: str  # complete, incomplete or expected_empty
    business_date: str
    sides: list[SideVolume]
    problems: list[str]


def history_since(day: dt.date, rules: VolumeRules) -> dt.date:
    """The first date the history of ``day`` can reach back to (its oldest business day)."""
    days = rules.calendar.business_days_before(day, rules.history_days)
    return days[-1] if days else day


def volume_finding(
    day: dt.date,
    rows: Mapping[str, int],
    history: Sequence[HistoryDay],
    rules: VolumeRules,
    labels: Mapping[str, str],
) -> VolumeFinding:
    """How each checked side's rows on ``day`` compare with what is expected of it.

    :param rows: side -> rows the side brought on ``day``
    :param history: the source's earlier partitions (any order; days outside the last
        ``history_days`` business days, or known-empty ones, are left out)
    :param labels: side -> its label (``processor``, ``ledger``), for the words
    """
    if rules.calendar.is_empty_day(day):
        status = EXPECTED_EMPTY
        sides = [_unchecked(side, rows, labels) for side in rules.sides]
        return VolumeFinding(status=status, business_date=day.isoformat(), sides=sides, problems=[])
    window = set(rules.calendar.business_days_before(day, rules.history_days))
    sides = []
    for side in rules.sides:
        counts = [
            n for h in history if h["business_date"] in window and (n := _rows(h, side)) is not None
        ]
        sides.append(_side_volume(side, int(rows.get(side, 0)), counts, rules, labels))
    problems = [s["problem"] for s in sides if s["problem"]]
    return VolumeFinding(
        status=INCOMPLETE if problems else COMPLETE,
        business_date=day.isoformat(),
        sides=sides,
        problems=problems,
    )


def _side_volume(
    side: str, rows: int, counts: list[int], rules: VolumeRules, labels: Mapping[str, str]
) -> SideVolume:
    label = str(labels.get(side) or side)
    median = statistics.median(counts) if len(counts) >= rules.min_history else None
    minimum = rules.min_rows
    if median is not None:
        minimum = max(minimum, math.ceil(rules.min_fraction * median))
    passed = rows >= minimum
    problem = None
    if not passed:
        if median is None:
            why = f"expected at least {minimum:,}"
            if len(counts) < rules.min_history:
                why += (
                    f" ({len(counts)} of {rules.min_history} days of history needed for a median)"
                )
        else:
            why = (
                f"expected about {median:,.0f} (the median of the last {len(counts)} business "
                f"days), at least {minimum:,} ({rules.min_fraction:.0%} of it)"
            )
        problem = f"{label} side: {rows:,} {'row' if rows == 1 else 'rows'}, {why}"
    return SideVolume(
        side=side,
        label=label,
        rows=rows,
        expected=None if median is None else float(median),
        minimum=minimum,
        history=len(counts),
        passed=passed,
        problem=problem,
    )


def _rows(day: HistoryDay, side: str) -> int | None:
    found = day["left"] if side == "left" else day["right"]
    return None if found is None else int(found)


def _unchecked(side: str, rows: Mapping[str, int], labels: Mapping[str, str]) -> SideVolume:
    return SideVolume(
        side=side,
        label=str(labels.get(side) or side),
        rows=int(rows.get(side, 0)),
        expected=None,
        minimum=0,
        history=0,
        passed=True,
        problem=None,
    )


def with_volume(summary: Mapping[str, Any], finding: VolumeFinding) -> dict[str, Any]:
    """``summary`` with the finding under ``volume``, its checks, and, when incomplete, the
    verdicts it forces: risk ``HIGH``, thresholds failed, compliance ``INCOMPLETE``."""
    out = dict(summary)
    out["volume"] = finding
    checks = [c for c in out.get("checks") or [] if c.get("name") != CHECK_NAME]
    out["checks"] = [*checks, *[_check(s, finding) for s in finding["sides"]]]
    if finding["status"] != INCOMPLETE:
        return out
    out["risk_level"] = INCOMPLETE_RISK
    out["threshold_passed"] = False
    impact = out.get("financial_impact")
    if isinstance(impact, Mapping):
        earlier = [
            f for f in impact.get("compliance_failures") or [] if f not in finding["problems"]
        ]
        out["financial_impact"] = {
            **impact,
            "risk_level": INCOMPLETE_RISK,
            "compliance_status": INCOMPLETE_COMPLIANCE,
            "compliance_failures": [*finding["problems"], *earlier],
        }
    return out


def is_incomplete(summary: Mapping[str, Any]) -> bool:
    volume = summary.get("volume")
    return isinstance(volume, Mapping) and volume.get("status") == INCOMPLETE


def volume_problems(summary: Mapping[str, Any]) -> list[str]:
    """The words of what is missing (empty unless the summary is incomplete)."""
    volume = summary.get("volume")
    if not is_incomplete(summary) or not isinstance(volume, Mapping):
        return []
    return [str(p) for p in volume.get("problems") or []]


def _check(side: SideVolume, finding: VolumeFinding) -> dict[str, Any]:
    """The side's volume as a data-quality check (recon.data_quality_checks)."""
    return {
        "name": CHECK_NAME,
        "side": side["side"],
        "passed": side["passed"],
        "observed": side["rows"],
        "expected": {"minimum": side["minimum"], "median": side["expected"]},
        "details": {"status": finding["status"], "history_days": side["history"]},
    }
