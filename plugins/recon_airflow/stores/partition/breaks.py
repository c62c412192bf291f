"""A partition's break rows as the Postgres store copies them: COPY-ready values.

A break is a row whose classification column is not its matched value, or without a
classification, whose status is not ``matched`` (see the package's docstring).
"""

from __future__ import annotations

import polars as pl

from recon.engine.summary import MONEY_DECIMALS
from recon.result import MATCHED
from recon_airflow.stores.partition.checks import SIDES
from recon_airflow.stores.partition.outcome import Partition, labelled_statuses


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
