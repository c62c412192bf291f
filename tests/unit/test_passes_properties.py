"""Properties of passes on generated inputs: conservation, order independence, keyed = today."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from recon.engine.reconcile import reconcile
from recon.passes.run import run_passes
from recon.spec import ReconSpec
from recon.spec.passes import PassSpec

SPEC = PassSpec.model_validate(
    {
        "name": "p",
        "ids": {"left": "id", "right": "id"},
        "fields": {"key": {}, "amount": {"type": "number"}, "day": {"type": "date"}},
        "passes": [
            {"name": "k", "kind": "keyed", "keys": ["key"], "compare": {"amount": {"abs_tol": 0.5}}},
            {"name": "r", "kind": "rule", "amount": {"field": "amount", "abs_tol": 1},
             "date": {"field": "day", "before": 1, "after": 2}},
        ],
    }
)  # fmt: skip
ROW = st.tuples(
    st.sampled_from(["k1", "k2", "k3", "k4", "k5", "k6"]),
    st.sampled_from([1.0, 2.0, 2.5, 3.0, float("nan"), float("inf")]),
    st.sampled_from(["2026-01-01", "2026-01-02", "2026-01-04", "bad"]),
)


def frame(rows: list[tuple[str, float, str]], prefix: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(len(rows))],
            "key": [r[0] for r in rows],
            "amount": [r[1] for r in rows],
            "day": [r[2] for r in rows],
        },
        schema={"id": pl.String, "key": pl.String, "amount": pl.Float64, "day": pl.String},
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(ROW, max_size=12), st.lists(ROW, max_size=12), st.randoms())
def test_conservation_and_order_independence(
    left_rows: list[tuple[str, float, str]], right_rows: list[tuple[str, float, str]], rng: object
) -> None:
    left, right = frame(left_rows, "l"), frame(right_rows, "r")
    result = run_passes(left.lazy(), right.lazy(), SPEC)
    assert result.rows.height == left.height + right.height
    assert result.rows.select("side", "id").is_unique().all()
    seed = hash(str(left_rows)) % 1000
    again = run_passes(
        left.sample(fraction=1, shuffle=True, seed=seed).lazy(), right.reverse().lazy(), SPEC
    )
    # row numbers (and a duplicate's reason, which quotes them) are positions in the file
    assert_frame_equal(result.rows.drop("row", "reason"), again.rows.drop("row", "reason"))
    assert_frame_equal(result.matches, again.matches)
    # a rule never matches NaN or inf by slack (a keyed pass keeps today's NaN == NaN)
    matched = result.rows.filter((pl.col("status") == "matched") & (pl.col("pass") == "r"))
    assert matched["value_amount"].is_finite().all()


KEYED = PassSpec.model_validate(
    {"name": "p", "ids": {"left": "id", "right": "id"},
     "fields": {"key": {}, "amount": {}},
     "passes": [{"name": "k", "kind": "keyed", "keys": ["key"], "compare": {"amount": {"abs_tol": 0.5}}}]}
)  # fmt: skip
TODAY = ReconSpec.model_validate(
    {"name": "p", "keys": ["key"], "compare": {"amount": {"abs_tol": 0.5}}}
)


@settings(max_examples=40, deadline=None)
@given(st.lists(ROW, max_size=10), st.lists(ROW, max_size=10))
def test_keyed_only_spec_gives_todays_statuses(
    left_rows: list[tuple[str, float, str]], right_rows: list[tuple[str, float, str]]
) -> None:
    left, right = frame(left_rows, "l").drop("day"), frame(right_rows, "r").drop("day")
    today = reconcile(left.lazy(), right.lazy(), TODAY).results
    by_key = dict(zip(today["key"], today["status"], strict=True))
    rows = run_passes(left.lazy(), right.lazy(), KEYED).rows
    assert {k: s for k, s in zip(rows["value_key"], rows["status"], strict=True)} == by_key
