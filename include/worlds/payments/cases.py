"""The cases of a payments day drawn at random: each one's kind and what both sides show.

Amounts are integers in minor units and times unix seconds until the files are written (see
``ledger``, ``truth`` and ``records``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import polars as pl

from worlds.payments.kinds import KINDS, PROCESSORS

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
_ALNUM: Final = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_UPPER: Final = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DAY: Final = 86_400
FIRST_PAYMENT_ID: Final = 1_000_000_000


def draw_cases(
    rng: np.random.Generator,
    sizes: Mapping[str, int],
    per_processor: int,
    day_start: int,
    window: int,
    first_id: int = FIRST_PAYMENT_ID,
) -> pl.DataFrame:
    """Every processor's cases, ``sizes`` of each kind (payment ids unique across them, from
    ``first_id`` up: days generated with ids far enough apart never share one)."""
    payment_ids = _payment_ids(rng, per_processor * len(PROCESSORS), first_id)
    return pl.concat(
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


def fee_minor(processor: str, amount: np.ndarray, zero_decimal: np.ndarray) -> np.ndarray:
    """The processor's fee on each amount, in minor units, rounded half up."""
    bp, fixed = FEES[processor]
    return (np.abs(amount) * bp + 5_000) // 10_000 + np.where(zero_decimal, 0, fixed)


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


def _payment_ids(rng: np.random.Generator, n: int, first: int) -> np.ndarray:
    """Unique numbers from ``first`` (``P`` + them is a payment id), random steps apart, shuffled."""
    return rng.permutation(first + np.cumsum(rng.integers(1, 50, n)))


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


def utc(seconds: str) -> pl.Expr:
    """A column of unix seconds as UTC datetimes."""
    return pl.from_epoch(pl.col(seconds), time_unit="s").dt.replace_time_zone("UTC")
