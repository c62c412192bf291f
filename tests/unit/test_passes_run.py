"""run_passes end to end: passes in order on what is left, one status per row, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from recon.cli import EXIT_BAD_INPUT, EXIT_OK, main
from recon.errors import InputFileError, ReconError, SchemaError
from recon.passes.run import run_passes, runner_for
from recon.spec.passes import PassSpec

SPEC = {
    "name": "cash",
    "left": {"label": "ledger"},
    "right": {"label": "bank"},
    "ids": {"left": "entry_id", "right": "line_id"},
    "fields": {
        "amount": {"type": "number"},
        "date": {"left": "value_date", "right": "booking_date", "type": "date"},
        "ref": {"left": "reference", "right": "description"},
    },
    "normalize": {"ref": ["strip", "upper"]},
    "passes": [
        {
            "name": "exact",
            "kind": "keyed",
            "keys": ["ref"],
            "compare": {"amount": {"abs_tol": 0.01}},
        },
        {
            "name": "same_day",
            "kind": "rule",
            "amount": {"field": "amount"},
            "date": {"field": "date"},
            "confirm": True,
        },
        {
            "name": "by_text",
            "kind": "rule",
            "amount": {"field": "amount", "abs_tol": 1},
            "date": {"field": "date", "after": 3},
            "reference": {"field": "ref", "method": "contains"},
        },
    ],
}
LEFT = pl.LazyFrame(
    {
        "entry_id": [1, 2, 3, 4, 5, 6, 7],
        "amount": ["10.00", "20.00", "30", "40", "50", "50", "x"],
        "value_date": ["2026-01-05"] * 7,
        "reference": ["INV-1", "INV-2", "INV-3", "inv-4", "A-5", "A-6", "INV-7"],
    }
)
RIGHT = pl.LazyFrame(
    {
        "line_id": ["a", "b", "c", "d", "e", "f", "g"],
        "amount": ["10.00", "20.00", "30.50", "41", "50", "50", "99"],
        "booking_date": [
            "2026-01-05",
            "2026-01-05",
            "2026-01-07",
            "2026-01-09",
            "2026-01-05",
            "2026-01-05",
            "2026-01-05",
        ],
        "description": ["INV-1", "wire", "pay INV-3", "INV-4", "x", "y", "z"],
    }
)
EXPECTED = {
    ("left", "1"): ("matched", "exact"),
    ("right", "a"): ("matched", "exact"),
    ("left", "2"): ("matched", "same_day"),
    ("right", "b"): ("matched", "same_day"),
    ("left", "3"): ("matched", "by_text"),
    ("right", "c"): ("matched", "by_text"),
    ("left", "4"): ("mismatched", "exact"),  # keyed by ref, amount differs: leaves the open set
    ("right", "d"): ("mismatched", "exact"),
    ("left", "5"): ("ambiguous", "same_day"),  # two deposits of 50 the same day
    ("left", "6"): ("ambiguous", "same_day"),
    ("right", "e"): ("ambiguous", "same_day"),
    ("right", "f"): ("ambiguous", "same_day"),
    ("left", "7"): ("invalid", None),
    ("right", "g"): ("right_only", None),
}


def spec() -> PassSpec:
    return PassSpec.model_validate(SPEC)


def outcome(rows: pl.DataFrame) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {(s, i): (st, p) for s, i, st, p in rows.select("side", "id", "status", "pass").rows()}


def test_every_outcome_and_each_pass_sees_only_what_is_left() -> None:
    result = run_passes(LEFT, RIGHT, spec())
    assert outcome(result.rows) == EXPECTED
    summary = result.summary
    assert [p["rows_in"] for p in summary["passes"]] == [
        {"left": 6, "right": 7},
        {"left": 4, "right": 5},  # the keyed pass took 1/a and 4/d
        {"left": 3, "right": 4},  # the ambiguous rows stay open for later passes
    ]
    assert summary["passes"][1]["ambiguous"] == {"left": 2, "right": 2}
    assert summary["passes"][0]["auto_match_rate"] == pytest.approx(2 / 13)
    assert summary["row_conservation"]["ok"] is True
    assert summary["counts"]["left"]["ambiguous"] == 2
    json.loads(json.dumps(summary, allow_nan=False))  # strict JSON
    states = dict(zip(result.matches["pass"], result.matches["state"], strict=True))
    assert states == {"exact": "confirmed", "same_day": "confirmed", "by_text": "suggested"}
    ambiguous = result.rows.filter(pl.col("id") == "5")
    assert ambiguous["candidates"].to_list() == [["e", "f"]]
    match = result.matches.filter(pl.col("pass") == "by_text")
    assert match.select("left_amount", "right_amount", "difference").row(0) == (30.0, 30.5, -0.5)


def test_an_ambiguous_row_matched_by_a_later_pass_is_matched() -> None:
    data = {**SPEC, "passes": [
        {"name": "amount_only", "kind": "rule", "amount": {"field": "amount"}},
        {"name": "with_ref", "kind": "rule", "amount": {"field": "amount"},
         "reference": {"field": "ref", "method": "equal"}},
    ]}  # fmt: skip
    left = pl.LazyFrame(
        {
            "entry_id": ["l1", "l2"],
            "amount": [5.0, 5.0],
            "value_date": ["2026-01-01"] * 2,
            "reference": ["R1", "R2"],
        }
    )
    right = pl.LazyFrame(
        {
            "line_id": ["b1", "b2"],
            "amount": [5.0, 5.0],
            "booking_date": ["2026-01-01"] * 2,
            "description": ["R2", "R1"],
        }
    )
    rows = run_passes(left, right, PassSpec.model_validate(data)).rows
    assert set(rows["status"]) == {"matched"}
    assert set(rows["pass"]) == {"with_ref"}
    pairs = rows.group_by("match_id").agg(pl.col("id").sort()).get_column("id").to_list()
    assert sorted(pairs) == [["b1", "l2"], ["b2", "l1"]]


def test_results_do_not_depend_on_row_order() -> None:
    first = run_passes(LEFT, RIGHT, spec())
    shuffled = run_passes(
        LEFT.collect().sample(fraction=1, shuffle=True, seed=3).lazy(),
        RIGHT.collect().reverse().lazy(),
        spec(),
    )
    assert_frame_equal(first.rows.drop("row"), shuffled.rows.drop("row"))
    assert_frame_equal(first.matches, shuffled.matches)


@pytest.mark.parametrize(
    ("ids", "words"),
    [([1, None, 3], "no id in row 2"), ([1, 2, 1], "id '1' repeats in rows 1, 3")],
    ids=["null", "duplicate"],
)
def test_ids_must_be_present_and_unique(ids: list[int | None], words: str) -> None:
    left = LEFT.head(3).with_columns(pl.Series("entry_id", ids, dtype=pl.Int64))
    with pytest.raises(InputFileError, match=words):
        run_passes(left, RIGHT, spec(), sources=("ledger.csv", "bank.csv"))


def test_every_missing_column_reported_at_once() -> None:
    left = LEFT.rename({"reference": "referense", "amount": "amt"})
    with pytest.raises(SchemaError) as info:
        run_passes(left, RIGHT.drop("line_id"), spec())
    text = str(info.value)
    assert "3 problems" in text
    assert "did you mean `referense`?" in text
    assert "no column `line_id` (ids)" in text


def test_a_kind_with_no_runner_is_a_clear_error() -> None:
    with pytest.raises(ReconError, match="no runner for `nope` passes"):
        runner_for("nope")


def test_cli_end_to_end_on_csv(tmp_path: Path) -> None:
    import yaml

    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(SPEC))
    LEFT.collect().write_csv(tmp_path / "ledger.csv")
    RIGHT.collect().write_csv(tmp_path / "bank.csv")
    out = tmp_path / "out"
    args = ["compare", "--spec", str(tmp_path / "spec.yaml"), "--left", str(tmp_path / "ledger.csv"),
            "--right", str(tmp_path / "bank.csv"), "--out", str(out)]  # fmt: skip
    assert main(args) == EXIT_OK
    assert sorted(p.name for p in out.iterdir()) == [
        "breaks.csv",
        "matches.parquet",
        "report.html",
        "report.json",
        "report.xlsx",
        "results.parquet",
        "summary.json",
    ]
    rows = pl.read_parquet(out / "results.parquet")
    assert outcome(rows) == EXPECTED
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs"]["left"]["format"] == "csv"
    assert pl.read_parquet(out / "matches.parquet").height == 4
    assert main([*args, "--reports", "pdf"]) == EXIT_BAD_INPUT
    assert main(["validate", str(tmp_path / "spec.yaml")]) == EXIT_OK


def test_a_failed_run_leaves_the_earlier_outputs(tmp_path: Path) -> None:
    from recon.passes.output import reconcile_passes_to_dir

    out = tmp_path / "out"
    reconcile_passes_to_dir(LEFT, RIGHT, spec(), out)
    before = (out / "summary.json").read_text()
    with pytest.raises(SchemaError):
        reconcile_passes_to_dir(LEFT.drop("amount"), RIGHT, spec(), out)
    assert (out / "summary.json").read_text() == before
