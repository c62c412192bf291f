"""Registrar holdings (CAMS and KARVY DBF files) and the transaction ledger behind them, with truth.

Mutual-fund registrars send a holdings file per business date; the ledger (MongoDB in
production) holds every BUY/SELL/switch/redemption. A position's units are the signed sum of its
transactions up to the report date. ``generate_aum`` writes both registrars' DBF files in their
own conventions (CAMS: FOLIO_NO/PRODCODE/CLOS_BAL, month-first text dates; KARVY: TD_ACNO/
FMCODE/TD_UNITS, day-first text dates), the ledger as Parquet (what the pipeline loads into
MongoDB), and ``truth.csv``: what a correct reconciliation says of every position, and why.

The key is (amc_code, folio, product); folios look like ``42213157/43`` and stay strings.
Units are exact: ten-thousandths as integers, Decimal(18, 4) in files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from worlds.dbf_write import FieldSpec, write_dbf

KEYS: Final = ("amc_code", "folio", "product")
SCALE: Final = 10_000  # units are held as integer ten-thousandths
UNITS: Final = pl.Decimal(18, 4)
NEGATIVE_TYPES: Final = ("SELL", "REDEMPTION", "SWITCH_OUT")
POSITIVE_TYPES: Final = ("BUY", "SWITCH_IN")

# Which AMCs each registrar services (the ledger knows every AMC).
REGISTRAR_AMCS: Final[Mapping[str, tuple[str, ...]]] = {
    "CAMS": ("P", "H", "B", "D"),
    "KARVY": ("K", "R", "M"),
}
SCHEMES: Final = (
    "Equity Fund – Growth",
    "Liquid Fund – Direct Growth",
    "Short Term Debt – IDCW",
    "ELSS Tax Saver – Growth",
    "Nifty 50 Index – Direct",
    "Balanced Advantage – Regular",
)

# Planted kinds and what they must come out as (dbf_only/mongo_only in the pipeline's words).
EXPECTED: Final[Mapping[str, str]] = {
    "exact": "matched",
    "within_tolerance": "matched",  # 0.0005 units apart, abs_tol 0.001
    "future_transaction": "matched",  # a BUY after the report date must not count
    "units": "mismatched",
    "dbf_only": "dbf_only",  # the registrar holds it, the ledger never booked it
    "mongo_only": "mongo_only",  # booked, but no registrar file has it
}
SHARES: Final[Mapping[str, float]] = {
    "within_tolerance": 0.02,
    "future_transaction": 0.03,
    "units": 0.03,
    "dbf_only": 0.01,
    "mongo_only": 0.01,
}

CAMS_FIELDS: Final[list[FieldSpec]] = [
    ("FOLIO_NO", "C", 15, 0),
    ("AMC_CODE", "C", 3, 0),
    ("PRODCODE", "C", 10, 0),
    ("SCHEME", "C", 40, 0),
    ("INV_NAME", "C", 30, 0),
    ("REP_DATE", "C", 10, 0),  # MM/DD/YYYY
    ("CLOS_BAL", "N", 18, 4),
    ("NAV", "N", 12, 4),
]
KARVY_FIELDS: Final[list[FieldSpec]] = [
    ("TD_ACNO", "C", 15, 0),
    ("TD_FUND", "C", 3, 0),
    ("FMCODE", "C", 10, 0),
    ("FUNDDESC", "C", 40, 0),
    ("INVNAME", "C", 30, 0),
    ("REP_DT", "C", 10, 0),  # DD/MM/YYYY
    ("TD_UNITS", "N", 18, 4),
    ("TD_NAV", "N", 12, 4),
]
# registrar -> (file column for each key, units, report date, date format)
LAYOUT: Final[Mapping[str, Mapping[str, str]]] = {
    "CAMS": {
        "folio": "FOLIO_NO",
        "amc_code": "AMC_CODE",
        "product": "PRODCODE",
        "scheme": "SCHEME",
        "investor": "INV_NAME",
        "report_date": "REP_DATE",
        "units": "CLOS_BAL",
        "nav": "NAV",
        "date_format": "%m/%d/%Y",
    },
    "KARVY": {
        "folio": "TD_ACNO",
        "amc_code": "TD_FUND",
        "product": "FMCODE",
        "scheme": "FUNDDESC",
        "investor": "INVNAME",
        "report_date": "REP_DT",
        "units": "TD_UNITS",
        "nav": "TD_NAV",
        "date_format": "%d/%m/%Y",
    },
}
FIELDS: Final[Mapping[str, list[FieldSpec]]] = {"CAMS": CAMS_FIELDS, "KARVY": KARVY_FIELDS}


@dataclass(frozen=True)
class AumSample:
    business_date: dt.date
    holdings: Mapping[str, Path]  # registrar -> DBF file
    ledger: Path  # transactions, Parquet
    truth: Path  # one row per position: keys, registrar, status, kind, units both sides
    counts: Mapping[str, int] = field(default_factory=dict)  # expected status -> positions


def holdings_file_name(registrar: str, business_date: dt.date) -> str:
    """The name each registrar's daily file arrives under (the SFTP wait matches it)."""
    return f"{registrar.lower()}_holdings_{business_date:%Y%m%d}.dbf"


