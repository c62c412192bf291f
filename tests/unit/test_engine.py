"""Every rule and status of the core on tiny literal frames."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from recon.engine.reconcile import reconcile
from recon.engine.summary import row_conservation
from recon.errors import RowConservationError, SchemaError
from recon.result import STATUSES
from recon.spec import spec_from_dict


def run(
    left_rows: dict[str, list[Any]], right_rows: dict[str, list[Any]], **spec: Any
) -> pl.DataFrame:
    return result(left_rows, right_rows, **spec)[0]


def result(
    left_rows: dict[str, list[Any]] | pl.DataFrame,
    right_rows: dict[str, list[Any]] | pl.DataFrame,
    **spec: Any,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Reconcile two literal frames; ``spec`` holds the spec's settings (name/keys defaulted)."""
    spec.setdefault("name", "t")
    spec.setdefault("keys", ["id"])
    left, right = pl.DataFrame(left_rows).lazy(), pl.DataFrame(right_rows).lazy()
    out = reconcile(left, right, spec_from_dict(spec))
    return out.results, out.summary


def statuses(results: pl.DataFrame, key: str = "id") -> dict[Any, str]:
    frame = results.filter(pl.col("status") != "invalid")
    return dict(zip(frame[key].to_list(), frame["status"].to_list(), strict=True))


# -- statuses ---------------------------------------------------------------------------


def test_matched_mismatched_left_only_right_only() -> None:
    out = run(
        {"id": ["a", "b", "c"], "amount": [1.0, 2.0, 3.0]},
        {"id": ["a", "b", "d"], "amount": [1.0, 2.5, 4.0]},
        compare={"amount": {"abs_tol": 0.01}},
    )
    assert statuses(out) == {"a": "matched", "b": "mismatched", "c": "left_only", "d": "right_only"}
    b = out.filter(pl.col("id") == "b").row(0, named=True)
    assert b["mismatched_fields"] == ["amount"]
    assert (b["left_amount"], b["right_amount"], b["diff_amount"]) == (2.0, 2.5, -0.5)
    assert b["break_amount"] == 0.5
    c = out.filter(pl.col("id") == "c").row(0, named=True)
    assert (c["left_rows"], c["right_rows"], c["right_amount"], c["break_amount"]) == (
        1,
        0,
        None,
        3.0,
    )


def test_result_columns_follow_the_contract() -> None:
    out = run(
        {"id": ["a"], "amount": [1.0], "ccy": ["USD"]},
        {"id": ["a"], "amount": [1.0], "ccy": ["USD"]},
        compare={"amount": {"abs_tol": 0.01}, "ccy": {}},
    )
    assert out.columns == [
        "id", "status", "mismatched_fields", "left_amount", "right_amount", "diff_amount",
        "left_ccy", "right_ccy", "left_rows", "right_rows", "side", "row", "reason",
        "break_amount",
    ]  # fmt: skip
    assert out.schema["mismatched_fields"] == pl.List(pl.String)


# -- tolerances and comparison rules ----------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "rule", "expected"),
    [
        pytest.param(100.0, 100.01, {"abs_tol": 0.01}, "matched", id="abs-at-boundary"),
        pytest.param(100.0, 100.011, {"abs_tol": 0.01}, "mismatched", id="abs-past-boundary"),
        pytest.param(100.1, 100.0, {"abs_tol": 0.1}, "matched", id="abs-float-noise"),
        pytest.param(0.3, 0.1 + 0.2, {}, "matched", id="exact-float-noise"),
        pytest.param(101.0, 100.0, {"rel_tol": 0.01}, "matched", id="rel-at-boundary"),
        pytest.param(101.5, 100.0, {"rel_tol": 0.01}, "mismatched", id="rel-past-boundary"),
        pytest.param(102.0, 100.0, {"abs_tol": 1, "rel_tol": 0.01}, "matched", id="abs-plus-rel"),
        pytest.param(1e9 + 0.02, 1e9, {"abs_tol": 0.01}, "mismatched", id="big-amount-cent"),
    ],
)
def test_numeric_tolerance(
    left: float, right: float, rule: dict[str, float], expected: str
) -> None:
    out = run(
        {"id": ["a"], "amount": [left]},
        {"id": ["a"], "amount": [right]},
        compare={"amount": {"type": "number", **rule}},
    )
    assert statuses(out) == {"a": expected}


