"""A day of payments at Stripe, PayPal and Square and the internal ledger behind them, with truth.

``generate_payments_day`` plants every break the payments pipeline must find and writes:

- per processor, its records in the processor's OWN API shape, ready for
  ``ProcessorApi.load(processor, records)``: Stripe balance transactions, PayPal
  ``transaction_details`` items, Square ``Payment`` objects. Each carries our payment id where
  that processor's hook reads the reference: Stripe ``description`` ``order <payment id>``
  (a failure's ``PAYMENT FAILURE REFUND (order <payment id>)``), PayPal ``invoice_id`` (a tenth
  in ``custom_field``, the hook's fallback), Square ``reference_id``;
- ``ledger.parquet``: the internal ledger (every processor in one table, other days too, as the
  ``ledger.payments`` table holds them): payment_id, processor, processor_reference (what the
  processor's record carries as our reference: the payment id), amount and fee (Decimal(18, 2),
  major units), currency, status (our words: paid, pending, failed, refunded), booked_at (UTC);
- ``truth.csv``: one row per planted case and what a correct reconciliation of the business
  date D says of it (``status``, in the audit trail's words), with both sides' values.

A correct reconciliation of D, with settlement window W: the ledger rows booked in [D, D+1)
against the processor records created in [D, D+1+W). A pair whose processor record was created
after midnight (inside W) is ``timing``. What belongs to another day is ``excluded`` (never
reported for D): a pair whose ledger row is on D-1 or D+1, or a processor-only record created
outside D. The kinds at the edges of the day test exactly that:

- ``timing``: booked on D within W/2 of midnight, settled on D+1 within W/2 after it;
- ``previous_day_settled``: the mirror on D-1: booked just before D, settled on D (the processor
  extract of D has it; D-1's run reported it as timing, D's must not call it missing);
- ``next_day_in_window``: booked and settled on D+1 inside W (in the extended processor window,
  but D+1's business);
- ``previous_day`` / ``next_day``: both sides on D-1 / D+1, far from midnight.

Each case differs in one thing only, except ``failed_payment``: the processor's record is what a
failure looks like there (Stripe: a ``payment_failure_refund``, negative, no fee; PayPal ``D``
and Square ``FAILED``: no fee), so the status must be checked before amounts and fees.

The amounts are exact: integers in minor units while generating, Decimal in files; JPY (no
minor unit) stays whole. Statuses at the processor are mostly settled ones: a Stripe charge is
``available`` (read after its funds became available), ``pending`` only where the ledger says
pending too; Stripe has no refunded or failed case among the matches (both are negative there).
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import polars as pl

from recon.payments import (
    AMOUNT,
    CURRENCY,
    FAILED_PAYMENT,
    FEE_MISMATCH,
    MISSING_AT_PROCESSOR,
    MISSING_IN_LEDGER,
    TIMING,
    Day,
)
from recon.result import DUPLICATE, MATCHED
from worlds.pairs import decimal_amount
from worlds.processor_records import balance_transaction, payment

PROCESSORS: Final = ("stripe", "paypal", "square")
SETTLEMENT_WINDOW: Final = dt.timedelta(hours=1)
MAX_SETTLEMENT_WINDOW: Final = dt.timedelta(hours=6)  # the adjacent-day kinds stay outside it
LEDGER_FILE: Final = "ledger.parquet"
TRUTH_FILE: Final = "truth.csv"
MONEY: Final = pl.Decimal(18, 2)
TRUTH_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S%:z"

EXCLUDED: Final = "excluded"  # what the truth says of a case that is not part of D

# Planted kinds and what they must come out as.
EXPECTED: Final[Mapping[str, str]] = {
    "exact": MATCHED,
    "amount": AMOUNT,  # no tolerance for money: one minor unit apart is a break
    "currency": CURRENCY,
    "failed_payment": FAILED_PAYMENT,  # failed at the processor, paid in the ledger
    "fee_mismatch": FEE_MISMATCH,
    "missing_at_processor": MISSING_AT_PROCESSOR,  # booked, never settled
    "missing_in_ledger": MISSING_IN_LEDGER,  # settled, never booked
    "duplicate_at_processor": DUPLICATE,  # the reference on two processor records
    "duplicate_in_ledger": DUPLICATE,  # the payment booked twice
    "timing": TIMING,
    "previous_day_settled": EXCLUDED,
    "next_day_in_window": EXCLUDED,
    "previous_day": EXCLUDED,
    "next_day": EXCLUDED,
}
SHARES: Final[Mapping[str, float]] = {
    "amount": 0.02,
    "currency": 0.01,
    "failed_payment": 0.01,
    "fee_mismatch": 0.02,
    "missing_at_processor": 0.01,
    "missing_in_ledger": 0.01,
    "duplicate_at_processor": 0.005,
    "duplicate_in_ledger": 0.005,
    "timing": 0.02,
    "previous_day_settled": 0.005,
    "next_day_in_window": 0.005,
    "previous_day": 0.01,
    "next_day": 0.01,
}
KINDS: Final = tuple(EXPECTED)
MIN_PER_KIND: Final = 2
MIN_EXACT: Final = 10

# Our status words and the hooks' normalised ones (recon_airflow.hooks.processor).
LEDGER_STATUS: Final[Mapping[str, str]] = {
    "succeeded": "paid",
    "pending": "pending",
    "failed": "failed",
    "refunded": "refunded",
}
STATUS_NAMES: Final = tuple(LEDGER_STATUS)  # the hooks' words, in LEDGER_STATUS's order
EXACT_STATUS_P: Final = (0.85, 0.08, 0.03, 0.04)  # of the exact matches
CURRENCIES: Final = ("USD", "EUR", "GBP", "JPY", "CAD")
CURRENCY_P: Final = (0.55, 0.2, 0.12, 0.1, 0.03)
ZERO_DECIMAL: Final = frozenset({"JPY"})  # of CURRENCIES: no minor unit
# processor -> (basis points, fixed minor units; none for zero-decimal currencies)
FEES: Final[Mapping[str, tuple[int, int]]] = {
    "stripe": (290, 30),
    "paypal": (349, 49),
    "square": (260, 10),
}
PAYPAL_OFFSET: Final = dt.timezone(dt.timedelta(hours=-8))  # PayPal dates in the account's zone
_ALNUM: Final = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_UPPER: Final = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DAY: Final = 86_400


@dataclass(frozen=True)
class PaymentsDay:
    """A generated day: the processors' records, the ledger and the truth."""

    business_date: dt.date
    settlement_window: dt.timedelta
    records: Mapping[str, list[dict[str, Any]]]  # processor -> records in its API's shape
    ledger: Path  # ledger.parquet
    truth: Path  # truth.csv: one row per planted case
    counts: Mapping[str, int] = field(default_factory=dict)  # kind -> cases, all processors
    statuses: Mapping[str, int] = field(default_factory=dict)  # expected status -> cases

    @property
    def day(self) -> Day:
        """The business date and window as the reconciliation sees them."""
        return Day(self.business_date, self.settlement_window)

    @property
    def start(self) -> dt.datetime:
        """Midnight UTC opening the business date."""
        return self.day.start

    @property
    def end(self) -> dt.datetime:
        """Midnight UTC closing it (exclusive)."""
        return self.day.end

    @property
    def settlement_end(self) -> dt.datetime:
        """Where the processor window of D ends: ``end`` plus the settlement window."""
        return self.day.settlement_end


