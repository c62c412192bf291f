"""Read one reconciled partition's outcome and check it against its files, before it is stored.

``read_outcome`` raises ``BadOutcomeError`` listing every problem (retrying will not help).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import polars as pl

from recon.errors import first_line
from recon.result import (
    LEFT_ONLY,
    MATCHED,
    RESULTS_FILE,
    RIGHT_ONLY,
    STATUSES,
    SUMMARY_FILE,
)
from recon_airflow.errors import BadInputError
from recon_airflow.stores.partition.checks import SIDES, QualityCheck, quality_checks, valid_checks

REQUIRED: Final = ("recon", "source", "business_date", "spec", "labels", "keys", "result_dir")
RESULT_COLUMNS: Final = (
    *("status", "mismatched_fields", "left_rows", "right_rows"),
    *("side", "row", "reason", "break_amount"),
)
SUMMARY_KEYS: Final = (
    *("counts", "records", "total_keys", "breaks", "break_rate", "match_rate"),
    *("discrepancy_amount", "risk_level", "threshold_passed", "inputs", "keys", "labels"),
    "compare_fields",
)
CLASSIFICATION_KEYS: Final = ("column", "matched", "counts", "breaks")
When = TypeVar("When", dt.date, dt.datetime)


class BadOutcomeError(BadInputError):
    """An outcome that cannot be loaded as it is (retrying will not help); lists every problem."""

    def __init__(self, where: str, problems: Sequence[str]) -> None:
        self.where = where
        self.problems = tuple(problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"cannot load {where}: {len(problems)} {noun}: " + "; ".join(problems))


@dataclass(frozen=True)
class Partition:
    """An outcome whose files were found and checked against it: ready to load."""

    recon: str
    source: str
    business_date: dt.date
    spec: str
    labels: dict[str, str]
    keys: list[str]
    compare_fields: list[str]
    amount_field: str | None
    result_dir: Path
    columns: list[str]  # of results.parquet
    summary: dict[str, Any]  # summary.json
    inputs: dict[str, Any]  # side -> file, sha256, rows
    report_links: dict[str, Any]
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    checks: list[QualityCheck]

    @property
    def where(self) -> str:
        return f"{self.recon}/{self.source}/{self.business_date} from {self.result_dir}"

    @property
    def results(self) -> Path:
        return self.result_dir / RESULTS_FILE

    def params(self) -> dict[str, Any]:
        return {"recon": self.recon, "source": self.source, "business_date": self.business_date}

    @property
    def classification(self) -> dict[str, Any] | None:
        """summary.json's ``classification`` (break types over the core statuses), if any."""
        found = self.summary.get("classification")
        return dict(found) if found else None

    @property
    def expected_breaks(self) -> int:
        """How many rows ``break_rows`` must give, as summary.json counts them."""
        classification = self.classification
        return int(classification["breaks"] if classification else self.summary["breaks"])

    def breaks_by_type(self) -> dict[str, int]:
        """Break type -> rows, matched left out (zeros kept): the classification's counts, else
        the core counts under the stored statuses."""
        classification = self.classification
        if classification:
            matched = classification["matched"]
            return {k: int(n) for k, n in classification["counts"].items() if k != matched}
        stored = labelled_statuses(self.labels)
        counts = self.summary["counts"]
        return {stored.get(s, s): int(counts[s]) for s in STATUSES if s != MATCHED}


