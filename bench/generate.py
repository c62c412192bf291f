"""Generate a deterministic pair of files to reconcile, plus the expected status of every key.

Writes ``bench/data/{n}/left.{csv,parquet}``, ``right.{csv,parquet}``, ``truth.parquet``
(``id``, ``status``) and ``manifest.json``; a second call with the same parameters does nothing.

    python bench/generate.py 1000000
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

DATA_DIR = Path(__file__).resolve().parent / "data"
FORMAT_VERSION = 1  # bump when the generated content changes for the same parameters

# fmt: off
FIRST_NAMES = (
    "Aarav", "Aditi", "Alice", "Amit", "Ananya", "Arjun", "Bob", "Carla", "Chen", "Deepa",
    "Divya", "Elena", "Farah", "Gita", "Hana", "Ishaan", "Ivan", "Jaya", "Kabir", "Kavya", "Lena",
    "Maya", "Meera", "Nikhil", "Omar", "Priya", "Rahul", "Rani", "Rohan", "Sana", "Sara", "Tara",
    "Uma", "Varun", "Vikram", "Wei", "Yusuf", "Zara",
)
LAST_NAMES = (
    "Agarwal", "Bose", "Chopra", "Das", "Desai", "Fernandes", "Gupta", "Iyer", "Jain", "Joshi",
    "Kapoor", "Khan", "Kumar", "Mehta", "Menon", "Mishra", "Nair", "Patel", "Pillai", "Rao",
    "Reddy", "Sharma", "Shah", "Singh", "Smith", "Verma",
)
# fmt: on
STATUSES = ("matched", "mismatched", "left_only", "right_only")
CATEGORIES = (
    "equity",
    "debt",
    "liquid",
    "hybrid",
    "index",
    "gold",
    "elss",
    "overnight",
    "gilt",
    "fof",
    "arbitrage",
    "sectoral",
)


@dataclass(frozen=True)
class PairParams:
    """Everything that decides the generated content; stored in the manifest."""

    rows: int
    seed: int = 20240611
    left_only_rate: float = 0.01
    right_only_rate: float = 0.01
    mismatch_rate: float = 0.025  # of the common keys, split over amount / name / category
    within_tol_rate: float = 0.02  # of the common keys: amount differs by < abs_tol (matched)
    abs_tol: float = 0.01
    version: int = FORMAT_VERSION


@dataclass(frozen=True)
class Pair:
    """Paths of one generated pair."""

    folder: Path
    rows: int

    def left(self, fmt: str) -> Path:
        return self.folder / f"left.{fmt}"

    def right(self, fmt: str) -> Path:
        return self.folder / f"right.{fmt}"

    @property
    def truth(self) -> Path:
        return self.folder / "truth.parquet"

    @property
    def manifest(self) -> Path:
        return self.folder / "manifest.json"

    def files(self) -> list[Path]:
        return [*(p for f in ("csv", "parquet") for p in (self.left(f), self.right(f))), self.truth]


def pair_for(rows: int, data_dir: Path = DATA_DIR) -> Pair:
    return Pair(data_dir / str(rows), rows)


def ids_from_numbers(numbers: np.ndarray) -> pl.Series:
    """``TX`` + 12 zero-padded digits, built in polars (no Python loop)."""
    digits = pl.Series("id", numbers, dtype=pl.Int64).cast(pl.String).str.zfill(12)
    return pl.select(pl.lit("TX") + digits).to_series().alias("id")


def build_pair(params: PairParams) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Return (left, right, truth) frames for ``params``; same params, same bytes."""
    rng = np.random.default_rng(params.seed)
    n = params.rows
    n_left_only = round(n * params.left_only_rate)
    n_right_only = round(n * params.right_only_rate)
    n_common = n - n_left_only
    if n - n_right_only != n_common:
        raise ValueError("left_only_rate and right_only_rate must give the same count per side")
    n_keys = n_common + n_left_only + n_right_only

    # Unique 12-digit key numbers: a random permutation spread over a wide range.
    numbers = rng.permutation(n_keys).astype(np.int64) * 7919 + 100_000_000_000
    # Key slots: [0, n_common) both sides, then left-only, then right-only.
    left_slots = np.arange(0, n_common + n_left_only)
    right_slots = np.concatenate([np.arange(n_common), np.arange(n_common + n_left_only, n_keys)])

    # Left-side values for every key (right-only keys use them too, as their right values).
    amount_cents = rng.integers(100, 10_000_000, size=n_keys)
    first = rng.integers(0, len(FIRST_NAMES), size=n_keys)
    last = rng.integers(0, len(LAST_NAMES), size=n_keys)
    category = rng.integers(0, len(CATEGORIES), size=n_keys)
    left_amount = amount_cents / 100.0
    right_amount = left_amount.copy()
    right_last = last.copy()
    right_category = category.copy()

    # Among the common keys: choose mismatches (3 kinds) and within-tolerance differences.
    picks = rng.permutation(n_common)
    n_mismatch = round(n_common * params.mismatch_rate)
    n_within = round(n_common * params.within_tol_rate)
    kinds = np.array_split(picks[:n_mismatch], 3)
    amount_bad, name_bad, category_bad = kinds
    within = picks[n_mismatch : n_mismatch + n_within]

    sign = rng.choice(np.array([-1.0, 1.0]), size=n_keys)
    # Beyond tolerance: 0.02 .. 500.00 (never near the 0.01 boundary).
    beyond = rng.integers(2, 50_000, size=len(amount_bad)) / 100.0
    right_amount[amount_bad] = np.round(left_amount[amount_bad] + sign[amount_bad] * beyond, 2)
    # Within tolerance: 0.001 .. 0.006, i.e. well inside abs_tol even after float rounding.
    small = rng.integers(1, 7, size=len(within)) / 1000.0
    right_amount[within] = np.round(left_amount[within] + sign[within] * small, 3)
    right_last[name_bad] = (last[name_bad] + rng.integers(1, len(LAST_NAMES), len(name_bad))) % len(
        LAST_NAMES
    )
    right_category[category_bad] = (
        category[category_bad] + rng.integers(1, len(CATEGORIES), len(category_bad))
    ) % len(CATEGORIES)

    ids = ids_from_numbers(numbers)
    first_names = pl.Series(FIRST_NAMES, dtype=pl.String)
    last_names = pl.Series(LAST_NAMES, dtype=pl.String)
    categories = pl.Series(CATEGORIES, dtype=pl.String)

    def side(
        slots: np.ndarray, amount: np.ndarray, last_idx: np.ndarray, cat: np.ndarray
    ) -> pl.DataFrame:
        order = slots[rng.permutation(len(slots))]  # shuffled row order, per side
        names = pl.select(
            first_names.gather(first[order]) + pl.lit(" ") + last_names.gather(last_idx[order])
        ).to_series()
        return pl.DataFrame(
            {
                "id": ids.gather(order),
                "amount": amount[order],
                "name": names,
                "category": categories.gather(cat[order]),
            }
        )

    left = side(left_slots, left_amount, last, category)
    right = side(right_slots, right_amount, right_last, right_category)

    code = np.zeros(n_keys, dtype=np.uint32)  # index into STATUSES
    code[picks[:n_mismatch]] = 1
    code[n_common : n_common + n_left_only] = 2
    code[n_common + n_left_only :] = 3
    status = pl.Series("status", STATUSES, dtype=pl.String).gather(code)
    truth = pl.DataFrame({"id": ids, "status": status})
    return left, right, truth


