"""The ledger's positions, summed inside MongoDB: aggregation pipelines and their decoding.

A position's units are the signed sum of its transactions booked up to the end of the as-of
day (``worlds.aum.ledger_positions`` is the reference these pipelines must equal). Sums
run on Decimal128 (``$toDecimal`` of every ``units``), so no float ever touches them.

``$sum`` skips what is not a number, so a bad document would silently shrink a position:
``problems_pipeline`` finds such documents first (unknown ``txn_type``, ``units`` not a number
or with more than four decimals, missing key fields, ``txn_date`` not a date) and
``describe_problems`` turns its answer into one message naming counts, an example ``_id`` and
a hint. Pure functions: no Airflow, no client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any, Final

import polars as pl
from bson.decimal128 import Decimal128

from recon_airflow.errors import BadInputError
from worlds.aum import KEYS, NEGATIVE_TYPES, POSITIVE_TYPES, UNITS

TXN_TYPES: Final = (*POSITIVE_TYPES, *NEGATIVE_TYPES)
SCALE: Final = 4  # decimal places of units (Decimal(18, 4))
MAX_UNITS: Final = Decimal(10) ** (UNITS.precision - SCALE)  # 14 integer digits
POSITIONS_SCHEMA: Final = pl.Schema(
    {**dict.fromkeys(KEYS, pl.String()), "units": UNITS, "txns": pl.UInt32()}
)
# wide enough for any Decimal128 (34 digits): normalize() must never round
_EXACT: Final = Context(prec=80)
_VALUE_SAMPLE = 40

Pipeline = list[dict[str, Any]]


class LedgerDataError(BadInputError):
    """A summed position cannot be held exactly as Decimal(18, 4)."""


def day_end(as_of: dt.date) -> dt.datetime:
    """Midnight UTC after ``as_of``: transactions strictly before it are on or before that day."""
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)


def positions_match(as_of: dt.date, amc_codes: Sequence[str] | None) -> dict[str, Any]:
    """The transactions a position counts: booked by the end of ``as_of``, of the given AMCs."""
    match: dict[str, Any] = {"txn_date": {"$lt": day_end(as_of)}}
    if amc_codes is not None:
        match["amc_code"] = {"$in": list(amc_codes)}
    return match


def signed_units() -> dict[str, Any]:
    """``units`` as Decimal128, negated for SELL/REDEMPTION/SWITCH_OUT."""
    units = {"$toDecimal": "$units"}
    return {
        "$cond": [{"$in": ["$txn_type", list(NEGATIVE_TYPES)]}, {"$multiply": [units, -1]}, units]
    }


def positions_pipeline(as_of: dt.date, amc_codes: Sequence[str] | None) -> Pipeline:
    """One flat document per (amc_code, folio, product): signed ``units`` and ``txns`` count.

    Sorted by key, so the same ledger always gives the same snapshot bytes (and checksum).
    """
    return [
        {"$match": positions_match(as_of, amc_codes)},
        {
            "$group": {
                "_id": {key: f"${key}" for key in KEYS},
                "units": {"$sum": signed_units()},
                "txns": {"$sum": 1},
            }
        },
        {
            "$project": {
                "_id": 0,
                **{key: f"$_id.{key}" for key in KEYS},
                "units": 1,
                "txns": 1,
            }
        },
        {"$sort": dict.fromkeys(KEYS, 1)},
    ]


# bad documents ---------------------------------------------------------------------------

# (field, issue, condition, hint), checked in this order; a document reports its first problem
_KEY_ISSUE = "missing, null, empty or not a string"
_KEY_HINT = "every transaction needs amc_code, folio and product as non-empty strings"


def _not_text(field: str) -> dict[str, Any]:
    return {"$or": [{"$ne": [{"$type": f"${field}"}, "string"]}, {"$eq": [f"${field}", ""]}]}


_CHECKS: Final[tuple[tuple[str, str, dict[str, Any], str], ...]] = (
    *((key, _KEY_ISSUE, _not_text(key), _KEY_HINT) for key in KEYS),
    (
        "txn_type",
        "unknown transaction type",
        {"$not": [{"$in": ["$txn_type", list(TXN_TYPES)]}]},
        f"known types: {', '.join(TXN_TYPES)}",
    ),
    (
        "units",
        "not a number",
        {"$not": [{"$isNumber": "$units"}]},
        "store units as Decimal128 (exact), or an integer",
    ),
    (
        "units",
        f"more than {SCALE} decimal places",
        {"$ne": [{"$toDecimal": "$units"}, {"$trunc": [{"$toDecimal": "$units"}, SCALE]}]},
        f"units carry at most {SCALE} decimal places",
    ),
    (
        "txn_date",
        "not a date",
        {"$ne": [{"$type": "$txn_date"}, "date"]},
        "store txn_date as a BSON date (midnight UTC of the booking day), not text",
    ),
)
HINTS: Final = {(field, issue): hint for field, issue, _, hint in _CHECKS}


def problems_pipeline(as_of: dt.date, amc_codes: Sequence[str] | None) -> Pipeline:
    """Per (field, issue): how many in-scope documents are bad, and the first one's ``_id``.

    In scope: what ``positions_pipeline`` would sum, plus documents it would silently skip
    because ``txn_date`` is not a date or ``amc_code`` is not a string.
    """
    scope: list[dict[str, Any]] = [
        {"$or": [{"txn_date": {"$lt": day_end(as_of)}}, {"txn_date": {"$not": {"$type": "date"}}}]}
    ]
    if amc_codes is not None:
        scope.append(
            {
                "$or": [
                    {"amc_code": {"$in": list(amc_codes)}},
                    {"amc_code": {"$not": {"$type": "string"}}},
                ]
            }
        )
    branches = [
        {
            "case": condition,
            "then": {
                "field": {"$literal": field},
                "issue": {"$literal": issue},
                "value": f"${field}",
                "type": {"$type": f"${field}"},
            },
        }
        for field, issue, condition, _ in _CHECKS
    ]
    return [
        {"$match": {"$and": scope}},
        {"$project": {"problem": {"$switch": {"branches": branches, "default": None}}}},
        {"$match": {"problem": {"$ne": None}}},
        {
            "$group": {
                "_id": {"field": "$problem.field", "issue": "$problem.issue"},
                "count": {"$sum": 1},
                "example_id": {"$first": "$_id"},
                "example": {"$first": "$problem"},
            }
        },
        {"$sort": {"count": -1, "_id.field": 1}},
    ]


@dataclass(frozen=True)
class LedgerProblem:
    """Documents with one kind of problem: how many, and one of them."""

    field: str
    issue: str
    count: int
    example_id: Any
    example_value: str  # repr of the bad value, or "missing"
    hint: str

    def __str__(self) -> str:
        noun = "document" if self.count == 1 else "documents"
        return (
            f"{self.field}: {self.count} {noun} {self.issue} (e.g. _id {self.example_id!s} "
            f"has {self.field} = {self.example_value}; {self.hint})"
        )


def ledger_problems(answer: Iterable[Mapping[str, Any]]) -> list[LedgerProblem]:
    """Decode ``problems_pipeline``'s documents (none when the ledger is clean)."""
    problems = []
    for doc in answer:
        field, issue = doc["_id"]["field"], doc["_id"]["issue"]
        example = doc.get("example") or {}
        if example.get("type") == "missing":
            value = "missing"
        else:
            shown = repr(_plain(example.get("value")))
            if len(shown) > _VALUE_SAMPLE:
                shown = shown[:_VALUE_SAMPLE] + "…"
            value = f"{shown} ({example.get('type')})"
        problems.append(
            LedgerProblem(
                field=field,
                issue=issue,
                count=int(doc["count"]),
                example_id=doc.get("example_id"),
                example_value=value,
                hint=HINTS.get((field, issue), ""),
            )
        )
    return problems


