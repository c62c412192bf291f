"""One reconciled partition's outcome, read and checked before it is stored: no database here.

``read_outcome`` finds an outcome's ``results.parquet`` and ``summary.json``, checks them against
the outcome and each other, and returns a ``Partition`` ready to load; bad input (a missing or
unreadable file, a result that does not match its outcome) raises ``BadOutcomeError`` listing
every problem. ``break_rows`` turns the results into the rows the Postgres store copies, with
the one-sided statuses under the sides' labels (``labelled_statuses``, shared by both stores).

A summary may carry a ``classification`` (e.g. the payments break types, recon.payments): then
a break is a row whose classification column is not its ``matched`` value (a ``timing`` row is
one though its core status is ``matched``), and that column is the break's type. Without one, a
break is a row whose status is not ``matched`` and its type is the stored status. ``currency``
and ``impact_amount`` columns of the results are stored when present.

Data-quality checks are those ``quality_checks`` derives from summary.json and the results,
plus checks made elsewhere: ``read_outcome``'s ``extra_checks`` argument and
``outcome["summary"]["checks"]`` (how an upstream task, e.g. the extract's report-date check,
hands its checks to the load). Each is a mapping ``{"name", "side": "left"|"right"|"both",
"passed", "observed", "expected", "details"}`` with JSON values.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypedDict, TypeVar

import polars as pl

from recon.engine.summary import MONEY_DECIMALS
from recon.errors import first_line
from recon.result import (
    DUPLICATE,
    INVALID,
    LEFT_ONLY,
    MATCHED,
    RESULTS_FILE,
    RIGHT_ONLY,
    STATUSES,
    SUMMARY_FILE,
)

SIDES: Final = ("left", "right")
CHECK_SIDES: Final = ("left", "right", "both")
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
NULL_KEY_REASON: Final = r"key `[^`]*` is empty"  # recon.engine.prepare's words for a blank key
When = TypeVar("When", dt.date, dt.datetime)


class BadOutcomeError(ValueError):
    """An outcome that cannot be loaded as it is (retrying will not help); lists every problem."""

    def __init__(self, where: str, problems: Sequence[str]) -> None:
        self.where = where
        self.problems = tuple(problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"cannot load {where}: {len(problems)} {noun}: " + "; ".join(problems))


class QualityCheck(TypedDict):
    name: str
    side: str  # left, right or both
    passed: bool
    observed: Any  # JSON values
    expected: Any
    details: dict[str, Any]


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


# -- reading and checking an outcome --------------------------------------------------------


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
    checks += _valid_checks(more, {(c["side"], c["name"]) for c in checks}, problems)
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
    try:
        return kind.fromisoformat(value)
    except (TypeError, ValueError):
        problems.append(f"the outcome's {name} {value!r} is not an ISO {kind.__name__}")
        return None


def _valid_checks(
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


# -- derived checks and the rows to COPY ----------------------------------------------------


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


def labelled_statuses(labels: Mapping[str, str]) -> dict[str, str]:
    """Status -> stored status: ``left_only`` as ``<left label>_only`` (e.g. ``dbf_only``)."""
    return {LEFT_ONLY: f"{labels['left']}_only", RIGHT_ONLY: f"{labels['right']}_only"}


def break_rows(results: pl.LazyFrame, part: Partition) -> pl.LazyFrame:
    """The break rows in the temporary table's column order, as COPY-ready values.

    A break is a row whose classification column is not its matched value, or without a
    classification, whose status is not ``matched`` (see the module's docstring).
    """
    diff = f"diff_{part.amount_field}"
    stored = pl.col("status").replace(labelled_statuses(part.labels))
    classification = part.classification
    if classification:
        kind = pl.col(classification["column"]).cast(pl.String)
        is_break = kind != classification["matched"]
    else:
        kind, is_break = stored, pl.col("status") != MATCHED
    return results.filter(is_break).select(
        pl.struct(part.keys).struct.json_encode().alias("key"),
        pl.concat_str([_key_part(k) for k in part.keys], separator="|").alias("key_text"),
        stored.alias("status"),
        _pg_text_array(pl.col("mismatched_fields")).alias("mismatched_fields"),
        *[_side_values(side, part.compare_fields).alias(f"{side}_values") for side in SIDES],
        (_money(diff) if diff in part.columns else pl.lit(None, pl.String)).alias("difference"),
        _money("break_amount"),
        pl.col("side"),
        pl.col("row").alias("input_row"),
        pl.col("reason"),
        kind.alias("break_type"),
        _optional(part, "currency", pl.col("currency").cast(pl.String)),
        _optional(part, "impact_amount", _money("impact_amount")),
    )


def _optional(part: Partition, name: str, value: pl.Expr) -> pl.Expr:
    """``value`` when the results have the column ``name`` (classified results), else null."""
    return (value if name in part.columns else pl.lit(None, pl.String)).alias(name)


def _money(name: str) -> pl.Expr:
    """Floats rounded as the summary rounds money (no binary noise in numeric); decimals as is."""
    return pl.col(name).round(MONEY_DECIMALS)


def _key_part(name: str) -> pl.Expr:
    """One key value in key_text: ``\\`` and ``|`` escaped and null as ``\\N``, so never ambiguous."""
    text = pl.col(name).cast(pl.String).str.replace_all("\\", "\\\\", literal=True)
    return text.str.replace_all("|", "\\|", literal=True).fill_null("\\N")


def _pg_text_array(column: pl.Expr) -> pl.Expr:
    """A list of strings as a Postgres array literal, each element quoted: ``{"a","b"}``."""
    element = pl.element().str.replace_all("\\", "\\\\", literal=True)
    element = element.str.replace_all('"', '\\"', literal=True)
    quoted = column.list.eval(pl.lit('"') + element + pl.lit('"')).list.join(",")
    return (pl.lit("{") + quoted + pl.lit("}")).fill_null("{}")


def _side_values(side: str, fields: list[str]) -> pl.Expr:
    """``{field: value}`` of one side as JSON (decimals as exact strings); null if all are null."""
    columns = {f: pl.col(f"{side}_{f}") for f in fields}
    as_json = pl.struct([c.alias(f) for f, c in columns.items()]).struct.json_encode()
    return pl.when(pl.any_horizontal([c.is_not_null() for c in columns.values()])).then(as_json)


__all__ = [
    "BadOutcomeError",
    "Partition",
    "QualityCheck",
    "break_rows",
    "labelled_statuses",
    "quality_checks",
    "read_outcome",
]