def generate(params: PairParams, data_dir: Path = DATA_DIR, *, quiet: bool = False) -> Pair:
    """Write the pair for ``params`` unless the same parameters were written already."""
    pair = pair_for(params.rows, data_dir)
    wanted = asdict(params)
    complete = pair.manifest.exists() and all(p.exists() for p in pair.files())
    if complete and json.loads(pair.manifest.read_text()).get("params") == wanted:
        return pair
    started = time.perf_counter()
    pair.folder.mkdir(parents=True, exist_ok=True)
    pair.manifest.unlink(missing_ok=True)  # a half-written pair must never look complete
    left, right, truth = build_pair(params)
    for name, frame in (("left", left), ("right", right)):
        frame.write_parquet(pair.folder / f"{name}.parquet")
        frame.write_csv(pair.folder / f"{name}.csv")
    truth.write_parquet(pair.truth)
    counts = dict(truth.group_by("status").len().sort("status").iter_rows())
    pair.manifest.write_text(json.dumps({"params": wanted, "counts": counts}, indent=2) + "\n")
    if not quiet:
        took = time.perf_counter() - started
        print(f"generated {params.rows:,} rows per side in {pair.folder} in {took:.1f} s: {counts}")
    return pair


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="+", help="rows per side")
    parser.add_argument("--seed", type=int, default=PairParams.seed)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    for rows in args.rows:
        generate(PairParams(rows=rows, seed=args.seed), args.data_dir)


if __name__ == "__main__":
    main()
