"""A realistic sample pair (processor export vs ledger) with every kind of break, and its truth.

``generate_payments_pair`` writes what a payment processor exports (a CSV written for people:
day-first dates, thousands separators, refunds in parentheses, lower-case currencies) and what
the internal ledger holds (Parquet with native types), plus ``truth.csv``: the status that a
correct reconciliation under ``config/specs/payments_demo.yaml`` gives each result row, and the
kind of break that was planted there. Everything is drawn from one seeded numpy Generator, so a
seed always gives the same bytes.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from recon.result import DUPLICATE, INVALID, LEFT_ONLY, MATCHED, MISMATCHED, RIGHT_ONLY, STATUSES

SPEC_PATH: Final = Path(__file__).resolve().parents[2] / "config" / "specs" / "payments_demo.yaml"
LEFT_FILE: Final = "processor_export.csv"
RIGHT_FILE: Final = "ledger.parquet"
SPEC_FILE: Final = "payments_demo.yaml"
TRUTH_FILE: Final = "truth.csv"
KEY: Final = "txn_id"  # the key's name in results and truth.csv

# What each planted kind must come out as. The first four must match despite a difference.
EXPECTED: Final[Mapping[str, str]] = {
    "exact": MATCHED,
    "amount_within_tolerance": MATCHED,  # 0.01 apart, abs_tol 0.01
    "date_within_window": MATCHED,  # booked the next day, window_days 1
    "key_normalised": MATCHED,  # stray spaces / lower case on one side
    "amount": MISMATCHED,
    "currency": MISMATCHED,
    "status": MISMATCHED,  # failed at the processor, paid in the ledger
    "date": MISMATCHED,  # booked 2 or more days away
    "missing_in_ledger": LEFT_ONLY,
    "missing_at_processor": RIGHT_ONLY,
    "duplicate": DUPLICATE,  # an id twice in the export, or booked twice in the ledger
    "invalid": INVALID,  # unparseable amount, empty id, ledger row without a reference
}
BREAK_KINDS: Final = tuple(kind for kind, status in EXPECTED.items() if status != MATCHED)
# The compare field (see the spec) that differs for each mismatch kind.
MISMATCHED_FIELD: Final[Mapping[str, str]] = {
    "amount": "amount",
    "currency": "currency",
    "status": "status",
    "date": "booked_on",
}
# Share of the transactions planted with each kind (the rest are exact matches).
SHARES: Final[Mapping[str, float]] = {
    "amount_within_tolerance": 0.01,
    "date_within_window": 0.08,
    "key_normalised": 0.01,
    "amount": 0.02,
    "currency": 0.005,
    "status": 0.01,
    "date": 0.01,
    "missing_in_ledger": 0.01,
    "missing_at_processor": 0.01,
    "duplicate": 0.006,
    "invalid": 0.006,
}
MIN_PER_KIND: Final = 4  # every variant of every kind appears, even in a small sample
MIN_ROWS: Final = 200

CURRENCIES: Final = np.array(["usd", "eur", "gbp", "inr"])
CURRENCY_P: Final = (0.55, 0.2, 0.15, 0.1)
STATUSES_AT_PROCESSOR: Final = np.array(["succeeded", "refunded", "failed"])
STATUS_P: Final = (0.85, 0.08, 0.07)
START: Final = np.datetime64("2026-11-01T00:00", "m")
DAYS: Final = 20
ID_ALPHABET: Final = np.array(
    list("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
)
BASE36: Final = np.array(list("0123456789abcdefghijklmnopqrstuvwxyz"))
ID_RANDOM_CHARS: Final = 17
BAD_AMOUNTS: Final = np.array(["12,34x.00", "1.234,5O", "N/A", "#VALUE!", "12..50", "USD 40"])
# Cells a spreadsheet would run as formulas: reports must show them as text.
FORMULA_IDS: Final = ('=HYPERLINK("http://x","ch_refund")', "@SUM(1+1)")
FORMULA_TEXTS: Final = np.array(
    ['=HYPERLINK("http://x")', "+44 20 7946 0000 call back", "-50% promo", "@ops please check"]
)
FIRST_NAMES: Final = np.array(["ana", "bo", "chen", "dev", "eli", "femi", "gita", "hugo", "ines"])
DOMAINS: Final = np.array(["example.com", "mail.test", "shop.example"])


@dataclass(frozen=True)
class SamplePair:
    """Paths of a generated pair, its spec and truth, and the expected count of each status."""

    left: Path
    right: Path
    spec: Path
    truth: Path
    counts: Mapping[str, int] = field(default_factory=dict)  # expected status -> result rows
    kinds: Mapping[str, int] = field(default_factory=dict)  # planted kind -> result rows


def generate_payments_pair(out_dir: Path, *, rows: int = 5000, seed: int = 7) -> SamplePair:
    """Write processor_export.csv, ledger.parquet, payments_demo.yaml and truth.csv to ``out_dir``.

    :param rows: transactions drawn (each side has about this many rows).
    """
    if rows < MIN_ROWS:
        raise ValueError(f"rows must be at least {MIN_ROWS} to plant every kind, got {rows}")
    if not SPEC_PATH.is_file():
        raise FileNotFoundError(f"{SPEC_PATH}: the demo spec is missing from this checkout")
    rng = np.random.default_rng(seed)
    base = _transactions(rng, rows)
    processor, processor_truth = _processor_rows(base)
    ledger, ledger_truth = _ledger_rows(base)
    truth = _truth(base, processor_truth, ledger_truth)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pair = SamplePair(
        left=out_dir / LEFT_FILE,
        right=out_dir / RIGHT_FILE,
        spec=out_dir / SPEC_FILE,
        truth=out_dir / TRUTH_FILE,
        counts=_counts(truth, "status", STATUSES),
        kinds=_counts(truth, "kind", tuple(EXPECTED)),
    )
    processor.write_csv(pair.left)
    ledger.write_parquet(pair.right)
    truth.write_csv(pair.truth)
    shutil.copyfile(SPEC_PATH, pair.spec)
    return pair


# -- the transactions both sides were drawn from ----------------------------------------------


def _transactions(rng: np.random.Generator, rows: int) -> pl.DataFrame:
    """One row per transaction with its planted kind, variant and both sides' values."""
    counts = {kind: max(MIN_PER_KIND, round(share * rows)) for kind, share in SHARES.items()}
    counts = {"exact": rows - sum(counts.values()), **counts}
    kinds = rng.permutation(np.repeat(np.array(list(counts)), list(counts.values())))
    variant = _rank_within(kinds)

    created = START + rng.integers(0, DAYS * 24 * 60, rows).astype("timedelta64[m]")
    cents = np.clip(np.exp(rng.normal(np.log(60.0), 1.2, rows)) * 100, 100, 5_000_000)
    cents = cents.astype(np.int64)
    currency = rng.choice(len(CURRENCIES), rows, p=CURRENCY_P)
    status = STATUSES_AT_PROCESSOR[rng.choice(len(STATUSES_AT_PROCESSOR), rows, p=STATUS_P)]
    status = np.where(kinds == "status", "failed", status)
    cents = np.where(status == "refunded", -cents, cents)

    ledger_cents = cents.copy()
    delta = rng.integers(2, 25_001, rows) * rng.choice([-1, 1], rows)  # beyond 0.01
    ledger_cents += np.where(kinds == "amount", delta, 0)
    ledger_cents += np.where(kinds == "amount_within_tolerance", rng.choice([-1, 1], rows), 0)
    ledger_currency = np.where(
        kinds == "currency",
        (currency + rng.integers(1, len(CURRENCIES), rows)) % len(CURRENCIES),
        currency,
    )
    ledger_status = np.where(kinds == "status", "succeeded", status)
    offset = np.where(kinds == "date_within_window", 1, 0)
    far = rng.choice([-3, -2, 2, 3, 4, 5, 6], rows)
    offset = np.where(kinds == "date", far, offset)
    booked = created.astype("datetime64[D]") + offset.astype("timedelta64[D]")

    ids = _transaction_ids(rng, rows)
    spaced = (kinds == "key_normalised") & (variant % 2 == 0)  # processor side: "  ch_..."
    recased = (kinds == "key_normalised") & (variant % 2 == 1)  # ledger: "ch_... " lower-cased
    processor_id = np.where(spaced, np.char.add("  ", ids), ids).astype(object)
    ledger_ref = np.where(recased, np.char.add(np.char.lower(ids), " "), ids)
    formula = (kinds == "missing_in_ledger") & (variant < len(FORMULA_IDS))
    processor_id[formula] = np.array(FORMULA_IDS)[variant[formula]]

    return pl.DataFrame(
        {
            "kind": kinds,
            "variant": variant,
            "processor_id": processor_id,
            "ledger_ref": ledger_ref,
            "created": created.astype("datetime64[us]"),
            "booked": booked,
            "cents": cents,
            "ledger_cents": ledger_cents,
            "currency": CURRENCIES[currency],
            "ledger_currency": CURRENCIES[ledger_currency],
            "status": status,
            "ledger_status": ledger_status,
            "email": _emails(rng, rows),
            "description": _descriptions(rng, status),
            "bad_amount": BAD_AMOUNTS[rng.integers(0, len(BAD_AMOUNTS), rows)],
        }
    ).with_row_index("txn")


