"""Results never depend on the key hash: force collisions and compare with an honest hash."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from recon.engine import prepare
from recon.engine.reconcile import reconcile
from recon.spec import spec_from_dict

SPEC = spec_from_dict({"name": "h", "keys": ["id", "n"], "compare": {"amount": {"abs_tol": 0.01}}})
LEFT = pl.LazyFrame(
    {
        "id": ["a", "bb", "cc", "dd", "dd", "e", "ff", "g"],
        "n": [1, 1, 1, 1, 1, 2, 2, 3],
        "amount": [1.0, 2.0, 3.0, 4.0, 4.0, 5.0, 6.0, 7.0],
    }
)
RIGHT = pl.LazyFrame(
    {
        "id": ["a", "bb", "xx", "dd", "e", "yy", "g", "g"],
        "n": [1, 1, 1, 1, 2, 2, 3, 9],
        "amount": [1.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
    }
)


def weak_hash(keys: Sequence[pl.Expr]) -> pl.Expr:
    """Collides on purpose: keys of equal length hash equal."""
    return keys[0].str.len_bytes().cast(pl.UInt64)


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("id", "n", "status")


@pytest.fixture
def honest() -> pl.DataFrame:
    return canonical(reconcile(LEFT, RIGHT, SPEC).results)


def test_colliding_hashes_give_the_same_results(
    monkeypatch: pytest.MonkeyPatch, honest: pl.DataFrame
) -> None:
    monkeypatch.setattr(prepare, "key_hash", weak_hash)
    weak = canonical(reconcile(LEFT, RIGHT, SPEC).results)
    assert_frame_equal(weak, honest)
    got = {(r["id"], r["n"]): r["status"] for r in honest.iter_rows(named=True)}
    assert got == {
        ("a", 1): "matched",
        ("bb", 1): "mismatched",
        ("cc", 1): "left_only",
        ("xx", 1): "right_only",
        ("dd", 1): "duplicate",
        ("e", 2): "matched",
        ("ff", 2): "left_only",
        ("yy", 2): "right_only",
        ("g", 3): "matched",
        ("g", 9): "right_only",
    }


def test_hash_collisions_within_one_side_are_not_duplicates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(prepare, "key_hash", lambda keys: pl.lit(7, pl.UInt64))
    out = reconcile(LEFT, RIGHT, SPEC)
    assert out.summary["counts"]["duplicate"] == 1  # only ("dd", 1), whatever the hash says
    assert out.summary["row_conservation"]["ok"]
