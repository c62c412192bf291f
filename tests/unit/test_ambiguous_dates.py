"""01/02/2026 is never read day-first (or month-first) unless the spec says so (issue 12, item 7)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from recon.cli import main


def run(tmp_path: Path, rule: str, left_date: str) -> pl.DataFrame:
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"name: s\nkeys: [id]\ncompare:\n  booked: {{type: date}}\n{rule}")
    (tmp_path / "l.csv").write_text(f"id,booked\n1,{left_date}\n2,2026-02-03\n")
    (tmp_path / "r.csv").write_text("id,booked\n1,2026-02-01\n2,2026-02-03\n")
    out = tmp_path / "out"
    args = ["--left", str(tmp_path / "l.csv"), "--right", str(tmp_path / "r.csv")]
    assert main(["compare", "--spec", str(spec), *args, "--out", str(out), "--quiet"]) == 0
    return pl.read_parquet(out / "results.parquet")


@pytest.mark.parametrize("text", ["01/02/2026", "1.2.2026", "31/01/2026", "01-02-26"])
def test_a_slashed_date_without_declared_formats_is_refused_with_the_hint(
    tmp_path: Path, text: str
) -> None:
    results = run(tmp_path, "", text)
    [invalid] = results.filter(pl.col("status") == "invalid").to_dicts()
    assert invalid["reason"].startswith(f"column `booked`: cannot parse '{text}' as a date")
    assert "day and month order is ambiguous: declare the field's date_formats" in invalid["reason"]
    assert results.filter(pl.col("id") == "2")["status"].to_list() == ["matched"]


@pytest.mark.parametrize(("fmt", "status"), [("%d/%m/%Y", "matched"), ("%m/%d/%Y", "mismatched")])
def test_a_declared_format_decides(tmp_path: Path, fmt: str, status: str) -> None:
    rule = f"normalize:\n  booked: {{date_formats: ['{fmt}', '%Y-%m-%d']}}\n"
    results = run(tmp_path, rule, "01/02/2026")
    assert results.filter(pl.col("id") == "1")["status"].to_list() == [status]
    left = results.filter(pl.col("id") == "1")["left_booked"].to_list()[0]
    assert left == (dt.date(2026, 2, 1) if status == "matched" else dt.date(2026, 1, 2))


def test_iso_dates_need_no_declaration(tmp_path: Path) -> None:
    results = run(tmp_path, "", "2026-02-01")
    assert set(results["status"]) == {"matched"}
