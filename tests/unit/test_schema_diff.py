"""Every run says how the inputs' columns differ (issue 18, item 3): columns only one side has,
compared columns whose types differ and how they were compared, in summary.json, the HTML
report, the XLSX summary sheet and report.json (which the upload API returns); and the spec
can ask to fail on any difference."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from recon.cli import main

SPEC = "name: s\nleft: {label: bank}\nright: {label: ledger}\nkeys: [id]\n"
COMPARE = "compare:\n  amount: {abs_tol: 0.01}\n  booked: {type: date}\n"


def inputs(tmp_path: Path) -> tuple[Path, Path]:
    """Decimal vs Float64 amounts, dates vs datetimes, and an extra column on each side."""
    pl.DataFrame(
        {
            "id": ["1", "2"],
            "amount": pl.Series([Decimal("10.00"), Decimal("5.00")], dtype=pl.Decimal(10, 2)),
            "booked": [dt.date(2026, 11, 20), dt.date(2026, 11, 20)],
            "memo": ["a", "b"],
        }
    ).write_parquet(tmp_path / "bank.parquet")
    pl.DataFrame(
        {
            "id": ["1", "2"],
            "amount": [10.0, 5.5],
            "booked": [dt.datetime(2026, 11, 20, 9), dt.datetime(2026, 11, 20, 10)],
            "channel": ["web", "pos"],
        }
    ).write_parquet(tmp_path / "ledger.parquet")
    return tmp_path / "bank.parquet", tmp_path / "ledger.parquet"


def run(tmp_path: Path, extra: str = "", reports: str = "html,xlsx,json") -> int:
    (tmp_path / "spec.yaml").write_text(SPEC + COMPARE + extra)
    left, right = inputs(tmp_path)
    args = ["--spec", str(tmp_path / "spec.yaml"), "--left", str(left), "--right", str(right)]
    return main(["compare", *args, "--out", str(tmp_path / "out"), "--reports", reports, "--quiet"])


def test_the_schema_section_names_every_difference(tmp_path: Path) -> None:
    assert run(tmp_path) == 0
    out = tmp_path / "out"
    schema: dict[str, Any] = json.loads((out / "summary.json").read_text())["schema"]
    assert schema["left_only"] == ["memo"]
    assert schema["right_only"] == ["channel"]
    assert schema["match"] is False
    assert schema["type_differences"] == [
        {"column": "amount", "left": "Decimal(precision=10, scale=2)", "right": "Float64",
         "compared_as": "numbers (Float64)"},
        {"column": "booked", "left": "Date", "right": "Datetime(time_unit='us', time_zone=None)",
         "compared_as": "dates (Datetime(time_unit='us', time_zone=None))"},
    ]  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["schema"] == schema  # what the upload API hands back
    html = (out / "report.html").read_text()
    assert "<h2>Columns that differ</h2>" in html
    assert "only in bank</th><td>memo</td>" in html and "only in ledger</th><td>channel" in html
    assert "`amount` types differ" in html
    sheet = openpyxl.load_workbook(out / "report.xlsx")["Summary"]
    cells = [tuple(c.value for c in row[:2]) for row in sheet.iter_rows()]
    assert ("Columns that differ", None) in cells
    assert ("only in bank", "memo") in cells
    assert any(what == "`booked` types differ" for what, _ in cells)


def test_agreeing_columns_add_no_section(tmp_path: Path) -> None:
    frame = pl.DataFrame({"id": ["1"], "amount": [1.0]})
    frame.write_parquet(tmp_path / "l.parquet")
    frame.write_parquet(tmp_path / "r.parquet")
    (tmp_path / "spec.yaml").write_text("name: s\nkeys: [id]\ncompare:\n  amount: {}\n")
    args = ["--spec", str(tmp_path / "spec.yaml"), "--left", str(tmp_path / "l.parquet")]
    args += ["--right", str(tmp_path / "r.parquet"), "--out", str(tmp_path / "out")]
    assert main(["compare", *args, "--reports", "html", "--quiet"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["schema"] == {
        "left_only": [], "right_only": [], "type_differences": [], "match": True,
    }  # fmt: skip
    assert "Columns that differ" not in (tmp_path / "out" / "report.html").read_text()


def test_the_spec_can_fail_the_run_on_any_difference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "fail_on_schema_difference: true\n", reports="none") == 2
    err = capsys.readouterr().err
    assert "the inputs' columns differ and the spec says fail_on_schema_difference" in err
    assert (
        "columns only this side has: memo" in err and "columns only this side has: channel" in err
    )
    assert (
        "column `amount`: Decimal(precision=10, scale=2) on the left, Float64 on the right" in err
    )
    assert not (tmp_path / "out").exists()  # nothing was written
