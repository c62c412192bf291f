"""The keyed pass keeps a keyed recon's semantics, on the rows earlier passes left open."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from recon.engine.reconcile import reconcile
from recon.passes.run import run_passes
from recon.spec import ReconSpec
from recon.spec.passes import PassSpec

LEFT = pl.LazyFrame(
    {
        "id": ["L1", "L2", "L3", "L4", "L5", "L6"],
        "folio": ["f1", "f2", "f3", "f3", "f5", "f6"],
        "units": ["10.0", "20.0", "30", "31", "5", "7"],
        "status": ["ok", "ok", "ok", "ok", "OK", "ok"],
    }
)
RIGHT = pl.LazyFrame(
    {
        "rid": ["R1", "R2", "R3", "R5", "R7"],
        "folio": ["F1 ", "f2", "f3", "f5", "f7"],
        "units": ["10.0005", "20.5", "30", "5", "1"],
        "status": ["ok", "ok", "ok", "ok", "ok"],
    }
)
COMPARE: dict[str, Any] = {"units": {"abs_tol": 0.001}, "status": {"case": "insensitive"}}
NORMALIZE = {"folio": ["strip", "lower"]}


def keyed_spec() -> PassSpec:
    return PassSpec.model_validate(
        {
            "name": "holdings",
            "left": {"label": "dbf"},
            "right": {"label": "mongo"},
            "ids": {"left": "id", "right": "rid"},
            "fields": {"folio": {}, "units": {}, "status": {}},
            "normalize": NORMALIZE,
            "passes": [
                {"name": "by_folio", "kind": "keyed", "keys": ["folio"], "compare": COMPARE}
            ],
        }
    )


def statuses(rows: pl.DataFrame) -> dict[str, str]:
    return dict(zip(rows["id"], rows["status"], strict=True))


def test_keyed_pass_outcomes() -> None:
    result = run_passes(LEFT, RIGHT, keyed_spec())
    assert statuses(result.rows) == {
        "L1": "matched",
        "R1": "matched",
        "L2": "mismatched",
        "R2": "mismatched",
        "L3": "duplicate",
        "L4": "duplicate",
        "R3": "duplicate",  # the other side's row of a repeated key joins the duplicate
        "L5": "matched",
        "R5": "matched",
        "L6": "left_only",
        "R7": "right_only",
    }
    rows = result.rows.filter(pl.col("id") == "L2")
    assert rows["mismatched_fields"].to_list() == [["units"]]
    dup = result.rows.filter(pl.col("id") == "R3")
    assert dup["candidates"].to_list() == [["L3", "L4"]]
    assert dup["reason"][0] == "key appears 2 times in dbf (rows 3, 4) and once in mongo (row 3)"
    mismatch = result.matches.filter(pl.col("status") == "mismatched")
    assert mismatch["score"].to_list() == [0.5]  # one of two compared fields agrees
    assert set(result.matches["state"]) == {"confirmed"}  # keyed passes confirm by default


def test_same_per_key_statuses_as_a_keyed_recon() -> None:
    recon = ReconSpec.model_validate(
        {
            "name": "holdings",
            "left": {"label": "dbf"},
            "right": {"label": "mongo"},
            "keys": ["folio"],
            "normalize": NORMALIZE,
            "compare": COMPARE,
        }
    )
    today = reconcile(LEFT, RIGHT, recon).results
    by_key = dict(zip(today["folio"], today["status"], strict=True))
    rows = run_passes(LEFT, RIGHT, keyed_spec()).rows
    per_key = dict(zip(rows["value_folio"], rows["status"], strict=True))
    assert per_key == by_key


def test_key_field_read_from_other_columns_and_not_normalised() -> None:
    spec = PassSpec.model_validate(
        {
            "name": "k",
            "ids": {"left": "id", "right": "rid"},
            "fields": {"account": {"left": "folio", "right": "folio"}},
            "passes": [{"name": "k", "kind": "keyed", "keys": ["account"]}],
        }
    )
    rows = run_passes(LEFT, RIGHT, spec).rows
    assert statuses(rows)["L2"] == "matched"
    assert statuses(rows)["L1"] == "left_only"  # "F1 " is not normalised here


@pytest.mark.parametrize("blank", ["", "  ", None], ids=["empty", "spaces", "null"])
def test_a_row_with_no_key_stays_open(blank: str | None) -> None:
    left = pl.LazyFrame(
        {"id": ["a", "b"], "k": ["k1", blank]}, schema={"id": pl.String, "k": pl.String}
    )
    right = pl.LazyFrame(
        {"id": ["x", "y"], "k": ["k1", blank]}, schema={"id": pl.String, "k": pl.String}
    )
    spec = PassSpec.model_validate(
        {
            "name": "k",
            "ids": {"left": "id", "right": "id"},
            "fields": {"k": {}},
            "passes": [{"name": "k", "kind": "keyed", "keys": ["k"]}],
        }
    )
    assert statuses(run_passes(left, right, spec).rows) == {
        "a": "matched",
        "x": "matched",
        "b": "left_only",
        "y": "right_only",
    }