def generate_payments_day(
    out_dir: Path,
    *,
    business_date: dt.date,
    per_processor: int = 1000,
    seed: int = 17,
    settlement_window: dt.timedelta = SETTLEMENT_WINDOW,
) -> PaymentsDay:
    """Write the ledger and the truth of ``business_date``; return them with the records.

    :param per_processor: planted cases per processor (each holds a share of every kind).
    :param settlement_window: how long after midnight a payment booked on D may settle.
    """
    if not dt.timedelta(minutes=2) <= settlement_window <= MAX_SETTLEMENT_WINDOW:
        raise ValueError(
            f"settlement_window {settlement_window} is out of range: give 2 minutes to "
            f"{MAX_SETTLEMENT_WINDOW} (the adjacent days' cases sit outside it)"
        )
    sizes = kind_counts(per_processor)
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    day_start = int(dt.datetime.combine(business_date, dt.time(), dt.UTC).timestamp())
    window = int(settlement_window.total_seconds())
    payment_ids = _payment_ids(rng, per_processor * len(PROCESSORS))
    cases = pl.concat(
        [
            _cases(
                rng,
                processor,
                sizes,
                payment_ids[i * per_processor : (i + 1) * per_processor],
                day_start,
                window,
            )
            for i, processor in enumerate(PROCESSORS)
        ]
    )
    with _gc_paused():
        records = {
            processor: _RECORDS[processor](cases.filter(pl.col("processor") == processor))
            for processor in PROCESSORS
        }
    ledger_path = out_dir / LEDGER_FILE
    _ledger(cases).write_parquet(ledger_path)
    truth = _truth(cases)
    truth_path = out_dir / TRUTH_FILE
    truth.write_csv(truth_path, datetime_format=TRUTH_TIME_FORMAT)
    return PaymentsDay(
        business_date,
        settlement_window,
        records,
        ledger_path,
        truth_path,
        counts={kind: int((cases["kind"] == kind).sum()) for kind in EXPECTED},
        statuses=dict(sorted(truth.group_by("status").len().iter_rows())),
    )