def test_decimals_compare_exactly() -> None:
    left = pl.DataFrame({"id": ["a", "b"], "units": [Decimal("1.0001"), Decimal("2.5")]})
    right = pl.DataFrame({"id": ["a", "b"], "units": [Decimal("1.0002"), Decimal("2.50")]})
    left = left.cast({"units": pl.Decimal(18, 4)})
    right = right.cast({"units": pl.Decimal(18, 4)})
    out, _ = result(left, right, compare={"units": {}})
    assert statuses(out) == {"a": "mismatched", "b": "matched"}
    assert out.schema["diff_units"] == pl.Decimal(38, 4)
    assert out.filter(pl.col("id") == "a")["diff_units"].item() == Decimal("-0.0001")


def test_case_insensitive_and_sensitive_strings() -> None:
    out = run(
        {"id": ["a", "b"], "s": ["Paid", "Paid"], "t": ["X", "x"]},
        {"id": ["a", "b"], "s": ["PAID", "FAILED"], "t": ["X", "X"]},
        compare={"s": {"case": "insensitive"}, "t": {}},
    )
    assert statuses(out) == {"a": "matched", "b": "mismatched"}
    assert out.filter(pl.col("id") == "b")["mismatched_fields"].item().to_list() == ["s", "t"]


def test_date_window() -> None:
    d = dt.date(2026, 11, 20)
    out = run(
        {"id": ["a", "b", "c"], "d": [d, d, d]},
        {"id": ["a", "b", "c"], "d": [d, d + dt.timedelta(days=1), d - dt.timedelta(days=2)]},
        compare={"d": {"window_days": 1}},
    )
    assert statuses(out) == {"a": "matched", "b": "matched", "c": "mismatched"}
    assert out.sort("id")["diff_d"].to_list() == [0, -1, 2]


def test_dates_parsed_with_several_formats_on_one_side() -> None:
    out = run(
        {"id": ["a", "b", "c"], "d": ["20/11/2026", "2026-11-21", "22/11/2026"]},
        {
            "id": ["a", "b", "c"],
            "d": [dt.date(2026, 11, 20), dt.date(2026, 11, 21), dt.date(2026, 11, 21)],
        },
        normalize={"d": {"date_formats": ["%d/%m/%Y", "%Y-%m-%d"]}},
        compare={"d": {}},
    )
    assert statuses(out) == {"a": "matched", "b": "matched", "c": "mismatched"}


def test_null_equals_null_by_default_and_can_be_turned_off() -> None:
    left = {"id": ["a", "b"], "s": [None, None]}
    right = {"id": ["a", "b"], "s": [None, "x"]}
    assert statuses(run(left, right, compare={"s": {}})) == {"a": "matched", "b": "mismatched"}
    strict = run(left, right, compare={"s": {"null_equals_null": False}})
    assert statuses(strict) == {"a": "mismatched", "b": "mismatched"}


# -- normalisation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt", "value"),
    [
        pytest.param("1,234.50", {}, 1234.5, id="thousands"),
        pytest.param("(1,234.50)", {}, -1234.5, id="parens-negative"),
        pytest.param(" -7 ", {}, -7.0, id="signed-spaces"),
        pytest.param("1.234,50", {"thousands": ".", "decimal": ","}, 1234.5, id="decimal-comma"),
        pytest.param("$ 1,000", {"strip": "$"}, 1000.0, id="currency-symbol"),
        pytest.param("(₹ 12)", {"strip": "₹"}, -12.0, id="symbol-inside-parens"),
    ],
)
def test_number_parsing(text: str, fmt: dict[str, Any], value: float) -> None:
    out = run(
        {"id": ["a"], "amount": [text]},
        {"id": ["a"], "amount": [value]},
        normalize={"amount": [{"number": fmt}]},
        compare={"amount": {}},
    )
    assert statuses(out) == {"a": "matched"}
    assert out["left_amount"].item() == value