def describe_problems(problems: Sequence[LedgerProblem], *, namespace: str) -> str:
    """One message for all problems: what a user needs to find and fix the documents."""
    total = sum(p.count for p in problems)
    noun = "document" if total == 1 else "documents"
    details = "; ".join(str(p) for p in problems)
    return (
        f"ledger {namespace}: {total} transaction {noun} cannot be summed into positions: "
        f"{details}. Fix or remove them in MongoDB, then clear this task to re-run."
    )


def _plain(value: Any) -> Any:
    return value.to_decimal() if isinstance(value, Decimal128) else value


# documents -> frame ----------------------------------------------------------------------


def exact_units(value: Any) -> Decimal:
    """A summed ``units`` as a Decimal that Decimal(18, 4) holds exactly, or LedgerDataError."""
    if isinstance(value, Decimal128):
        number = value.to_decimal()
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        raise LedgerDataError(f"units {value!r} is not a Decimal128 or an integer")
    if not number.is_finite():
        raise LedgerDataError(f"units {number} is not a finite number")
    exponent = number.normalize(_EXACT).as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -SCALE:
        raise LedgerDataError(f"units {number} has more than {SCALE} decimal places")
    if abs(number) >= MAX_UNITS:
        raise LedgerDataError(f"units {number} exceeds Decimal({UNITS.precision}, {SCALE})")
    return number


def positions_frame(cursor_batches: Iterable[Iterable[Mapping[str, Any]]]) -> pl.DataFrame:
    """``positions_pipeline`` documents (in batches) as a frame of POSITIONS_SCHEMA."""
    frames = [_batch_frame(list(batch)) for batch in cursor_batches]
    frames = [frame for frame in frames if frame.height]
    return pl.concat(frames) if frames else pl.DataFrame(schema=POSITIONS_SCHEMA)


def _batch_frame(docs: list[Mapping[str, Any]]) -> pl.DataFrame:
    columns: dict[str, list[Any]] = {key: [doc.get(key) for doc in docs] for key in KEYS}
    units = []
    for doc in docs:
        try:
            units.append(exact_units(doc.get("units")))
        except LedgerDataError as err:
            where = ", ".join(f"{key}={doc.get(key)!r}" for key in KEYS)
            raise LedgerDataError(f"position ({where}): {err}") from None
    columns["units"] = units
    columns["txns"] = [doc.get("txns") for doc in docs]
    return pl.DataFrame(columns, schema=POSITIONS_SCHEMA)


__all__ = [
    "POSITIONS_SCHEMA",
    "LedgerDataError",
    "LedgerProblem",
    "day_end",
    "describe_problems",
    "exact_units",
    "ledger_problems",
    "positions_frame",
    "positions_pipeline",
    "problems_pipeline",
]
