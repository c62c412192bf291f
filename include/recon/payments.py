"""Payments reconciliation of one processor and business date: scope, break types, money at stake.

The core matches keys and compares fields; payments need three more things, done here:

1. **Scope.** The processor side is what the processor created in ``[D, D+1+W)`` (W: the
   settlement window); the ledger snapshot holds the bookings of the days around D. D's ledger
   is what was booked in ``[D, D+1)``. A processor record whose payment was booked on another
   day, or that was created after midnight and is not one of D's bookings, is another day's
   business: ``excluded`` (counted in the summary's ``scope``, never reported as a break of D).
2. **Break types** (``break_type``, in the audit trail's words): ``missing_at_processor``
   (booked, never settled), ``missing_in_ledger`` (settled, never booked), ``failed_payment``
   (failed at the processor, not failed in the ledger: checked first, since a failure also
   changes the amount and the fee), ``currency``, ``amount``, ``fee_mismatch``, ``status``,
   ``duplicate``, ``invalid``, and ``timing``: a pair that agrees but settled after midnight,
   inside the window (not money at stake; listed so that nobody chases it).
3. **Money.** ``break_amount`` is what is at stake for the type (the amount difference, the fee
   difference, or the ledger amount when the payment failed, is in another currency or another
   status); ``impact_amount`` is it in the reporting currency. The summary's
   ``financial_impact`` gives volume, discrepancy amount and rate, per currency and in the
   reporting currency, the risk level and the compliance status against the spec's thresholds.

Row conservation holds twice: the core's (every in-scope row in one status) and the scope's
(every processor row either in scope or excluded; every ledger row of the processor either
D's or another day's).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl

from recon.currencies import ISO_4217
from recon.errors import RowConservationError, SpecError
from recon.files import replaced_atomically
from recon.normalize import text_rules
from recon.reconcile import ReconResult, reconcile, write_summary
from recon.result import (
    BREAK_STATUSES,
    DUPLICATE,
    INVALID,
    LEFT_ONLY,
    MATCHED,
    MISMATCHED,
    RESULTS_FILE,
    RIGHT_ONLY,
)
from recon.spec import ReconSpec
from recon.summary import MONEY_DECIMALS, money, risk_level

# break types, in the order reports list them
MISSING_AT_PROCESSOR: Final = "missing_at_processor"
MISSING_IN_LEDGER: Final = "missing_in_ledger"
AMOUNT: Final = "amount"
CURRENCY: Final = "currency"
FAILED_PAYMENT: Final = "failed_payment"
FEE_MISMATCH: Final = "fee_mismatch"
STATUS: Final = "status"
TIMING: Final = "timing"
BREAK_TYPES: Final = (
    MISSING_AT_PROCESSOR,
    MISSING_IN_LEDGER,
    AMOUNT,
    CURRENCY,
    FAILED_PAYMENT,
    FEE_MISMATCH,
    STATUS,
    DUPLICATE,
    INVALID,
    TIMING,
)
LABELS: Final = {name: name.replace("_", " ") for name in BREAK_TYPES}
NOT_AT_STAKE: Final = (MATCHED, TIMING)  # break types that are no money at stake
FAILED: Final = "failed"  # the hooks' normalised status of a failed payment

# the columns each side's snapshot needs besides the spec's (processor: hook snapshot; ledger:
# include/sql/ledger_payments.sql)
PROCESSOR_TIME: Final = "created_at"
LEDGER_TIME: Final = "booked_at"
PROCESSOR_ID: Final = "transaction_id"
LEDGER_ID: Final = "payment_id"
LEDGER_PROCESSOR: Final = "processor"
SPEC_FIELDS: Final = (AMOUNT, CURRENCY, "fee", STATUS)  # compare fields the types are made of


@dataclass(frozen=True)
class Day:
    """The business date D and the settlement window W: D's bookings, the processor's window."""

    business_date: dt.date
    settlement_window: dt.timedelta

    @property
    def start(self) -> dt.datetime:
        d = self.business_date
        return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(days=1)

    @property
    def settlement_end(self) -> dt.datetime:
        return self.end + self.settlement_window


def check_spec(spec: ReconSpec) -> None:
    """The payments spec must compare the fields the break types are made of."""
    missing = [name for name in SPEC_FIELDS if name not in spec.compare]
    if missing or spec.amount_field() != AMOUNT:
        raise SpecError(
            f"spec {spec.name!r}: a payments spec compares {', '.join(SPEC_FIELDS)} with "
            f"`amount: amount` (missing: {', '.join(missing) or 'amount: amount'})"
        )


def reconcile_payments(
    processor: pl.LazyFrame,
    ledger: pl.LazyFrame,
    spec: ReconSpec,
    *,
    processor_name: str,
    day: Day,
    out_dir: Path,
    inputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> ReconResult:
    """Reconcile one processor's day into ``out_dir`` (results.parquet + summary.json).

    ``processor``: the processor's normalised transactions (``created_at`` in UTC);
    ``ledger``: ledger bookings around D, every processor (``processor``, ``booked_at``).
    Files appear only when everything succeeded; bad input raises a ``ReconError``.
    """
    started = time.perf_counter()
    check_spec(spec)
    scope = _scope(processor, ledger, processor_name, day, spec)
    given = {side: dict(v) for side, v in (inputs or {}).items()}
    names = (
        str(given.get("left", {}).get("file", spec.label("left"))),
        str(given.get("right", {}).get("file", spec.label("right"))),
    )
    core = reconcile(
        scope.processor.lazy(),
        scope.ledger.lazy(),
        spec,
        sources=names,
        inputs=given,
    )
    results = classify(core.results, scope, spec, day)
    summary = {
        **core.summary,
        **payments_summary(results, core.summary, spec),
        "scope": scope.describe(day),
        "checks": quality_checks(scope, spec),
    }
    summary["seconds"] = round(time.perf_counter() - started, 3)
    out_dir.mkdir(parents=True, exist_ok=True)
    with replaced_atomically(out_dir / RESULTS_FILE) as staged:
        results.write_parquet(staged, compression="zstd")
    write_summary(out_dir, summary)
    return ReconResult(summary, path=out_dir / RESULTS_FILE)


# -- scope --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    processor: pl.DataFrame  # D's processor records (the core's left side)
    ledger: pl.DataFrame  # D's bookings of this processor (the core's right side)
    processor_rows: int
    excluded_other_day: int  # processor records of payments booked on another day
    excluded_next_day: int  # created after midnight, not one of D's bookings
    ledger_rows: int  # the processor's rows in the ledger snapshot
    ledger_other_days: int

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            "processor": {
                "rows": self.processor_rows,
                "in_scope": self.processor.height,
                "excluded_other_day": self.excluded_other_day,
                "excluded_next_day": self.excluded_next_day,
            },
            "ledger": {
                "rows": self.ledger_rows,
                "in_scope": self.ledger.height,
                "other_days": self.ledger_other_days,
            },
        }

    def describe(self, day: Day) -> dict[str, Any]:
        return {
            "business_date": day.business_date.isoformat(),
            "settlement_window_hours": day.settlement_window.total_seconds() / 3600,
            "ledger_window": [day.start.isoformat(), day.end.isoformat()],
            "processor_window": [day.start.isoformat(), day.settlement_end.isoformat()],
            **self.counts(),
        }


def normalised(spec: ReconSpec, field: str, side: str) -> pl.Expr:
    """A side's column of ``field`` as the core sees it: after the spec's text rules."""
    column = spec.column(field, side)
    return text_rules(pl.col(column), spec.normalize_steps(field, column))


def _scope(
    processor: pl.LazyFrame, ledger: pl.LazyFrame, name: str, day: Day, spec: ReconSpec
) -> Scope:
    key = spec.keys[0].name
    booked = pl.col(LEDGER_TIME)
    theirs = ledger.filter(pl.col(LEDGER_PROCESSOR) == name).collect()
    on_day = ((booked >= day.start) & (booked < day.end)).fill_null(False)
    ours = theirs.filter(on_day)
    day_refs = ours.select(normalised(spec, key, "right")).to_series().drop_nulls().unique()
    other_refs = theirs.filter(~on_day).select(normalised(spec, key, "right")).to_series()
    records = processor.collect()
    ref = normalised(spec, key, "left")
    # a null reference is in none of the lists: it stays in scope (the core calls it invalid)
    ours_too = ref.is_in(day_refs.implode()).fill_null(False)
    other_day = ref.is_in(other_refs.drop_nulls().unique().implode()).fill_null(False) & ~ours_too
    next_day = (pl.col(PROCESSOR_TIME) >= day.end).fill_null(False) & ~ours_too & ~other_day
    flagged = records.with_columns(other_day.alias("__other"), next_day.alias("__next"))
    counts = flagged.select(pl.col("__other").sum(), pl.col("__next").sum()).row(0)
    kept = flagged.filter(~pl.col("__other") & ~pl.col("__next")).drop("__other", "__next")
    scope = Scope(
        processor=kept,
        ledger=ours,
        processor_rows=records.height,
        excluded_other_day=int(counts[0] or 0),
        excluded_next_day=int(counts[1] or 0),
        ledger_rows=theirs.height,
        ledger_other_days=theirs.height - ours.height,
    )
    accounted = scope.processor.height + scope.excluded_other_day + scope.excluded_next_day
    if accounted != scope.processor_rows:  # a bug, said loudly
        raise RowConservationError(
            f"payments scope: {scope.processor_rows} processor rows, {accounted} accounted for "
            "(this is a bug in recon: please report it with the inputs)"
        )
    return scope


# -- classification -----------------------------------------------------------------------------


def break_type(day: Day) -> pl.Expr:
    """Each result row's break type (needs the ``created_at`` joined in by ``classify``)."""
    status, fields = pl.col("status"), pl.col("mismatched_fields")
    failed_there = (pl.col("left_status") == FAILED) & pl.col("right_status").ne_missing(FAILED)
    return (
        pl.when(status == MATCHED)
        .then(
            pl.when(pl.col(PROCESSOR_TIME) >= day.end)
            .then(pl.lit(TIMING))
            .otherwise(pl.lit(MATCHED))
        )
        .when(status == MISMATCHED)
        .then(
            pl.when(fields.list.contains(STATUS) & failed_there)
            .then(pl.lit(FAILED_PAYMENT))
            .when(fields.list.contains(CURRENCY))
            .then(pl.lit(CURRENCY))
            .when(fields.list.contains(AMOUNT))
            .then(pl.lit(AMOUNT))
            .when(fields.list.contains("fee"))
            .then(pl.lit(FEE_MISMATCH))
            .otherwise(pl.lit(STATUS))
        )
        .when(status == LEFT_ONLY)
        .then(pl.lit(MISSING_IN_LEDGER))
        .when(status == RIGHT_ONLY)
        .then(pl.lit(MISSING_AT_PROCESSOR))
        .otherwise(status)  # duplicate, invalid
    )


