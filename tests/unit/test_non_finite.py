"""NaN and infinities are never matched by a tolerance's slack, and no JSON recon writes holds
them (issue 12, items 1 and 2; issue 18, items 1 and 2).

- text that parses to a non-finite number (``inf``, ``-inf``, ``nan``, ``1e309``) is no amount:
  the row is ``invalid`` with the reason;
- native floats (Parquet Float64) are compared as they are: NaN equals NaN, an infinity equals
  the same infinity, and anything else with a non-finite side differs, whichever side it is on;
- sums of money leave non-finite values out, and every JSON file is strict JSON.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from recon.cli import main

INF, NAN = float("inf"), float("nan")


def strict_json(path: Path) -> Any:
    """Python's json accepts NaN and Infinity; a strict reader does not."""

    def refuse(token: str) -> None:
        raise ValueError(f"{path.name} holds {token}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def compare(tmp_path: Path, left: Path, right: Path, reports: str = "none") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: s\nkeys: [id]\ncompare:\n  amount: {abs_tol: 0.01}\n")
    out = tmp_path / "out"
    args = ["--spec", str(spec), "--left", str(left), "--right", str(right), "--out", str(out)]
    assert main(["compare", *args, "--reports", reports, "--quiet"]) == 0
    return out


def statuses(out: Path) -> dict[str, str]:
    results = pl.read_parquet(out / "results.parquet").filter(pl.col("status") != "invalid")
    return dict(zip(results["id"], results["status"], strict=True))


@pytest.mark.parametrize("text", ["inf", "-inf", "1e309", "nan", "Infinity"])
def test_text_that_is_no_finite_number_is_invalid_with_the_reason(
    tmp_path: Path, text: str
) -> None:
    (tmp_path / "l.csv").write_text(f"id,amount\n1,{text}\n2,10\n")
    (tmp_path / "r.csv").write_text("id,amount\n1,5\n2,10\n")
    out = compare(tmp_path, tmp_path / "l.csv", tmp_path / "r.csv")
    results = pl.read_parquet(out / "results.parquet")
    [invalid] = results.filter(pl.col("status") == "invalid").to_dicts()
    assert invalid["reason"] == f"column `amount`: '{text}' is not a finite number"
    assert statuses(out) == {"1": "right_only", "2": "matched"}  # never matched by slack


def parquet(path: Path, amounts: list[Any], dtype: pl.DataType | None = None) -> Path:
    ids = [str(i) for i in range(1, len(amounts) + 1)]
    pl.DataFrame(
        {"id": ids, "amount": pl.Series(amounts, dtype=dtype or pl.Float64())}
    ).write_parquet(path)
    return path


# (left, right, expected status): both sides native Float64
CASES = [
    (1.0, NAN, "mismatched"),
    (NAN, 1.0, "mismatched"),
    (NAN, NAN, "matched"),
    (INF, 5.0, "mismatched"),
    (5.0, -INF, "mismatched"),
    (INF, INF, "matched"),
    (-INF, -INF, "matched"),
    (INF, -INF, "mismatched"),
    (INF, NAN, "mismatched"),
    (None, 1.0, "mismatched"),
    (1.0, 1.005, "matched"),  # within the tolerance: finite numbers keep their slack
]


def test_native_nan_and_infinities_compare_the_same_whichever_side_they_are_on(
    tmp_path: Path,
) -> None:
    lefts, rights, wanted = zip(*CASES, strict=True)
    forward = compare(
        tmp_path / "a", parquet(tmp_path / "l.parquet", list(lefts)),
        parquet(tmp_path / "r.parquet", list(rights)),
    )  # fmt: skip
    backward = compare(tmp_path / "b", tmp_path / "r.parquet", tmp_path / "l.parquet")
    expected = {str(i): status for i, status in enumerate(wanted, start=1)}
    assert statuses(forward) == expected
    assert statuses(backward) == expected  # swapping the sides changes nothing here


def test_a_decimal_against_a_float_nan_differs_both_ways(tmp_path: Path) -> None:
    decimal = parquet(tmp_path / "d.parquet", [Decimal("1.00"), Decimal("2.00")], pl.Decimal(10, 2))
    floats = parquet(tmp_path / "f.parquet", [NAN, 2.0])
    assert statuses(compare(tmp_path / "x", decimal, floats)) == {"1": "mismatched", "2": "matched"}
    assert statuses(compare(tmp_path / "y", floats, decimal)) == {"1": "mismatched", "2": "matched"}


def test_no_json_holds_nan_or_infinity_and_money_stays_finite(tmp_path: Path) -> None:
    lefts, rights, _ = zip(*CASES, strict=True)
    out = compare(
        tmp_path, parquet(tmp_path / "l.parquet", list(lefts)),
        parquet(tmp_path / "r.parquet", list(rights)), reports="json,csv,html,xlsx",
    )  # fmt: skip
    summary = strict_json(out / "summary.json")
    report = strict_json(out / "report.json")
    for figure in ("left_amount", "right_amount", "volume", "discrepancy_amount"):
        assert summary.get(figure) is None or math.isfinite(summary[figure]), figure
    assert summary["counts"]["mismatched"] == 7
    results = pl.read_parquet(out / "results.parquet")
    assert results["break_amount"].is_finite().all()  # nothing at stake is NaN or inf
    assert report["summary"]["counts"] == summary["counts"]
