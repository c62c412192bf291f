"""The peers recon is measured against: each classifies every key of a pair and writes (id, status).

Each peer reads the two files itself (CSV or Parquet, by extension), compares ``amount`` with
``|l - r| <= 0.01`` and ``name``/``category`` exactly, and writes ``OUT`` as Parquet with
columns ``id`` and ``status`` in {matched, mismatched, left_only, right_only}.

    python bench/peers.py duckdb --left L --right R --out O

Imports are local to each peer: the datacompy peer runs in its own environment
(``bench/.venv-datacompy``, polars < 2) that has neither duckdb nor the project installed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

KEY = "id"
ABS_TOL = 0.01
STRING_FIELDS = ("name", "category")
CSV_TYPES = {"id": "VARCHAR", "amount": "DOUBLE", "name": "VARCHAR", "category": "VARCHAR"}


# the same comparison for both datacompy paths: join on id, amount within the tolerance
DATACOMPY_ARGS = {
    "join_columns": KEY,
    "abs_tol": {"amount": ABS_TOL},
    "df1_name": "left",
    "df2_name": "right",
}


def is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


def duckdb_source(path: Path) -> str:
    if is_csv(path):
        types = ", ".join(f"'{k}': '{v}'" for k, v in CSV_TYPES.items())
        return f"read_csv('{path}', header = true, columns = {{{types}}})"
    return f"read_parquet('{path}')"


def run_duckdb(left: Path, right: Path, out: Path, *, full: bool = False) -> None:
    """FULL OUTER JOIN + CASE in SQL, streamed by DuckDB straight into a Parquet file.

    ``full``: also write what recon's results.parquet holds for every key (both sides' values,
    the amount difference, the differing fields), so the two do the same work.
    """
    import duckdb

    source = duckdb_source
    differs = " OR ".join(f"l.{f} IS DISTINCT FROM r.{f}" for f in STRING_FIELDS)
    amount_differs = f"NOT coalesce(abs(l.amount - r.amount) <= {ABS_TOL}, false)"
    values = (
        f""",
               l.amount AS left_amount, r.amount AS right_amount,
               l.amount - r.amount AS diff_amount,
               l.name AS left_name, r.name AS right_name,
               l.category AS left_category, r.category AS right_category,
               list_filter([CASE WHEN {amount_differs} THEN 'amount' END,
                            CASE WHEN l.name IS DISTINCT FROM r.name THEN 'name' END,
                            CASE WHEN l.category IS DISTINCT FROM r.category THEN 'category' END],
                           lambda x: x IS NOT NULL) AS mismatched_fields"""
        if full
        else ""
    )
    query = f"""
        SELECT coalesce(l.id, r.id) AS id{values},
               CASE
                 WHEN r.id IS NULL THEN 'left_only'
                 WHEN l.id IS NULL THEN 'right_only'
                 WHEN NOT coalesce(abs(l.amount - r.amount) <= {ABS_TOL},
                                   l.amount IS NULL AND r.amount IS NULL)
                      OR {differs} THEN 'mismatched'
                 ELSE 'matched'
               END AS status
        FROM {source(left)} AS l
        FULL OUTER JOIN {source(right)} AS r ON l.id = r.id
    """
    with duckdb.connect() as con:
        con.execute(f"COPY ({query}) TO '{out}' (FORMAT parquet)")


def run_polars(left: Path, right: Path, out: Path) -> None:
    """A plain lazy full join + when/then, sunk to Parquet (what a polars user writes first)."""
    import polars as pl

    def scan(path: Path) -> pl.LazyFrame:
        if is_csv(path):
            schema = {"id": pl.String, "amount": pl.Float64, "name": pl.String}
            return pl.scan_csv(path, schema={**schema, "category": pl.String})
        return pl.scan_parquet(path)

    joined = scan(left).join(scan(right), on=KEY, how="full", coalesce=False, suffix="_r")
    amount_ok = (pl.col("amount") - pl.col("amount_r")).abs() <= ABS_TOL
    amount_ok = amount_ok.fill_null(pl.col("amount").is_null() & pl.col("amount_r").is_null())
    strings_ok = pl.all_horizontal(pl.col(f).eq_missing(pl.col(f"{f}_r")) for f in STRING_FIELDS)
    status = (
        pl.when(pl.col("id_r").is_null())
        .then(pl.lit("left_only"))
        .when(pl.col("id").is_null())
        .then(pl.lit("right_only"))
        .when(amount_ok & strings_ok)
        .then(pl.lit("matched"))
        .otherwise(pl.lit("mismatched"))
    )
    joined.select(pl.coalesce("id", "id_r").alias(KEY), status.alias("status")).sink_parquet(out)


def run_pandas(left: Path, right: Path, out: Path) -> None:
    """read + ``merge(how='outer', indicator=True)`` + ``np.select``, the classic pandas way."""
    import numpy as np
    import pandas as pd

    def read(path: Path) -> pd.DataFrame:
        if is_csv(path):
            return pd.read_csv(path, dtype={"id": str, "amount": "float64", "name": str})
        return pd.read_parquet(path)

    merged = read(left).merge(read(right), on=KEY, how="outer", suffixes=("", "_r"), indicator=True)
    amount_ok = (merged["amount"] - merged["amount_r"]).abs() <= ABS_TOL
    strings_ok = np.logical_and.reduce([merged[f] == merged[f"{f}_r"] for f in STRING_FIELDS])
    status = np.select(
        [merged["_merge"] == "left_only", merged["_merge"] == "right_only", amount_ok & strings_ok],
        ["left_only", "right_only", "matched"],
        default="mismatched",
    )
    pd.DataFrame({KEY: merged[KEY], "status": status}).to_parquet(out, index=False)


def run_datacompy(left: Path, right: Path, out: Path) -> None:
    """datacompy's ``PolarsCompare`` (its fastest path here), statuses from its row sets.

    Left-/right-only keys come from ``df1_unq_rows``/``df2_unq_rows``; a common key is
    mismatched when any of its ``<column>_match`` flags in ``intersect_rows`` is false (the
    same test ``all_mismatch()`` applies, without recomputing every comparison).
    """
    import polars as pl
    from datacompy import PolarsCompare

    def read(path: Path) -> pl.DataFrame:
        if is_csv(path):
            schema = {"id": pl.String, "amount": pl.Float64, "name": pl.String}
            return pl.read_csv(path, schema={**schema, "category": pl.String})
        return pl.read_parquet(path)

    compare = PolarsCompare(
        read(left),
        read(right),
        **DATACOMPY_ARGS,
    )
    flags = [f"{c}_match" for c in ("amount", *STRING_FIELDS)]
    status = (
        pl.when(pl.all_horizontal(flags)).then(pl.lit("matched")).otherwise(pl.lit("mismatched"))
    )
    pl.concat(
        [
            compare.intersect_rows.select(KEY, status.alias("status")),
            compare.df1_unq_rows.select(KEY, status=pl.lit("left_only")),
            compare.df2_unq_rows.select(KEY, status=pl.lit("right_only")),
        ]
    ).write_parquet(out)


def run_datacompy_pandas(left: Path, right: Path, out: Path) -> None:
    """datacompy's ``PandasCompare`` (its original pandas path), for comparison with the polars path."""
    import pandas as pd
    from datacompy import PandasCompare

    def read(path: Path) -> pd.DataFrame:
        if is_csv(path):
            return pd.read_csv(path, dtype={"id": str, "amount": "float64", "name": str})
        return pd.read_parquet(path)

    compare = PandasCompare(
        read(left),
        read(right),
        **DATACOMPY_ARGS,
    )
    flags = [f"{c}_match" for c in ("amount", *STRING_FIELDS)]
    rows = compare.intersect_rows
    common = pd.DataFrame(
        {
            KEY: rows[KEY],
            "status": rows[flags].all(axis=1).map({True: "matched", False: "mismatched"}),
        }
    )
    pd.concat(
        [
            common,
            pd.DataFrame({KEY: compare.df1_unq_rows[KEY], "status": "left_only"}),
            pd.DataFrame({KEY: compare.df2_unq_rows[KEY], "status": "right_only"}),
        ],
        ignore_index=True,
    ).to_parquet(out, index=False)


def run_duckdb_full(left: Path, right: Path, out: Path) -> None:
    """DuckDB writing the same per-key values as recon's results.parquet (equal work)."""
    run_duckdb(left, right, out, full=True)


PEERS: dict[str, Callable[[Path, Path, Path], None]] = {
    "duckdb": run_duckdb,
    "duckdb_full": run_duckdb_full,
    "polars": run_polars,
    "pandas": run_pandas,
    "datacompy": run_datacompy,
    "datacompy_pandas": run_datacompy_pandas,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", choices=sorted(PEERS))
    parser.add_argument("--left", type=Path, required=True)
    parser.add_argument("--right", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    PEERS[args.peer](args.left, args.right, args.out)


if __name__ == "__main__":
    main()