def at_stake(kind: pl.Expr) -> pl.Expr:
    """The money at stake of a classified row, in its own currency."""
    ledger_amount = pl.col(f"right_{AMOUNT}").cast(pl.Float64).abs()
    return (
        pl.when(kind.is_in(NOT_AT_STAKE))
        .then(0.0)
        .when(kind == AMOUNT)
        .then(pl.col(f"diff_{AMOUNT}").cast(pl.Float64).abs())
        .when(kind == FEE_MISMATCH)
        .then(pl.col("diff_fee").cast(pl.Float64).abs())
        .when(kind.is_in([FAILED_PAYMENT, CURRENCY, STATUS]))
        .then(ledger_amount)
        .when(kind == DUPLICATE)  # one booking or settlement too many
        .then(pl.coalesce(pl.col(f"__right_{AMOUNT}"), pl.col(f"__left_{AMOUNT}")).cast(pl.Float64))
        .otherwise(pl.col("break_amount"))
    )


def classify(results: pl.DataFrame, scope: Scope, spec: ReconSpec, day: Day) -> pl.DataFrame:
    """The core's results with break_type, money at stake, currency and both sides' ids/times."""
    key = spec.keys[0].name
    joined = results
    for side, frame, stamp, ident in (
        ("left", scope.processor, PROCESSOR_TIME, PROCESSOR_ID),
        ("right", scope.ledger, LEDGER_TIME, LEDGER_ID),
    ):
        joined = joined.join(
            _by_reference(frame, spec, side, key, stamp, ident), on=key, how="left"
        )
    kind = break_type(day)
    currency = pl.coalesce(
        *(pl.col(f"{side}_{CURRENCY}") for side in ("right", "left")),
        *(pl.col(f"__{side}_{CURRENCY}") for side in ("right", "left")),  # duplicates' own
    )
    rate = currency.replace_strict(spec.impact.fx_rates, default=None, return_dtype=pl.Float64)
    return (
        joined.with_columns(kind.alias("break_type"), currency.alias("currency"))
        .with_columns(at_stake(pl.col("break_type")).round(MONEY_DECIMALS).alias("break_amount"))
        .with_columns((pl.col("break_amount") * rate).round(MONEY_DECIMALS).alias("impact_amount"))
        .drop(pl.selectors.starts_with("__"))
    )