def test_text_rules_apply_to_keys_and_fields_on_both_sides() -> None:
    out = run(
        {"id": [" ab-1 ", "cd  2"], "name": ["  Jane   DOE ", "x"]},
        {"id": ["AB-1", "CD 2"], "name": ["jane doe", "X"]},
        normalize={
            "id": ["strip", "upper", "collapse_spaces"],
            "name": ["collapse_spaces", "lower"],
        },
        compare={"name": {}},
    )
    assert statuses(out) == {"AB-1": "matched", "CD 2": "matched"}


# -- keys ---------------------------------------------------------------------------------


def test_composite_keys_with_different_names_per_side() -> None:
    out = run(
        {
            "FOLIO_NO": ["1/1", "1/1", "2/1"],
            "PRODCODE": ["A", "B", "A"],
            "CLOS_BAL": [1.0, 2.0, 3.0],
        },
        {"folio": ["1/1", "1/1", "2/1"], "product": ["A", "B", "B"], "units": [1.0, 2.5, 3.0]},
        keys=[
            {"left": "FOLIO_NO", "right": "folio", "name": "folio_no"},
            {"left": "PRODCODE", "right": "product", "name": "product_code"},
        ],
        compare={"units": {"left": "CLOS_BAL", "right": "units", "abs_tol": 0.001}},
    )
    got = {(r["folio_no"], r["product_code"]): r["status"] for r in out.iter_rows(named=True)}
    assert got == {
        ("1/1", "A"): "matched",
        ("1/1", "B"): "mismatched",
        ("2/1", "A"): "left_only",
        ("2/1", "B"): "right_only",
    }
    assert out.columns[:2] == ["folio_no", "product_code"]


def test_key_types_that_differ_are_compared_as_text() -> None:
    out = run({"id": [1, 2]}, {"id": ["1", "3"]})
    assert statuses(out) == {"1": "matched", "2": "left_only", "3": "right_only"}


# -- duplicates and invalid rows ----------------------------------------------------------


def test_duplicates_are_reported_never_joined_many_to_many() -> None:
    out = run(
        {"id": ["a", "a", "a", "b", "c"], "v": [1, 1, 1, 2, 3]},
        {"id": ["a", "a", "b", "b", "c"], "v": [1, 1, 2, 2, 3]},
        compare={"v": {}},
    )
    assert out.height == 3  # one row per key: a, b duplicated; c matched
    assert statuses(out) == {"a": "duplicate", "b": "duplicate", "c": "matched"}
    a = out.filter(pl.col("id") == "a").row(0, named=True)
    assert (a["left_rows"], a["right_rows"], a["side"], a["row"]) == (3, 2, "both", 1)
    assert (
        a["reason"] == "key appears 3 times in left (rows 1, 2, 3) and 2 times in right (rows 1, 2)"
    )
    b = out.filter(pl.col("id") == "b").row(0, named=True)
    assert (b["left_rows"], b["right_rows"], b["side"]) == (1, 2, "right")
    assert b["reason"] == "key appears once in left (row 4) and 2 times in right (rows 3, 4)"


def test_duplicate_on_one_side_takes_the_other_sides_row_along() -> None:
    out = run({"id": ["a", "a"]}, {"id": ["a", "z"]})
    assert statuses(out) == {"a": "duplicate", "z": "right_only"}
    a = out.filter(pl.col("id") == "a").row(0, named=True)
    assert (a["left_rows"], a["right_rows"], a["side"]) == (2, 1, "left")