def kind_counts(per_processor: int) -> dict[str, int]:
    """Cases of each kind per processor (``exact`` takes what the others leave)."""
    counts = {kind: max(MIN_PER_KIND, round(per_processor * s)) for kind, s in SHARES.items()}
    planted = sum(counts.values())
    if per_processor - planted < MIN_EXACT:
        raise ValueError(
            f"per_processor={per_processor} is too small: the planted kinds take {planted} cases "
            f"and at least {MIN_EXACT} must match exactly; give {planted + MIN_EXACT} or more"
        )
    return {"exact": per_processor - planted, **counts}


def fee_minor(processor: str, amount: np.ndarray, zero_decimal: np.ndarray) -> np.ndarray:
    """The processor's fee on each amount, in minor units, rounded half up."""
    bp, fixed = FEES[processor]
    return (np.abs(amount) * bp + 5_000) // 10_000 + np.where(zero_decimal, 0, fixed)


# -- planting -----------------------------------------------------------------------------------


def _cases(
    rng: np.random.Generator,
    processor: str,
    sizes: Mapping[str, int],
    payment_numbers: np.ndarray,
    day_start: int,
    window: int,
) -> pl.DataFrame:
    """One row per case: its kind and what each side shows (amounts in minor units).

    Strings are held as codes into a tuple of names until the frame is built (a million
    Python strings per column would cost more than everything else here).
    """
    n = payment_numbers.size
    kind = np.empty(n, dtype=np.int8)
    order = rng.permutation(n)
    first_of_kind = []
    start = 0
    for code, count in enumerate(sizes[name] for name in KINDS):
        kind[order[start : start + count]] = code
        first_of_kind.append(order[start])
        start += count

    def of(*names: str) -> np.ndarray:
        return np.isin(kind, [KINDS.index(name) for name in names])

    jpy = CURRENCIES.index("JPY")
    currency = rng.choice(len(CURRENCIES), n, p=CURRENCY_P)
    currency[first_of_kind] = jpy  # every kind has a zero-decimal case
    swapped = of("currency")  # among two-decimal currencies, so the digits stay comparable
    two_decimal = np.array([i for i, c in enumerate(CURRENCIES) if c not in ZERO_DECIMAL])
    currency[swapped & (currency == jpy)] = CURRENCIES.index("USD")
    theirs = currency.copy()
    position = np.searchsorted(two_decimal, currency)
    other = two_decimal[(position + rng.integers(1, two_decimal.size, n)) % two_decimal.size]
    theirs[swapped] = other[swapped]

    amount = np.clip(np.rint(rng.lognormal(np.log(6_000), 1.0, n)), 100, 2_000_000).astype(np.int64)
    at_processor = amount.copy()
    broken = of("amount")
    delta = rng.integers(1, np.maximum(amount // 5, 2)) * rng.choice([-1, 1], n)
    at_processor[broken] = np.where(amount + delta > 0, amount + delta, amount - delta)[broken]

    succeeded, pending, failed, refunded = range(len(STATUS_NAMES))
    failing = of("failed_payment")
    status = np.where(failing, failed, succeeded)
    exact = of("exact")
    status[exact] = rng.choice(len(STATUS_NAMES), exact.sum(), p=EXACT_STATUS_P)
    if processor == "stripe":  # Stripe's refunds and failures are negative: not a plain match
        status[exact & np.isin(status, [refunded, failed])] = succeeded
        at_processor[failing] *= -1
    ledger_status = np.where(failing, succeeded, status)  # "paid"

    fee = fee_minor(processor, amount, currency == jpy)
    charged = np.isin(status, [succeeded, refunded])
    if processor != "square":  # Square adds processing_fee when a payment completes
        charged |= status == pending
    processor_fee = np.where(charged, fee, 0)
    ledger_fee = np.where(failing, fee, processor_fee)
    off = of("fee_mismatch")
    fee_delta = rng.integers(1, np.maximum(fee // 2, 2)) * rng.choice([-1, 1], n)
    processor_fee[off] = np.where(fee + fee_delta >= 0, fee + fee_delta, fee - fee_delta)[off]

    booked, created = _times(rng, kind, day_start, window)
    prefix, alphabet, length = _ID_SHAPE[processor]
    ids = _random_ids(rng, 2 * n, alphabet, length)
    return pl.DataFrame(
        {
            "kind": _named(kind, KINDS),
            "payment_id": pl.Series(payment_numbers).cast(pl.String),
            "ledger_rows": np.select(
                [of("missing_in_ledger"), of("duplicate_in_ledger")], [0, 2], 1
            ),
            "processor_rows": np.select(
                [of("missing_at_processor"), of("duplicate_at_processor")], [0, 2], 1
            ),
            "transaction_id": ids[:n],
            "second_transaction_id": ids[n:],
            "ledger_currency": _named(currency, CURRENCIES),
            "processor_currency": _named(theirs, CURRENCIES),
            "ledger_minor": amount,
            "processor_minor": at_processor,
            "ledger_fee_minor": ledger_fee,
            "processor_fee_minor": processor_fee,
            "ledger_status": _named(ledger_status, tuple(LEDGER_STATUS.values())),
            "processor_status": _named(status, STATUS_NAMES),
            "booked": booked,
            "second_booked": booked + rng.integers(1, 300, n),
            "created": created,
            "second_created": created + rng.integers(60, 900, n),
            "payer": _random_ids(rng, n, _UPPER, 13),  # PayPal's payer account ids
            "in_custom_field": rng.random(n) < 0.1,  # PayPal only
            "fee_adjusted": rng.random(n) < 0.5,  # Square only: the difference as an ADJUSTMENT
        }
    ).with_columns(
        pl.lit(processor).alias("processor"),
        ("P" + pl.col("payment_id")).alias("payment_id"),
        *(
            pl.concat_str(pl.lit(prefix), pl.col(name)).alias(name)
            for name in ("transaction_id", "second_transaction_id")
        ),
    )


def _named(codes: np.ndarray, names: tuple[str, ...]) -> pl.Series:
    return pl.Series(codes).replace_strict(dict(enumerate(names)), return_dtype=pl.String)


def _times(
    rng: np.random.Generator, kind: np.ndarray, day_start: int, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Unix seconds each side was booked / created at, by kind (see the module docstring)."""
    n = kind.size
    day_end = day_start + _DAY
    half = window // 2
    near = rng.integers(1, half, n)  # seconds from midnight, inside half a window
    after = rng.integers(0, half, n)
    lag = rng.integers(0, 600, n)  # booked, then captured at the processor minutes later
    booked = day_start + rng.integers(1_800, 23 * 3_600, n)  # on D, away from midnight
    is_ = {name: kind == code for code, name in enumerate(KINDS)}
    # the adjacent days' own business, hours away from midnight (and from any window)
    booked = np.where(
        is_["previous_day"], day_start - _DAY + rng.integers(6 * 3_600, 17 * 3_600, n), booked
    )
    booked = np.where(is_["next_day"], day_end + rng.integers(8 * 3_600, 20 * 3_600, n), booked)
    created = booked + lag
    edge = {
        "timing": (day_end - near, day_end + after),
        "previous_day_settled": (day_start - near, day_start + after),
        "next_day_in_window": (day_end + near, day_end + near + after),
    }
    for name, (ledger_side, processor_side) in edge.items():
        booked = np.where(is_[name], ledger_side, booked)
        created = np.where(is_[name], processor_side, created)
    return booked, created


def _payment_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unique 10-digit numbers (``P`` + them is a payment id), random steps apart, shuffled."""
    return rng.permutation(1_000_000_000 + np.cumsum(rng.integers(1, 50, n)))


def _random_ids(rng: np.random.Generator, n: int, alphabet: bytes, length: int) -> pl.Series:
    """``n`` random ids of ``length`` characters (built as bytes: cheap at a million)."""
    letters = np.frombuffer(alphabet, dtype="S1")
    chars = letters[rng.integers(0, letters.size, (n, length))]
    return pl.Series(chars.view(f"S{length}").reshape(n)).cast(pl.String)


_ID_SHAPE: Final[Mapping[str, tuple[str, bytes, int]]] = {
    "stripe": ("txn_", _ALNUM, 24),
    "paypal": ("", _UPPER, 17),
    "square": ("", _ALNUM, 29),
}


# -- each processor's records ------------------------------------------------------------------


def _processor_rows(cases: pl.DataFrame) -> pl.DataFrame:
    """One row per processor record (a duplicate's second record too), oldest first."""
    columns = (
        "payment_id",
        pl.col("processor_currency").alias("currency"),
        pl.col("processor_minor").alias("amount"),
        pl.col("processor_fee_minor").alias("fee"),
        pl.col("ledger_fee_minor").alias("booked_fee"),
        pl.col("processor_status").alias("status"),
        "payer",
        "in_custom_field",
        "fee_adjusted",
    )
    first = cases.filter(pl.col("processor_rows") >= 1).select(
        "transaction_id", "created", *columns
    )
    second = cases.filter(pl.col("processor_rows") == 2).select(
        pl.col("second_transaction_id").alias("transaction_id"),
        pl.col("second_created").alias("created"),
        *columns,
    )
    return pl.concat([first, second]).sort("created", "transaction_id")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic GC while building records: millions of small acyclic dicts would make it
    rescan everything again and again (half the time of a million records)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _rows(frame: pl.DataFrame, *columns: str | pl.Expr) -> Iterator[tuple[Any, ...]]:
    """The frame's rows as tuples of the given columns (expressions computed in one pass)."""
    chosen = frame.select(
        (pl.col(column) if isinstance(column, str) else column).alias(f"c{i}")
        for i, column in enumerate(columns)
    )
    return zip(*(series.to_list() for series in chosen.iter_columns()), strict=True)


def _stripe_records(cases: pl.DataFrame) -> list[dict[str, Any]]:
    """Stripe balance transactions of the processor-side cases."""
    records = []
    failed = pl.col("status") == "failed"
    rows = _rows(
        _processor_rows(cases),
        "transaction_id",
        "created",
        "amount",
        "fee",
        pl.col("currency").str.to_lowercase(),
        pl.when(failed)
        .then(pl.format("PAYMENT FAILURE REFUND (order {})", "payment_id"))
        .otherwise(pl.format("order {}", "payment_id")),
        pl.when(failed).then(pl.lit("payment_failure_refund")).otherwise(pl.lit("charge")),
        pl.when(failed).then(pl.lit("py_")).otherwise(pl.lit("ch_"))
        + pl.col("transaction_id").str.slice(4),
        pl.when(pl.col("status") == "pending")
        .then(pl.lit("pending"))
        .otherwise(pl.lit("available")),
    )
    for txn_id, created, amount, fee, currency, description, txn_type, source, status in rows:
        records.append(
            balance_transaction(
                txn_id,
                amount=amount,
                fee=fee,
                currency=currency,
                created=created,
                type=txn_type,
                status=status,
                source=source,
                description=description,
            )
        )
    return records


_PAYPAL_STATUS: Final = {"succeeded": "S", "pending": "P", "failed": "D", "refunded": "V"}


def _paypal_records(cases: pl.DataFrame) -> list[dict[str, Any]]:
    """``transaction_details`` items as the Transaction Search API returns them."""
    records = []
    offset = PAYPAL_OFFSET.utcoffset(None)
    hours, minutes = divmod(abs(int(offset.total_seconds())) // 60, 60)
    zone = f"{'-' if offset < dt.timedelta(0) else '+'}{hours:02d}:{minutes:02d}"
    rows = _rows(
        _processor_rows(cases),
        "transaction_id",
        (_utc("created") + offset).dt.strftime(f"%Y-%m-%dT%H:%M:%S{zone}"),
        "currency",
        _money_text("amount", "currency"),
        pl.when(pl.col("fee") != 0).then(_money_text(-pl.col("fee"), "currency")),
        pl.col("status").replace_strict(_PAYPAL_STATUS, return_dtype=pl.String),
        pl.when("in_custom_field").then(pl.lit("custom_field")).otherwise(pl.lit("invoice_id")),
        "payment_id",
        "payer",
        pl.col("payer").str.to_lowercase() + "@example.com",
    )
    for txn_id, when, currency, value, fee, status, where, payment_id, payer, email in rows:
        info: dict[str, Any] = {
            "paypal_account_id": payer,
            "transaction_id": txn_id,
            "transaction_event_code": "T0006",
            "transaction_initiation_date": when,
            "transaction_updated_date": when,
            "transaction_amount": {"currency_code": currency, "value": value},
            "transaction_status": status,
            "protection_eligibility": "01",
        }
        if fee is not None:  # PayPal omits fee_amount when no fee applies, and signs it minus
            info["fee_amount"] = {"currency_code": currency, "value": fee}
        info[where] = payment_id  # invoice_id, or custom_field (the hook's fallback)
        records.append(
            {"transaction_info": info, "payer_info": {"account_id": payer, "email_address": email}}
        )
    return records


_SQUARE_STATUS: Final = {
    "succeeded": "COMPLETED",
    "pending": "APPROVED",
    "failed": "FAILED",
    "refunded": "COMPLETED",
}


def _square_records(cases: pl.DataFrame) -> list[dict[str, Any]]:
    """Square ``Payment`` objects of the processor-side cases."""
    records = []
    rows = _rows(
        _processor_rows(cases),
        "transaction_id",
        _utc("created").dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "amount",
        "currency",
        "fee",
        "booked_fee",
        "fee_adjusted",
        "status",
        "payment_id",
    )
    for txn_id, when, amount, currency, fee, booked_fee, adjusted, status, payment_id in rows:
        square_status = _SQUARE_STATUS[status]
        # Square adds processing_fee once a payment completes; a correction is an ADJUSTMENT
        fees = [fee] if fee or square_status == "COMPLETED" else []
        if adjusted and fee != booked_fee:
            fees = [booked_fee, fee - booked_fee]
        records.append(
            payment(
                txn_id,
                when,
                amount,
                currency,
                status=square_status,
                fees=fees,
                refunded=amount if status == "refunded" else 0,
                reference_id=payment_id,
            )
        )
    return records


_RECORDS: Final = {"stripe": _stripe_records, "paypal": _paypal_records, "square": _square_records}


def _money_text(minor: str | pl.Expr, currency: str) -> pl.Expr:
    """Minor units as PayPal writes money: ``12.34``, ``-0.66``; zero-decimal whole: ``1200``."""
    value = pl.col(minor) if isinstance(minor, str) else minor
    units = (value.abs() // 100).cast(pl.String)
    cents = (value.abs() % 100).cast(pl.String).str.zfill(2)
    sign = pl.when(value < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return (
        pl.when(pl.col(currency).is_in(list(ZERO_DECIMAL)))
        .then(value.cast(pl.String))
        .otherwise(pl.format("{}{}.{}", sign, units, cents))
    )


# -- the ledger and the truth -------------------------------------------------------------------


def major_units(minor: str, currency: str) -> pl.Expr:
    """Minor units in ``currency`` as exact Decimal(18, 2) major units (JPY kept whole)."""
    cents = (
        pl.when(pl.col(currency).is_in(list(ZERO_DECIMAL)))
        .then(pl.col(minor) * 100)
        .otherwise(pl.col(minor))
    )
    return decimal_amount(cents)


def read_truth(path: Path) -> pl.DataFrame:
    """``truth.csv`` with its types back: Decimal money, UTC datetimes, counts as integers."""
    money = ("ledger_amount", "processor_amount", "ledger_fee", "processor_fee")
    times = ("booked_at", "created_at")
    return pl.read_csv(
        path,
        infer_schema=False,  # every column as text first: ids and money never go through floats
    ).with_columns(
        *(pl.col(name).cast(MONEY) for name in money),
        *(pl.col(name).str.to_datetime(TRUTH_TIME_FORMAT, time_zone="UTC") for name in times),
        pl.col("ledger_rows", "processor_rows").cast(pl.Int64),
    )


def _utc(seconds: str) -> pl.Expr:
    return pl.from_epoch(pl.col(seconds), time_unit="s").dt.replace_time_zone("UTC")


def _ledger(cases: pl.DataFrame) -> pl.DataFrame:
    """The ledger rows of every processor: a duplicate's second booking a little later."""
    booked = cases.filter(pl.col("ledger_rows") >= 1)
    twice = cases.filter(pl.col("ledger_rows") == 2).with_columns(
        pl.col("second_booked").alias("booked")
    )
    return (
        pl.concat([booked, twice])
        .select(
            "payment_id",
            "processor",
            pl.col("payment_id").alias("processor_reference"),
            major_units("ledger_minor", "ledger_currency").alias("amount"),
            pl.col("ledger_currency").alias("currency"),
            major_units("ledger_fee_minor", "ledger_currency").alias("fee"),
            pl.col("ledger_status").alias("status"),
            _utc("booked").alias("booked_at"),
        )
        .sort("booked_at", "payment_id")
    )


def _truth(cases: pl.DataFrame) -> pl.DataFrame:
    """One row per case: what a correct reconciliation of D says, and both sides' values."""
    in_ledger = pl.col("ledger_rows") > 0
    at_processor = pl.col("processor_rows") > 0

    def ledger_side(expr: pl.Expr) -> pl.Expr:
        return pl.when(in_ledger).then(expr)

    def processor_side(expr: pl.Expr) -> pl.Expr:
        return pl.when(at_processor).then(expr)

    return cases.select(
        "processor",
        "payment_id",
        processor_side(pl.col("transaction_id")).alias("transaction_id"),
        pl.when(pl.col("processor_rows") == 2)
        .then(pl.col("second_transaction_id"))
        .alias("second_transaction_id"),
        "kind",
        pl.col("kind").replace_strict(dict(EXPECTED), return_dtype=pl.String).alias("status"),
        "ledger_rows",
        "processor_rows",
        ledger_side(major_units("ledger_minor", "ledger_currency")).alias("ledger_amount"),
        processor_side(major_units("processor_minor", "processor_currency")).alias(
            "processor_amount"
        ),
        ledger_side(pl.col("ledger_currency")).alias("ledger_currency"),
        processor_side(pl.col("processor_currency")).alias("processor_currency"),
        ledger_side(major_units("ledger_fee_minor", "ledger_currency")).alias("ledger_fee"),
        processor_side(major_units("processor_fee_minor", "processor_currency")).alias(
            "processor_fee"
        ),
        ledger_side(pl.col("ledger_status")).alias("ledger_status"),
        processor_side(pl.col("processor_status")).alias("processor_status"),
        ledger_side(_utc("booked")).alias("booked_at"),
        processor_side(_utc("created")).alias("created_at"),
    ).sort("processor", "payment_id")


__all__ = [
    "EXPECTED",
    "PROCESSORS",
    "SETTLEMENT_WINDOW",
    "SHARES",
    "PaymentsDay",
    "generate_payments_day",
    "kind_counts",
    "read_truth",
]