def _by_reference(
    frame: pl.DataFrame, spec: ReconSpec, side: str, key: str, time: str, ident: str
) -> pl.DataFrame:
    """One row per reference of a side (normalised as the core matched it): its earliest time,
    every id (a duplicate has several), and the largest amount and a currency (what a
    duplicate, which the core leaves without values, puts at stake).

    Most references are unique: they pass as they are; only repeated ones are grouped.
    """
    rows = frame.select(
        normalised(spec, key, side).alias(key),
        pl.col(time),
        pl.col(ident),
        pl.col(spec.column(AMOUNT, side)).abs().alias(f"__{side}_{AMOUNT}"),
        normalised(spec, CURRENCY, side).alias(f"__{side}_{CURRENCY}"),
    ).filter(pl.col(key).is_not_null())
    repeated = pl.col(key).is_duplicated()
    grouped = (
        rows.filter(repeated)
        .group_by(key)
        .agg(
            pl.col(time).min(),
            pl.col(ident).sort().str.join(","),
            pl.col(f"__{side}_{AMOUNT}").max(),
            pl.col(f"__{side}_{CURRENCY}").first(),
        )
    )
    return pl.concat([rows.filter(~repeated), grouped.select(rows.columns)])


# -- summary ------------------------------------------------------------------------------------