def test_invalid_rows_carry_row_column_and_reason() -> None:
    out = run(
        {"id": ["a", None, "c", "", "e"], "amount": ["1", "2", "abc", "4", ""]},
        {"id": ["a", "b"], "amount": [1.0, 2.0]},
        compare={"amount": {"abs_tol": 0.01}},
    )
    invalid = out.filter(pl.col("status") == "invalid").sort("row")
    assert invalid.select("side", "row", "reason").rows() == [
        ("left", 2, "key `id` is empty"),
        ("left", 3, "column `amount`: cannot parse 'abc' as a number"),
        ("left", 4, "key `id` is empty"),
    ]
    assert invalid["id"].to_list() == [None, "c", ""]
    # a blank amount is a null value, not a parse error: `e` is a real (left-only) key
    assert statuses(out) == {"a": "matched", "b": "right_only", "e": "left_only"}


def test_every_failure_of_a_row_is_listed() -> None:
    out = run(
        {"id": ["a"], "amount": ["x"], "d": ["31/02/2026"]},
        {"id": ["a"], "amount": [1.0], "d": [dt.date(2026, 1, 1)]},
        normalize={"d": {"date_formats": ["%d/%m/%Y"]}},
        compare={"amount": {"type": "number"}, "d": {}},
    )
    assert out.filter(pl.col("status") == "invalid")["reason"].item() == (
        "column `amount`: cannot parse 'x' as a number; "
        "column `d`: cannot parse '31/02/2026' as a date"
    )


# -- aggregation --------------------------------------------------------------------------


def test_signed_aggregation_before_matching() -> None:
    ledger = {
        "folio": ["F1", "F1", "F1", "F2", "F2", "F3"],
        "txn": ["BUY", "SELL", "BUY", "BUY", "REDEMPTION", "SELL"],
        "units": [100.0, 30.0, 5.0, 10.0, 10.0, 1.0],
    }
    registrar = {"folio": ["F1", "F2", "F3"], "units": [75.0, 0.0, -2.0]}
    out = run(
        registrar,
        ledger,
        keys=["folio"],
        compare={"units": {"abs_tol": 0.001}},
        normalize={"txn": ["upper"]},
        aggregate={
            "right": {
                "group_by": ["folio"],
                "sum": ["units"],
                "sign": {"column": "txn", "negative": ["SELL", "REDEMPTION"]},
            }
        },
    )
    got = out.sort("folio").select("folio", "status", "right_units", "right_rows").rows()
    assert got == [
        ("F1", "matched", 75.0, 3),
        ("F2", "matched", 0.0, 2),
        ("F3", "mismatched", -1.0, 1),
    ]


def test_aggregation_counts_rows_for_conservation() -> None:
    _, summary = result(
        {"id": ["a", "a", "b"], "v": [1.0, 2.0, 5.0]},
        {"id": ["a", "b", "b", "b"], "v": [3.0, 1.0, 2.0, 2.0]},
        compare={"v": {}},
        aggregate={
            "left": {"group_by": ["id"], "sum": ["v"]},
            "right": {"group_by": ["id"], "sum": ["v"]},
        },
    )
    assert summary["counts"]["matched"] == 2
    assert summary["row_conservation"]["left"] == {"input_rows": 3, "accounted": 3}
    assert summary["row_conservation"]["right"] == {"input_rows": 4, "accounted": 4}


# -- summary ------------------------------------------------------------------------------


def test_summary_counts_rates_money_and_risk() -> None:
    _, summary = result(
        {"id": ["a", "b", "c", "d"], "amount": [100.0, 50.0, 10.0, 40.0]},
        {"id": ["a", "b", "c", "e"], "amount": [100.0, 50.0, 12.0, 5.0]},
        compare={"amount": {"abs_tol": 0.01}},
        thresholds={"max_break_rate": 0.1, "risk": {"medium": 0.2, "high": 0.5}},
    )
    assert summary["counts"] == {
        "matched": 2, "mismatched": 1, "left_only": 1, "right_only": 1, "duplicate": 0, "invalid": 0
    }  # fmt: skip
    assert summary["records"] == 5 and summary["breaks"] == 3
    assert summary["break_rate"] == pytest.approx(0.6)
    assert summary["match_rate"] == pytest.approx(0.4)
    # volume = 100 + 50 + 12 + 40 + 5; matched = 150; at stake = 2 + 40 + 5
    assert summary["totals"]["volume"] == pytest.approx(207.0)
    assert summary["match_rate_by_amount"] == pytest.approx(150 / 207)
    assert summary["discrepancy_amount"] == pytest.approx(47.0)
    assert summary["discrepancy_rate"] == pytest.approx(47 / 207)
    assert summary["break_amount_by_status"]["left_only"] == pytest.approx(40.0)
    assert summary["risk_level"] == "HIGH" and summary["threshold_passed"] is False
    assert summary["mismatched_by_field"] == {"amount": 1}
    assert set(summary["counts"]) == set(STATUSES)