def _rank_within(kinds: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each kind, in order of appearance (picks a kind's variant)."""
    order = np.argsort(kinds, kind="stable")
    sorted_kinds = kinds[order]
    starts = np.r_[0, np.flatnonzero(sorted_kinds[1:] != sorted_kinds[:-1]) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(kinds)]))
    rank = np.empty(len(kinds), dtype=np.int64)
    rank[order] = np.arange(len(kinds)) - run_start
    return rank


def _transaction_ids(rng: np.random.Generator, rows: int) -> np.ndarray:
    """`ch_3P` ids, mixed case like the processor's, unique even after upper-casing.

    The spec upper-cases keys; a base-36 serial inside each id keeps them distinct.
    """
    serial = rng.choice(36**5, rows, replace=False)[:, None] // 36 ** np.arange(4, -1, -1) % 36
    serial_chars = BASE36[serial]
    serial_chars = np.where(
        rng.random(serial.shape) < 0.5, np.char.upper(serial_chars), serial_chars
    )
    noise = ID_ALPHABET[rng.integers(0, len(ID_ALPHABET), (rows, ID_RANDOM_CHARS))]
    chars = np.concatenate([noise[:, :3], serial_chars, noise[:, 3:]], axis=1).astype("<U1")
    body = np.ascontiguousarray(chars).view(f"<U{chars.shape[1]}").ravel()
    return np.char.add("ch_3P", body)