def payments_summary(
    results: pl.DataFrame, core: Mapping[str, Any], spec: ReconSpec
) -> dict[str, Any]:
    """``classification`` and ``financial_impact``; risk and threshold verdicts from them."""
    per_type = results.group_by("break_type").agg(
        pl.len().alias("rows"), pl.col("break_amount").sum().alias("amount")
    )
    rows = dict(zip(per_type["break_type"], per_type["rows"], strict=True))
    amounts = dict(zip(per_type["break_type"], per_type["amount"], strict=True))
    classification = {
        "column": "break_type",
        "matched": MATCHED,
        "order": list(BREAK_TYPES),
        "labels": dict(LABELS),
        "counts": {t: int(rows.get(t, 0)) for t in (MATCHED, *BREAK_TYPES)},
        "amounts": {t: money(amounts.get(t)) for t in BREAK_TYPES},
        "breaks": int(results.height - rows.get(MATCHED, 0)),
    }
    impact = financial_impact(results, float(core["break_rate"]), spec)
    return {
        "classification": classification,
        "financial_impact": impact,
        **reporting_money(results, spec, impact),
        "risk_level": impact["risk_level"],
        "threshold_passed": impact["compliance_status"] == "COMPLIANT",
        "thresholds": spec.thresholds.model_dump(),
    }


def reporting_money(
    results: pl.DataFrame, spec: ReconSpec, impact: Mapping[str, Any]
) -> dict[str, Any]:
    """The core summary's money figures again, in the reporting currency: the core adds amounts
    of every currency together, which means nothing once there are two."""
    rate = pl.col("currency").replace_strict(
        spec.impact.fx_rates, default=None, return_dtype=pl.Float64
    )
    left = pl.col(f"left_{AMOUNT}").cast(pl.Float64) * rate
    right = pl.col(f"right_{AMOUNT}").cast(pl.Float64) * rate
    whole = pl.max_horizontal(left.abs(), right.abs())
    matched = pl.col("status") == MATCHED
    figures = results.select(
        left.sum().alias("left_amount"),
        right.sum().alias("right_amount"),
        whole.sum().alias("volume"),
        whole.filter(matched).sum().alias("matched_amount"),
        *[
            pl.col("impact_amount").filter(pl.col("status") == s).sum().alias(s)
            for s in BREAK_STATUSES
        ],
    ).row(0, named=True)
    totals = {k: money(figures[k]) for k in ("left_amount", "right_amount", "volume")}
    totals["matched_amount"] = money(figures["matched_amount"])
    return {
        "totals": totals,
        "match_rate_by_amount": (
            totals["matched_amount"] / totals["volume"] if totals["volume"] else 1.0
        ),
        "discrepancy_amount": impact["discrepancy_amount"],
        "discrepancy_rate": impact["discrepancy_rate"],
        "break_amount_by_status": {s: money(figures[s]) for s in BREAK_STATUSES},
        "money_currency": spec.impact.reporting_currency,
    }


def combined_summary(results: Path, summary: Mapping[str, Any], spec: ReconSpec) -> dict[str, Any]:
    """A combined (several processors') summary with its classification and impact, rewritten
    in ``results``' folder."""
    combined = {**summary, **payments_summary(pl.read_parquet(results), summary, spec)}
    write_summary(results.parent, combined)
    return combined