@pytest.mark.parametrize(
    ("breaks", "level", "passed"),
    [(0, "LOW", True), (1, "LOW", True), (5, "MEDIUM", False), (20, "HIGH", False)],
)
def test_risk_levels_from_thresholds(breaks: int, level: str, passed: bool) -> None:
    ids = [f"k{i}" for i in range(100)]
    right = [f"k{i}" for i in range(breaks, 100)]
    _, summary = result(
        {"id": ids},
        {"id": right},
        thresholds={"max_break_rate": 0.01, "risk": {"medium": 0.05, "high": 0.2}},
    )
    assert (summary["risk_level"], summary["threshold_passed"]) == (level, passed)


def test_row_conservation_failure_is_loud() -> None:
    results = pl.DataFrame({"left_rows": [1, 1], "right_rows": [1, 0]})
    with pytest.raises(RowConservationError, match="left: 3 input rows, 2 accounted for"):
        row_conservation(results, {"left": 3, "right": 1})


# -- schema problems ----------------------------------------------------------------------


def test_missing_columns_reported_for_both_sides_at_once() -> None:
    with pytest.raises(SchemaError) as info:
        run(
            {"id": ["a"], "amt": [1.0]},
            {"ID": ["a"], "amount": [1.0]},
            compare={"amount": {}},
            left={"label": "bank"},
            right={"label": "ledger"},
        )
    message = str(info.value)
    assert "2 problems" in message
    assert "no column `amount` (compare field `amount`) in the bank input" in message
    assert "did you mean `amt`?" in message
    assert "no column `id` (key `id`) in the ledger input" in message
    assert "did you mean `ID`?" in message


def test_empty_sides_give_one_sided_results() -> None:
    out, summary = result(pl.DataFrame({"id": []}, schema={"id": pl.String}), {"id": ["a"]})
    assert statuses(out) == {"a": "right_only"}
    assert summary["row_conservation"]["ok"] is True


def test_labels_do_not_change_status_words() -> None:
    out = run({"id": ["a"]}, {"id": ["b"]}, left={"label": "dbf"}, right={"label": "mongo"})
    assert sorted(out["status"].to_list()) == ["left_only", "right_only"]


def test_results_are_deterministic() -> None:
    left = {"id": [f"k{i}" for i in range(50)], "v": list(range(50))}
    right = {"id": [f"k{i}" for i in range(25, 75)], "v": list(range(25, 75))}
    first = run(left, right, compare={"v": {}}).sort("id")
    second = run(left, right, compare={"v": {}}).sort("id")
    assert_frame_equal(first, second)


@pytest.mark.parametrize("fields", [3, 13], ids=["bitmask", "more-fields-than-the-bitmask"])
def test_mismatched_fields_lists_exactly_the_differing_fields(fields: int) -> None:
    names = [f"f{i:02d}" for i in range(fields)]
    left = {"id": ["a", "b"], **{n: ["x", "x"] for n in names}}
    right = {"id": ["a", "b"], **{n: ["x", "y" if i % 2 else "x"] for i, n in enumerate(names)}}
    out = run(left, right, compare=names).sort("id")
    assert out["mismatched_fields"].to_list() == [[], names[1::2]]
    assert out["status"].to_list() == ["matched", "mismatched"]