def _emails(rng: np.random.Generator, rows: int) -> np.ndarray:
    names = FIRST_NAMES[rng.integers(0, len(FIRST_NAMES), rows)]
    numbers = rng.integers(1, 9999, rows).astype(str)
    domains = DOMAINS[rng.integers(0, len(DOMAINS), rows)]
    emails = np.char.add(np.char.add(np.char.add(names, numbers), "@"), domains)
    stray = rng.random(rows)  # exports keep whatever the customer typed
    emails = np.where(stray < 0.03, np.char.add(" ", emails), emails)
    emails = np.where((stray >= 0.03) & (stray < 0.06), np.char.add(emails, "  "), emails)
    return np.where(stray > 0.998, np.char.add("+", emails), emails)


def _descriptions(rng: np.random.Generator, status: np.ndarray) -> np.ndarray:
    orders = np.char.add("order #", rng.integers(100_000, 999_999, len(status)).astype(str))
    text = np.where(status == "refunded", np.char.add("Refund for ", orders), orders)
    text = np.where(status == "failed", np.char.add("Declined: ", orders), text)
    tricky = rng.random(len(status)) < 0.004
    return np.where(tricky, FORMULA_TEXTS[rng.integers(0, len(FORMULA_TEXTS), len(status))], text)


# -- each side as its system writes it --------------------------------------------------------