def financial_impact(results: pl.DataFrame, break_rate: float, spec: ReconSpec) -> dict[str, Any]:
    """Volume and discrepancy per currency and in the reporting currency; risk and compliance."""
    amount = pl.max_horizontal(
        pl.col(f"left_{AMOUNT}").cast(pl.Float64).abs(),
        pl.col(f"right_{AMOUNT}").cast(pl.Float64).abs(),
    ).fill_null(0.0)
    at_stake = pl.col("break_amount").filter(~pl.col("break_type").is_in(NOT_AT_STAKE))
    valid = results.filter(pl.col("currency").is_not_null())
    per_currency = (
        valid.group_by("currency")
        .agg(
            pl.len().alias("transactions"),
            amount.sum().alias("volume"),
            at_stake.sum().alias("discrepancy_amount"),
        )
        .sort("currency")
    )
    rates = spec.impact.fx_rates
    by_currency: dict[str, dict[str, Any]] = {}
    volume = discrepancy = 0.0
    unconverted = []
    for row in per_currency.iter_rows(named=True):
        code, vol, disc = row["currency"], float(row["volume"]), float(row["discrepancy_amount"])
        by_currency[code] = {
            "transactions": int(row["transactions"]),
            "volume": money(vol),
            "discrepancy_amount": money(disc),
            "discrepancy_rate": disc / vol if vol else 0.0,
        }
        if code in rates:
            volume += vol * rates[code]
            discrepancy += disc * rates[code]
        else:
            unconverted.append(code)
    rate = discrepancy / volume if volume else 0.0
    limits = spec.thresholds
    failures = []
    if break_rate > limits.max_break_rate:
        failures.append(_over("break rate", break_rate, limits.max_break_rate))
    if limits.max_discrepancy_rate is not None and rate > limits.max_discrepancy_rate:
        failures.append(_over("discrepancy rate", rate, limits.max_discrepancy_rate))
    return {
        "reporting_currency": spec.impact.reporting_currency,
        "volume": money(volume),
        "discrepancy_amount": money(discrepancy),
        "discrepancy_rate": rate,
        "break_rate": break_rate,
        "risk_level": risk_level(max(break_rate, rate), spec),
        "compliance_status": "NON_COMPLIANT" if failures else "COMPLIANT",
        "compliance_failures": failures,
        "by_currency": by_currency,
        "unconverted": unconverted,
    }


def _over(what: str, rate: float, limit: float) -> str:
    """``break rate 1.20% is over the 1.00% limit``, with the digits that tell them apart."""
    digits = 2
    while digits < 6 and f"{rate:.{digits}%}" == f"{limit:.{digits}%}":
        digits += 1
    return f"{what} {rate:.{digits}%} is over the {limit:.{digits}%} limit"


# -- data-quality checks per input --------------------------------------------------------------


def quality_checks(scope: Scope, spec: ReconSpec) -> list[dict[str, Any]]:
    """Currency codes, negative amounts and scope per input (row counts and null keys are the
    store's checks, derived from every result)."""
    checks = []
    sides = (("left", scope.processor), ("right", scope.ledger))
    for side, frame in sides:
        currency = normalised(spec, CURRENCY, side)  # as the core compares it
        unknown = frame.filter(currency.is_null() | ~currency.is_in(sorted(ISO_4217)))
        codes = unknown.get_column(spec.column(CURRENCY, side)).unique().sort(nulls_last=True)
        checks.append(
            _check(
                "currency_codes",
                side,
                unknown.height,
                {"not_iso_4217": [c if c is not None else "(empty)" for c in codes.to_list()[:20]]},
            )
        )
        negative = pl.col(spec.column(AMOUNT, side)) < 0
        if side == "left":  # at the processor, refunds and failures are negative by design
            status = pl.col(spec.column(STATUS, side))
            negative &= ~status.is_in([FAILED, "refunded"])
        count = frame.select(negative.sum()).item() or 0
        checks.append(
            _check("negative_amounts", side, int(count), {"rows": frame.height}),
        )
    checks.append(
        {
            "name": "scope",
            "side": "both",
            "passed": True,
            "observed": scope.counts(),
            "expected": None,
            "details": {"why": "rows of other days are excluded, never reported as breaks of D"},
        }
    )
    return checks


def _check(name: str, side: str, count: int, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "side": side,
        "passed": count == 0,
        "observed": count,
        "expected": 0,
        "details": json.loads(json.dumps(details, default=str)),
    }


__all__ = [
    "BREAK_TYPES",
    "LABELS",
    "Day",
    "Scope",
    "break_type",
    "check_spec",
    "classify",
    "combined_summary",
    "financial_impact",
    "payments_summary",
    "quality_checks",
    "reconcile_payments",
]