def generate_aum(
    out_dir: Path,
    *,
    positions: int = 1000,
    business_date: dt.date = dt.date(2026, 11, 20),
    seed: int = 11,
    report_date: dt.date | None = None,
) -> AumSample:
    """Write both registrars' holdings, the ledger and the truth for ``business_date``.

    :param positions: positions per registrar (each holds a share of the breaks).
    :param report_date: the date written inside the DBF files (default: the business date);
        set it to another day to test the report-date check.
    """
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = [_positions(rng, registrar, positions) for registrar in REGISTRAR_AMCS]
    book = pl.concat(frames)
    holdings = {}
    for registrar in REGISTRAR_AMCS:
        rows = book.filter((pl.col("registrar") == registrar) & (pl.col("kind") != "mongo_only"))
        path = out_dir / holdings_file_name(registrar, business_date)
        _write_holdings(path, registrar, rows, report_date or business_date)
        holdings[registrar] = path
    ledger = _ledger(rng, book.filter(pl.col("kind") != "dbf_only"), business_date)
    ledger_path = out_dir / "ledger.parquet"
    ledger.write_parquet(ledger_path)
    truth = _truth(book)
    truth_path = out_dir / "truth.csv"
    truth.write_csv(truth_path)
    counts = dict(truth.group_by("status").len().iter_rows())
    return AumSample(business_date, holdings, ledger_path, truth_path, counts)


# kinds that live in a registrar's file only: they may change from one date to the next while
# the ledger stays the same (dbf_only and future_transaction positions are in the ledger's shape)
FILE_KINDS: Final = ("exact", "within_tolerance", "units", "mongo_only")
DAILY_BREAKS: Final = ("units", "mongo_only")


def generate_aum_days(
    out_dir: Path,
    business_dates: Sequence[dt.date],
    *,
    positions: int = 1000,
    seed: int = 11,
    persist: float = 0.5,
    empty: Mapping[dt.date, Collection[str]] | None = None,
) -> list[AumSample]:
    """Several business dates of one book: each date its registrars' files and truth, one ledger.

    The first date is ``generate_aum``'s day; on each later date ``persist`` of the previous
    date's ``units`` and ``mongo_only`` breaks break again (same units), the others clear, and
    as many new ones are planted among matched positions, so breaks age across dates and some
    go away. ``dbf_only`` positions (never booked) break on every date. Every ledger
    transaction is dated on or before the first date (future BUYs after the last), so the
    positions are the same on every date. The ledger is written once (``out_dir/ledger.parquet``).

    :param empty: date -> registrars whose file holds no record that day (a failed export):
        their positions are all ``mongo_only`` then.
    """
    dates = sorted(business_dates)
    if not dates or len(set(dates)) != len(dates):
        raise ValueError("give one or more distinct business dates")
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    book = pl.concat([_positions(rng, registrar, positions) for registrar in REGISTRAR_AMCS])
    ledger = _ledger(rng, book.filter(pl.col("kind") != "dbf_only"), dates[0], dates[-1])
    ledger_path = out_dir / "ledger.parquet"
    ledger.write_parquet(ledger_path)
    samples = []
    for index, day in enumerate(dates):
        if index:
            book = _replanted(rng, book, persist)
        folder = out_dir / day.isoformat()
        folder.mkdir(exist_ok=True)
        missing = set((empty or {}).get(day, ()))
        book_of_day = book.with_columns(
            pl.when(pl.col("registrar").is_in(list(missing)) & (pl.col("kind") != "dbf_only"))
            .then(pl.lit("mongo_only"))
            .otherwise(pl.col("kind"))
            .alias("kind")
        ).filter(~(pl.col("registrar").is_in(list(missing)) & (pl.col("kind") == "dbf_only")))
        holdings = {}
        for registrar in REGISTRAR_AMCS:
            rows = book_of_day.filter(
                (pl.col("registrar") == registrar) & (pl.col("kind") != "mongo_only")
            )
            path = folder / holdings_file_name(registrar, day)
            _write_holdings(path, registrar, rows, day)
            holdings[registrar] = path
        truth = _truth(book_of_day)
        truth_path = folder / "truth.csv"
        truth.write_csv(truth_path)
        counts = dict(truth.group_by("status").len().iter_rows())
        samples.append(AumSample(day, holdings, ledger_path, truth_path, counts))
    return samples