def _processor_rows(base: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The export (newest first, as downloaded) and the row numbers of its planted bad rows."""
    kind, variant = pl.col("kind"), pl.col("variant")
    present = ~((kind == "missing_at_processor") | ((kind == "invalid") & (variant % 3 == 2)))
    twice = (kind == "duplicate") & (variant % 2 == 0)
    bad_amount = (kind == "invalid") & (variant % 3 == 0)
    no_id = (kind == "invalid") & (variant % 3 == 1)
    rows = pl.concat([base.filter(present), base.filter(twice)]).sort(
        "created", "txn", descending=[True, False]
    )
    export = rows.select(
        pl.col("txn"),
        pl.when(no_id)
        .then(pl.when(variant % 2 == 0).then(pl.lit(None)).otherwise(pl.lit("   ")))
        .otherwise(pl.col("processor_id"))
        .alias("Transaction ID"),
        pl.col("created").dt.strftime("%d/%m/%Y %H:%M").alias("Created (UTC)"),
        pl.when(bad_amount)
        .then(pl.col("bad_amount"))
        .otherwise(money_text(pl.col("cents")))
        .alias("Amount"),
        pl.col("currency").alias("Currency"),
        pl.col("status").alias("Status"),
        pl.col("email").alias("Customer Email"),
        pl.col("description").alias("Description"),
    ).with_row_index("row", offset=1)
    return export.drop("row", "txn"), export.select("txn", "row")


def _ledger_rows(base: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ledger's bookings (by date) and the row numbers of its planted bad rows."""
    kind, variant = pl.col("kind"), pl.col("variant")
    present = ~((kind == "missing_in_ledger") | ((kind == "invalid") & (variant % 3 != 2)))
    twice = (kind == "duplicate") & (variant % 2 == 1)
    no_ref = (kind == "invalid") & (variant % 3 == 2)
    rows = pl.concat([base.filter(present), base.filter(twice)]).sort("booked", "txn")
    ledger = rows.select(
        pl.col("txn"),
        pl.format("JE-{}", (pl.int_range(pl.len()) + 100_001).cast(pl.String)).alias("entry_id"),
        pl.when(no_ref)
        .then(pl.lit(None, pl.String))
        .otherwise(pl.col("ledger_ref"))
        .alias("txn_ref"),
        pl.col("booked").alias("booked_at"),
        decimal_amount(pl.col("ledger_cents")).alias("amount"),
        pl.col("ledger_currency").str.to_uppercase().alias("ccy"),
        pl.col("ledger_status").str.to_uppercase().alias("state"),
        pl.lit("1200-card-clearing").alias("account"),
    ).with_row_index("row", offset=1)
    return ledger.drop("row", "txn"), ledger.select("txn", "row")


def money_text(cents: pl.Expr) -> pl.Expr:
    """Integer cents as the export writes money: ``1,234.50``, refunds as ``(1,234.50)``."""
    units = cents.abs() // 100
    minor = (cents.abs() % 100).cast(pl.String).str.zfill(2)
    millions, thousands, ones = units // 1_000_000, units // 1000 % 1000, units % 1000

    def padded(part: pl.Expr) -> pl.Expr:
        return part.cast(pl.String).str.zfill(3)

    whole = (
        pl.when(millions > 0)
        .then(pl.format("{},{},{}", millions, padded(thousands), padded(ones)))
        .when(thousands > 0)
        .then(pl.format("{},{}", thousands, padded(ones)))
        .otherwise(ones.cast(pl.String))
    )
    text = pl.format("{}.{}", whole, minor)
    return pl.when(cents < 0).then(pl.format("({})", text)).otherwise(text)


def decimal_amount(cents: pl.Expr) -> pl.Expr:
    """Integer cents as Decimal(18, 2), exactly (through text, never through a float)."""
    units = (cents.abs() // 100).cast(pl.String)
    minor = (cents.abs() % 100).cast(pl.String).str.zfill(2)
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.format("{}{}.{}", sign, units, minor).cast(pl.Decimal(18, 2))


# -- what a correct reconciliation says -------------------------------------------------------


def _truth(base: pl.DataFrame, processor: pl.DataFrame, ledger: pl.DataFrame) -> pl.DataFrame:
    """One row per expected result row: key, status, kind, and side/row for bad rows."""
    kind, variant = pl.col("kind"), pl.col("variant")
    key = pl.col("processor_id").str.strip_chars().str.to_uppercase()
    first_row = {
        side: rows.group_by("txn").agg(pl.col("row").min().alias(f"{side}_row"))
        for side, rows in (("left", processor), ("right", ledger))
    }
    one, zero = pl.lit(1, pl.UInt32), pl.lit(0, pl.UInt32)
    left_rows = (
        pl.when(kind == "missing_at_processor")
        .then(zero)
        .when((kind == "duplicate") & (variant % 2 == 0))
        .then(pl.lit(2, pl.UInt32))
        .when(kind == "invalid")
        .then(pl.when(variant % 3 == 2).then(zero).otherwise(one))
        .otherwise(one)
    )
    right_rows = (
        pl.when(kind == "missing_in_ledger")
        .then(zero)
        .when((kind == "duplicate") & (variant % 2 == 1))
        .then(pl.lit(2, pl.UInt32))
        .when(kind == "invalid")
        .then(pl.when(variant % 3 == 2).then(one).otherwise(zero))
        .otherwise(one)
    )
    side = (
        pl.when(kind == "duplicate")
        .then(pl.when(variant % 2 == 0).then(pl.lit("left")).otherwise(pl.lit("right")))
        .when(kind == "invalid")
        .then(pl.when(variant % 3 == 2).then(pl.lit("right")).otherwise(pl.lit("left")))
    )
    invalid_key = pl.when(variant % 3 == 0).then(key)  # empty ids and ledger nulls have none
    empty_id = pl.when(variant % 2 == 0).then(pl.lit(None)).otherwise(pl.lit(""))
    return (
        base.join(first_row["left"], on="txn", how="left", validate="1:1")
        .join(first_row["right"], on="txn", how="left", validate="1:1")
        .select(
            pl.when(kind != "invalid")
            .then(key)
            .when(variant % 3 == 1)
            .then(empty_id)
            .otherwise(invalid_key)
            .alias(KEY),
            kind.replace_strict(dict(EXPECTED), return_dtype=pl.String).alias("status"),
            kind,
            side.alias("side"),
            pl.when(kind == "invalid")
            .then(pl.coalesce("left_row", "right_row"))
            .when(side == "left")
            .then(pl.col("left_row"))
            .when(side == "right")
            .then(pl.col("right_row"))
            .cast(pl.Int64)
            .alias("row"),
            left_rows.alias("left_rows"),
            right_rows.alias("right_rows"),
        )
        .sort("status", KEY, "row", nulls_last=True)
    )


def _counts(truth: pl.DataFrame, column: str, names: tuple[str, ...]) -> dict[str, int]:
    found = dict(truth.group_by(column).len().iter_rows())
    return {name: int(found.get(name, 0)) for name in names}


__all__ = ["BREAK_KINDS", "EXPECTED", "MISMATCHED_FIELD", "SamplePair", "generate_payments_pair"]
