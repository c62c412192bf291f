"""The data-quality checks of a partition: derived from summary.json and the results, or given.

Each is a mapping ``{"name", "side": "left"|"right"|"both", "passed", "observed", "expected",
"details"}`` with JSON values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final, TypedDict

import polars as pl

from recon.result import DUPLICATE, INVALID

SIDES: Final = ("left", "right")
CHECK_SIDES: Final = ("left", "right", "both")
NULL_KEY_REASON: Final = r"key `[^`]*` is empty"  # recon.engine.prepare's words for a blank key


class QualityCheck(TypedDict):
    name: str
    side: str  # left, right or both
    passed: bool
    observed: Any  # JSON values
    expected: Any
    details: dict[str, Any]


def quality_checks(
    summary: Mapping[str, Any],
    results: pl.LazyFrame,
    *,
    staged_rows: Mapping[str, int | None] | None = None,
) -> list[QualityCheck]:
    """Per side: rows read, row conservation, invalid rows, duplicate and null keys; break rate.

    :param staged_rows: the rows each side's extract staged, when known (the outcome's inputs).
    """
    status, side = pl.col("status"), pl.col("side")
    figures: list[pl.Expr] = []
    for s in SIDES:
        invalid = (status == INVALID) & (side == s)
        null_key = invalid & pl.col("reason").str.contains(NULL_KEY_REASON)
        duplicate = (status == DUPLICATE) & side.is_in([s, "both"])
        figures += [
            pl.col(f"{s}_rows").sum().alias(f"accounted_{s}"),
            invalid.sum().alias(f"invalid_rows_{s}"),
            duplicate.sum().alias(f"duplicate_keys_{s}"),
            null_key.sum().alias(f"null_keys_{s}"),
        ]
    got = results.select(figures).collect(engine="streaming").row(0, named=True)
    checks: list[QualityCheck] = []
    for s in SIDES:
        read = int(summary["inputs"][s]["rows"])
        staged = (staged_rows or {}).get(s)
        checks.append(_check("rows_read", s, staged in (None, read), read, staged))
        accounted = int(got[f"accounted_{s}"] or 0)
        checks.append(_check("row_conservation", s, accounted == read, accounted, read))
        for name in ("invalid_rows", "duplicate_keys", "null_keys"):
            count = int(got[f"{name}_{s}"] or 0)
            share = {"share": count / read if read else 0.0}
            checks.append(_check(name, s, count == 0, count, 0, share))
    limit = (summary.get("thresholds") or {}).get("max_break_rate")
    details = {k: summary[k] for k in ("breaks", "records", "risk_level")}
    passed = bool(summary["threshold_passed"])
    checks.append(_check("break_rate", "both", passed, summary["break_rate"], limit, details))
    return checks


def _check(
    name: str,
    side: str,
    passed: bool,
    observed: Any,
    expected: Any,
    details: dict[str, Any] | None = None,
) -> QualityCheck:
    return QualityCheck(
        name=name,
        side=side,
        passed=passed,
        observed=observed,
        expected=expected,
        details=details or {},
    )


def valid_checks(
    given: Iterable[Mapping[str, Any]], taken: set[tuple[str, str]], problems: list[str]
) -> list[QualityCheck]:
    """The caller's checks, each as a QualityCheck; what is wrong with them goes to problems."""
    checks: list[QualityCheck] = []
    for number, raw in enumerate(given, 1):
        check = QualityCheck(
            name=raw.get("name") or "",
            side=raw.get("side") or "both",
            passed=raw.get("passed"),  # type: ignore[typeddict-item]  # checked below
            observed=raw.get("observed"),
            expected=raw.get("expected"),
            details=dict(raw.get("details") or {}),
        )
        wrong = []
        if not isinstance(check["name"], str) or not check["name"]:
            wrong.append("`name` must be a non-empty string")
        if check["side"] not in CHECK_SIDES:
            wrong.append(f"`side` must be one of {', '.join(CHECK_SIDES)}")
        if not isinstance(check["passed"], bool):
            wrong.append("`passed` must be true or false")
        if (check["side"], check["name"]) in taken:
            wrong.append(f"a check `{check['name']}` on side {check['side']} exists already")
        try:
            json.dumps(check, allow_nan=False)
        except (TypeError, ValueError) as exc:
            wrong.append(f"values must be JSON ({exc})")
        problems += [f"extra check {number}: {w}" for w in wrong]
        taken.add((check["side"], check["name"]))
        checks.append(check)
    return checks
