"""Reports of a passes run: a sheet per pass outcome, groups with their members, suggested and
ambiguous rows with their candidates, written with the run's other outputs in one step."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from recon.passes.report import outcome_order, report_frame, report_summary
from recon.passes.run import run_passes
from recon.spec.loader import parse_any_spec
from recon.spec.passes import PassSpec

SPEC = """
name: bank_vs_ledger
left: {label: ledger}
right: {label: bank}
ids: {left: entry_id, right: line_id}
fields:
  amount: {type: number}
  date: {left: value_date, right: booking_date, type: date}
  ref: {left: reference, right: description}
passes:
  - {name: exact, kind: rule, confirm: true, equal: [ref], amount: {field: amount}}
  - name: near
    kind: rule
    amount: {field: amount, abs_tol: 0.01}
    date: {field: date, before: 0, after: 3}
  - name: batched
    kind: group
    many: left
    amount: {field: amount, abs_tol: 0.01}
    date: {field: date, before: 0, after: 3}
"""
LEDGER = """entry_id,value_date,reference,amount
L1,2026-03-02,INV-1001,100.00
L3,2026-03-03,INV-1003,75.50
L4,2026-03-03,INV-1004,24.50
L5,2026-03-04,INV-1005,500.00
L6,2026-03-04,INV-1006,500.00
L7,2026-03-05,"=HYPERLINK(""http://x"")",9.99
"""
BANK = """line_id,booking_date,description,amount
B1,2026-03-02,INV-1001,100.00
B3,2026-03-04,BATCH DEPOSIT,100.00
B4,2026-03-05,DEPOSIT,500.00
B5,2026-03-05,DEPOSIT,500.00
B6,2026-03-06,<script>alert(1)</script>,42.00
"""


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"spec": tmp_path / "spec.yaml", "left": tmp_path / "ledger.csv"}
    paths["right"] = tmp_path / "bank.csv"
    paths["spec"].write_text(SPEC)
    paths["left"].write_text(LEDGER)
    paths["right"].write_text(BANK)
    return paths


def compare(files: dict[str, Path], out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "recon", "compare", "--spec", str(files["spec"])]
    command += ["--left", str(files["left"]), "--right", str(files["right"]), "--out", str(out)]
    return subprocess.run([*command, *extra], capture_output=True, text=True, check=False)


def spec() -> PassSpec:
    parsed = parse_any_spec(SPEC)
    assert isinstance(parsed, PassSpec)
    return parsed


def test_every_row_is_reported_once_under_its_outcome(files: dict[str, Path]) -> None:
    result = run_passes(
        pl.scan_csv(files["left"], infer_schema=False),
        pl.scan_csv(files["right"], infer_schema=False),
        spec(),
    )
    shown = report_summary(result.summary)
    frame = report_frame(result.rows, result.matches, shown).collect()
    outcomes = dict(zip(frame["id"], frame["outcome"], strict=True))
    assert outcomes == {
        "L1": "exact: confirmed",
        "B1": "exact: confirmed",
        # 500.00 twice on each side, all within the window: never matched by picking one
        "L5": "ambiguous",
        "L6": "ambiguous",
        "B4": "ambiguous",
        "B5": "ambiguous",
        # 75.50 + 24.50 = 100.00 in one bank line: a group the rule only suggests
        "L3": "batched: suggested",
        "L4": "batched: suggested",
        "B3": "batched: suggested",
        "L7": "left_only",
        "B6": "right_only",
    }
    assert set(frame["outcome"]) <= set(outcome_order(shown))
    group = frame.filter(pl.col("outcome") == "batched: suggested")
    assert group["match_id"].n_unique() == 1
    assert group["members"].unique().to_list() == ["2 + 1"]
    ambiguous = dict(
        zip(*frame.filter(pl.col("outcome") == "ambiguous")[["id", "candidates"]], strict=True)
    )
    assert ambiguous == {"L5": "B4, B5", "L6": "B4, B5", "B4": "L5, L6", "B5": "L5, L6"}
    # each side's value sits under its own label's column, the other side's stays empty
    l5 = frame.row(frame["id"].to_list().index("L5"), named=True)
    assert (l5["left_amount"], l5["right_amount"]) == (500.0, None)


def test_the_cli_writes_a_sheet_per_pass_outcome_with_members_and_candidates(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = compare(files, out)
    assert done.returncode == 0, done.stderr
    for name in ("report.html", "breaks.csv", "report.xlsx", "report.json"):
        assert (out / name).is_file(), name
        assert f"{out / name}" in done.stdout
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    assert book.sheetnames == [
        "Summary",
        "batched suggested",
        "ambiguous",
        "ledger only",
        "bank only",
        "exact confirmed",
    ]
    rows = list(book["batched suggested"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    ids = [dict(zip(header, row, strict=True))["id"] for row in body]
    assert sorted(ids) == ["B3", "L3", "L4"]
    sheet = list(book["ambiguous"].iter_rows(values_only=True))
    candidates = {row[1]: row[sheet[0].index("candidates")] for row in sheet[1:]}
    assert candidates == {"B4": "L5, L6", "B5": "L5, L6", "L5": "B4, B5", "L6": "B4, B5"}
    summary = [row for row in book["Summary"].iter_rows(values_only=True)]
    assert ("near (rule): matches", 0) in summary
    assert ("batched (group): suggested", 1) in summary
    # a formula from the ledger is text in every report, never a formula
    only = list(book["ledger only"].iter_rows(values_only=True))
    assert any(str(cell).startswith("'=HYPERLINK") for row in only for cell in row)
    assert "'=HYPERLINK" in (out / "breaks.csv").read_text()


def test_the_html_shows_the_passes_and_escapes_what_the_inputs_hold(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert compare(files, out, "--reports", "html,json").returncode == 0
    html = (out / "report.html").read_text()
    assert "<h2>Passes</h2>" in html
    assert "auto-match rate" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    document = json.loads(
        (out / "report.json").read_text(),
        parse_constant=lambda name: pytest.fail(f"{name} in report.json"),
    )
    assert [p["name"] for p in document["summary"]["passes"]] == ["exact", "near", "batched"]
    assert {b["outcome"] for b in document["breaks"]} >= {"ambiguous", "batched: suggested"}


def test_a_run_without_reports_removes_the_previous_runs_reports(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert compare(files, out).returncode == 0
    assert (out / "report.xlsx").is_file()
    assert compare(files, out, "--reports", "none").returncode == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "matches.parquet",
        "results.parquet",
        "summary.json",
    ]