def read_outcome(
    outcome: Mapping[str, Any], extra_checks: Iterable[Mapping[str, Any]] = ()
) -> Partition:
    """Find an outcome's files and check them against it; BadOutcomeError lists every problem."""
    missing = [f"the outcome has no `{k}`" for k in REQUIRED if not outcome.get(k)]
    if missing:
        raise BadOutcomeError("outcome", missing)
    where = f"{outcome['recon']}/{outcome['source']}/{outcome['business_date']}"
    result_dir = Path(outcome["result_dir"])
    results, summary_path = result_dir / RESULTS_FILE, result_dir / SUMMARY_FILE
    problems = [
        f"{path}: no such file (did the reconcile task write {result_dir}?)"
        for path in (results, summary_path)
        if not path.is_file()
    ]
    if problems:
        raise BadOutcomeError(where, problems)
    summary = _read_summary(summary_path, problems)
    columns = _read_columns(results, problems)
    if problems:
        raise BadOutcomeError(where, problems)

    keys, labels = list(outcome["keys"]), dict(outcome["labels"])
    compare = list(summary["compare_fields"])
    wanted = [*keys, *RESULT_COLUMNS, *[f"{side}_{f}" for f in compare for side in SIDES]]
    classification = summary.get("classification") or {}
    if "column" in classification:
        wanted.append(classification["column"])
    problems += [f"{results}: no column `{c}`" for c in wanted if c not in columns]
    claims = {
        "keys": (keys, summary["keys"]),
        "labels": (labels, summary["labels"]),
        "recon spec": (outcome["spec"], summary.get("recon")),
        "amount_field": (outcome.get("amount_field"), summary.get("amount_field")),
        "counts": ((outcome.get("summary") or {}).get("counts"), summary["counts"]),
    }
    problems += [
        f"{summary_path}: {name} {theirs!r}, but the outcome says {ours!r}"
        for name, (ours, theirs) in claims.items()
        if ours is not None and ours != theirs
    ]
    business_date = _iso(dt.date, outcome["business_date"], "business_date", problems)
    started = _iso(dt.datetime, outcome.get("started_at"), "started_at", problems)
    finished = _iso(dt.datetime, outcome.get("finished_at"), "finished_at", problems)
    given = outcome.get("inputs") or {}
    inputs = {side: {**summary["inputs"].get(side, {}), **given.get(side, {})} for side in SIDES}
    checks: list[QualityCheck] = []
    if not problems:
        staged = {side: inputs[side].get("rows") for side in SIDES}
        try:
            checks = quality_checks(summary, pl.scan_parquet(results), staged_rows=staged)
        except pl.exceptions.PolarsError as exc:
            problems.append(f"{results}: cannot be read ({first_line(exc)})")
    more = [*extra_checks, *((outcome.get("summary") or {}).get("checks") or [])]
    checks += valid_checks(more, {(c["side"], c["name"]) for c in checks}, problems)
    if problems or business_date is None:
        raise BadOutcomeError(where, problems)
    return Partition(
        recon=outcome["recon"],
        source=outcome["source"],
        business_date=business_date,
        spec=outcome["spec"],
        labels=labels,
        keys=keys,
        compare_fields=compare,
        amount_field=summary.get("amount_field"),
        result_dir=result_dir,
        columns=columns,
        summary=summary,
        inputs=inputs,
        report_links=dict(outcome.get("report_links") or {}),
        started_at=started,
        finished_at=finished,
        checks=checks,
    )


def _read_summary(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"{path}: not a JSON summary ({exc})")
        return {}
    if not isinstance(summary, dict):
        problems.append(f"{path}: not a JSON object")
        return {}
    problems += [f"{path}: no `{k}`" for k in SUMMARY_KEYS if k not in summary]
    counts = summary.get("counts") or {}
    problems += [f"{path}: no count of `{s}`" for s in STATUSES if s not in counts]
    classification = summary.get("classification")
    if classification is not None:
        if not isinstance(classification, dict):
            problems.append(f"{path}: `classification` is not a JSON object")
            summary.pop("classification")
        else:
            problems += [
                f"{path}: no `classification.{k}`"
                for k in CLASSIFICATION_KEYS
                if k not in classification
            ]
    return summary


def _read_columns(path: Path, problems: list[str]) -> list[str]:
    try:
        return pl.scan_parquet(path).collect_schema().names()
    except pl.exceptions.PolarsError as exc:
        problems.append(f"{path}: not a readable Parquet file ({first_line(exc)})")
        return []


def _iso(kind: type[When], value: Any, name: str, problems: list[str]) -> When | None:
    if value is None and kind is dt.datetime:
        return None  # timings are optional
    if isinstance(value, kind) and (kind is dt.datetime or not isinstance(value, dt.datetime)):
        return value  # already the type (a business date handed on as a date)
    try:
        return kind.fromisoformat(value)
    except (TypeError, ValueError):
        problems.append(f"the outcome's {name} {value!r} is not an ISO {kind.__name__}")
        return None


def labelled_statuses(labels: Mapping[str, str]) -> dict[str, str]:
    """Status -> stored status: ``left_only`` as ``<left label>_only`` (e.g. ``dbf_only``)."""
    return {LEFT_ONLY: f"{labels['left']}_only", RIGHT_ONLY: f"{labels['right']}_only"}