def _replanted(rng: np.random.Generator, book: pl.DataFrame, persist: float) -> pl.DataFrame:
    """The next date's book: ``persist`` of the daily breaks stay, the rest clear, as many new
    ones appear among exact positions (the ledger's units never change)."""
    n = book.height
    kinds = book["kind"].to_numpy().astype(object)
    breaking = np.flatnonzero(np.isin(kinds, DAILY_BREAKS))
    cleared = breaking[rng.random(breaking.size) >= persist]
    exact = np.flatnonzero(kinds == "exact")
    fresh = rng.choice(exact, min(cleared.size, exact.size), replace=False)
    new_kinds = kinds.copy()
    new_kinds[cleared] = "exact"
    new_kinds[fresh] = rng.choice(DAILY_BREAKS, fresh.size)
    delta = np.zeros(n, dtype=np.int64)
    delta[fresh] = rng.integers(20, 500 * SCALE, fresh.size) * rng.choice([-1, 1], fresh.size)
    was_cleared = np.zeros(n, dtype=bool)
    was_cleared[cleared] = True
    is_fresh = np.zeros(n, dtype=bool)
    is_fresh[fresh] = True
    kind, ledger_units = pl.col("kind"), pl.col("ledger_units")
    return (
        book.with_columns(
            pl.Series("kind", new_kinds.astype(str)),
            pl.Series("_cleared", was_cleared),
            pl.Series("_fresh", is_fresh),
            pl.Series("_delta", delta),
        )
        .with_columns(
            pl.when(pl.col("_cleared"))
            .then(ledger_units)
            .when(pl.col("_fresh") & (kind == "units"))
            .then(pl.max_horizontal(ledger_units + pl.col("_delta"), pl.lit(1)))
            .when(pl.col("_fresh"))
            .then(None)
            .otherwise(pl.col("dbf_units"))
            .cast(book.schema["dbf_units"])
            .alias("dbf_units")
        )
        .drop("_cleared", "_fresh", "_delta")
    )


def _truth(book: pl.DataFrame) -> pl.DataFrame:
    return book.select(
        *KEYS,
        "registrar",
        pl.col("kind").replace_strict(dict(EXPECTED)).alias("status"),
        "kind",
        (pl.col("dbf_units").cast(pl.Int64) / SCALE).cast(UNITS).alias("dbf_units"),
        (pl.col("ledger_units").cast(pl.Int64) / SCALE).cast(UNITS).alias("ledger_units"),
    )


def ledger_positions(
    ledger: pl.LazyFrame, business_date: dt.date, amcs: tuple[str, ...] | None = None
) -> pl.LazyFrame:
    """Signed units per position up to ``business_date``: the reference for the Mongo pipeline."""
    if amcs is not None:
        ledger = ledger.filter(pl.col("amc_code").is_in(list(amcs)))
    sign = pl.when(pl.col("txn_type").is_in(list(NEGATIVE_TYPES))).then(-1).otherwise(1)
    return (
        ledger.filter(pl.col("txn_date") <= pl.lit(business_date))
        .group_by(list(KEYS))
        .agg((pl.col("units") * sign).sum().cast(UNITS).alias("units"), pl.len().alias("txns"))
    )


def _positions(rng: np.random.Generator, registrar: str, n: int) -> pl.DataFrame:
    """One row per position with its planted kind and the units each side will show."""
    amcs = np.array(REGISTRAR_AMCS[registrar])
    amc = amcs[rng.integers(0, amcs.size, n)]
    base = 10_000_000 if registrar == "CAMS" else 60_000_000
    folio_numbers = rng.choice(np.arange(base, base + 9_000_000), n, replace=False)
    folio = (
        pl.Series(folio_numbers).cast(pl.String)
        + "/"
        + pl.Series(rng.integers(1, 99, n)).cast(pl.String).str.zfill(2)
    )
    scheme_index = rng.integers(0, len(SCHEMES), n)
    product = pl.Series(amc) + pl.Series(100 + scheme_index * 37 + rng.integers(0, 9, n)).cast(
        pl.String
    )
    units = rng.integers(1 * SCALE, 50_000 * SCALE, n)  # 1 to 50,000 units
    kinds = np.full(n, "exact", dtype=object)
    order = rng.permutation(n)
    start = 0
    for kind, share in SHARES.items():
        count = max(1, round(n * share))
        kinds[order[start : start + count]] = kind
        start += count
    dbf_units = units.copy()
    ledger_units = units.copy()
    tolerance = kinds == "within_tolerance"
    dbf_units[tolerance] += 5  # 0.0005 units
    broken = kinds == "units"
    dbf_units[broken] += rng.integers(20, 500 * SCALE, broken.sum()) * rng.choice(
        [-1, 1], broken.sum()
    )
    dbf_units = np.maximum(dbf_units, 1)
    return pl.DataFrame(
        {
            "amc_code": amc,
            "folio": folio,
            "product": product,
            "scheme": np.array(SCHEMES)[scheme_index],
            "investor": rng.choice(["A Sharma", "R Iyer", "S Khan", "P Nair", "M D'Souza"], n),
            "nav": rng.integers(10 * SCALE, 900 * SCALE, n),
            "registrar": np.full(n, registrar),
            "kind": kinds.astype(str),
            "dbf_units": np.where(kinds == "mongo_only", 0, dbf_units),
            "ledger_units": np.where(kinds == "dbf_only", 0, ledger_units),
        }
    ).with_columns(
        pl.when(pl.col("kind") == "mongo_only")
        .then(None)
        .otherwise(pl.col("dbf_units"))
        .alias("dbf_units"),
        pl.when(pl.col("kind") == "dbf_only")
        .then(None)
        .otherwise(pl.col("ledger_units"))
        .alias("ledger_units"),
    )


def _write_holdings(path: Path, registrar: str, rows: pl.DataFrame, report_date: dt.date) -> None:
    layout = LAYOUT[registrar]
    frame = rows.select(
        pl.col("folio").alias(layout["folio"]),
        pl.col("amc_code").alias(layout["amc_code"]),
        pl.col("product").alias(layout["product"]),
        pl.col("scheme").alias(layout["scheme"]),
        pl.col("investor").alias(layout["investor"]),
        pl.lit(report_date.strftime(layout["date_format"])).alias(layout["report_date"]),
        (pl.col("dbf_units").cast(pl.Int64) / SCALE).cast(UNITS).alias(layout["units"]),
        (pl.col("nav").cast(pl.Int64) / SCALE).cast(pl.Decimal(12, 4)).alias(layout["nav"]),
    )
    write_dbf(path, frame, FIELDS[registrar], encoding="cp1252", updated=report_date)


def _ledger(
    rng: np.random.Generator,
    book: pl.DataFrame,
    business_date: dt.date,
    future_after: dt.date | None = None,
) -> pl.DataFrame:
    """Transactions whose signed sum up to the business date is each position's ledger units.

    :param future_after: the future BUYs (``future_transaction``) fall the day after this date
        (default: the business date), so that they stay in the future of several dates.
    """
    n = book.height
    target = book["ledger_units"].to_numpy().astype(np.int64)
    sold = np.where(rng.random(n) < 0.6, rng.integers(1, 5_000 * SCALE, n), 0)
    switched = np.where(rng.random(n) < 0.2, rng.integers(1, 2_000 * SCALE, n), 0)
    day = np.datetime64(business_date)
    keys = book.select(*KEYS)
    parts = [
        _txns(keys, np.full(n, "BUY"), target + sold, day - rng.integers(30, 900, n)),
        _txns(keys, rng.choice(list(NEGATIVE_TYPES), n), sold, day - rng.integers(1, 29, n)),
        _txns(keys, np.full(n, "SWITCH_IN"), switched, day - rng.integers(1, 29, n)),
        _txns(keys, np.full(n, "SWITCH_OUT"), switched, day - rng.integers(0, 29, n)),
    ]
    future = (book["kind"] == "future_transaction").to_numpy()
    parts.append(
        _txns(
            keys,
            np.full(n, "BUY"),
            np.where(future, rng.integers(1, 100 * SCALE, n), 0),
            np.datetime64(future_after or business_date) + 1,
        )
    )
    ledger = pl.concat(parts).filter(pl.col("units") != 0)
    order = rng.permutation(ledger.height)
    return (
        ledger[order]
        .with_columns(
            pl.format("T{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(9)).alias(
                "txn_id"
            )
        )
        .select("txn_id", *KEYS, "txn_type", "units", "txn_date")
    )


def _txns(
    keys: pl.DataFrame, types: np.ndarray, units: np.ndarray, dates: np.ndarray | np.datetime64
) -> pl.DataFrame:
    return keys.with_columns(
        pl.Series("txn_type", types.astype(str)),
        (pl.Series("units", units.astype(np.int64)) / SCALE).cast(UNITS),
        pl.Series("txn_date", np.broadcast_to(dates, (keys.height,)).astype("datetime64[D]")),
    )
