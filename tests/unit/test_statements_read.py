"""read_statements across files and formats, statement files as tables, and `recon compare`
with a bank statement on one side."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from recon.cli import EXIT_BAD_INPUT, EXIT_OK, main
from recon.errors import StatementCheckError, StatementFileError
from recon.readers.tables import ReadOptions, file_format, scan_table
from recon.statements import LINE_SCHEMA, lines_frame, read_statements, statement_suffixes
from worlds.statements import sample_statements, write_bai2, write_camt053, write_mt940

SPEC = """\
name: bank_vs_ledger
left: {label: bank}
right: {label: ledger}
keys: [{left: bank_reference, right: ref, name: ref}]
compare:
  amount: {abs_tol: 0.005}
"""


def write_all(tmp_path: Path) -> dict[str, Path]:
    """One file per format, each of other accounts."""
    paths = {
        "mt940": tmp_path / "ing.sta",
        "camt053": tmp_path / "sepa.xml",
        "bai2": tmp_path / "us.bai2",
    }
    paths["mt940"].write_text(write_mt940(sample_statements(1).statements), newline="")
    paths["camt053"].write_bytes(write_camt053(sample_statements(2).statements, version=5))
    paths["bai2"].write_text(write_bai2(sample_statements(3, currency="USD").statements))
    return paths


def test_statement_suffixes_are_table_formats() -> None:
    assert statement_suffixes() == {
        ".sta": "mt940",
        ".mt940": "mt940",
        ".xml": "camt053",
        ".bai": "bai2",
        ".bai2": "bai2",
    }
    for suffix, name in statement_suffixes().items():
        assert file_format(f"x{suffix.upper()}") == name


def test_files_of_every_format_read_into_one_checked_table(tmp_path: Path) -> None:
    paths = write_all(tmp_path)
    read = read_statements(paths.values())
    assert read.lines.schema == LINE_SCHEMA
    assert len(read.statements) == 3 * 2 * 3
    assert read.duplicates == ()
    formats = read.lines.group_by("format").len().sort("format")
    expected = {
        fmt: len(sample_statements(seed).expected_lines(fmt))
        for fmt, seed in (("mt940", 1), ("camt053", 2), ("bai2", 3))
    }
    assert dict(formats.iter_rows()) == expected
    records = read.records
    assert {r["format"] for r in records} == {"mt940", "camt053", "bai2"}
    assert all(r["opening_balance"] + r["lines_total"] == r["closing_balance"] for r in records)


def test_lines_frame_matches_what_was_written(tmp_path: Path) -> None:
    sample = sample_statements(7)
    path = tmp_path / "s.sta"
    path.write_text(write_mt940(sample.statements), newline="")
    got = read_statements([path]).lines.drop("source_file", "source_line")
    want = lines_frame(sample.expected_statements("mt940")).drop("source_file", "source_line")
    assert got.sort("account", "statement_id", "line_no").equals(
        want.sort("account", "statement_id", "line_no")
    )
    assert got["amount"].dtype == pl.Decimal(18, 3)


def test_a_statement_delivered_twice_is_counted_once(tmp_path: Path) -> None:
    sample = sample_statements(4)
    first, second = tmp_path / "monday.sta", tmp_path / "again.sta"
    first.write_text(write_mt940(sample.statements), newline="")
    second.write_text(write_mt940(sample.statements[1:2]), newline="")
    read = read_statements([first, second])
    assert len(read.statements) == len(sample.statements)
    (duplicate,) = read.duplicates
    assert duplicate.statement_id == sample.statements[1].statement_id
    assert "again.sta" in duplicate.repeated
    assert read.lines.height == len(sample.expected_lines("mt940"))


def test_checks_run_across_files(tmp_path: Path) -> None:
    sample = sample_statements(5, accounts=1, days=3)
    early, late = tmp_path / "early.sta", tmp_path / "late.sta"
    early.write_text(write_mt940(sample.statements[:1]), newline="")
    late.write_text(write_mt940(sample.statements[2:]), newline="")  # the middle day is missing
    with pytest.raises(StatementCheckError, match="do not chain"):
        read_statements([early, late])


def test_a_misnamed_file_is_read_by_its_content(tmp_path: Path) -> None:
    path = tmp_path / "export.sta"  # camt.053 content under an MT940 name
    path.write_bytes(write_camt053(sample_statements(1).statements))
    assert {s.format for s in read_statements([path]).statements} == {"camt053"}


def test_an_xml_file_that_is_not_a_statement_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "invoice.xml"
    path.write_text("<Invoice><Id>1</Id></Invoice>\n")
    with pytest.raises(StatementFileError, match=r"invoice.xml, line 1: does not look like camt"):
        read_statements([path])


def test_scan_table_reads_a_statement_as_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "s.bai"
    path.write_text(write_bai2(sample_statements(6).statements))
    frame = scan_table(path)
    assert frame.collect_schema() == LINE_SCHEMA
    assert frame.collect().height == len(sample_statements(6).expected_lines("bai2"))


def test_a_statement_without_lines_needs_allow_empty(tmp_path: Path) -> None:
    path = tmp_path / "quiet.sta"
    path.write_text(":20:R\n:25:ACC\n:28C:1/1\n:60F:C240101EUR5,00\n:62F:C240102EUR5,00\n")
    with pytest.raises(StatementFileError, match=r"1 bank statement\(s\) but no statement lines"):
        scan_table(path)
    frame = scan_table(path, ReadOptions(allow_empty=True))
    assert frame.collect().height == 0 and frame.collect_schema() == LINE_SCHEMA


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def compare(tmp_path: Path, left: Path, right: Path) -> list[str]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return [
        "compare",
        *("--spec", str(spec), "--left", str(left), "--right", str(right)),
        *("--out", str(tmp_path / "out"), "--reports", "none"),
    ]


def test_recon_compare_takes_a_statement_file_on_a_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = sample_statements(8)
    statement = tmp_path / "bank.sta"
    statement.write_text(write_mt940(sample.statements), newline="")
    lines = sample.expected_lines("mt940")
    ledger = tmp_path / "ledger.csv"
    rows = [f"{x.bank_reference},{x.amount:.2f}" for x in lines]
    rows[0] = rows[0].rsplit(",", 1)[0] + ",0.01"  # one amount booked wrong
    ledger.write_text("ref,amount\n" + "\n".join(rows[:-1]) + "\n", encoding="utf-8")
    code, _out, err = run(capsys, *compare(tmp_path, statement, ledger))
    assert (code, err) == (EXIT_OK, "")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    counts = summary["counts"]
    assert (counts["matched"], counts["mismatched"], counts["left_only"]) == (len(lines) - 2, 1, 1)
    assert summary["inputs"]["left"]["format"] == "mt940"


def test_recon_compare_on_a_corrupt_statement_says_file_and_line_once(tmp_path: Path) -> None:
    statement = tmp_path / "bank.sta"
    text = write_mt940(sample_statements(8).statements)
    statement.write_text(text.replace(":61:24", ":61:2X", 1), newline="")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("ref,amount\nx,1.00\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "recon", *compare(tmp_path, statement, ledger)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == EXIT_BAD_INPUT
    # one line: the package's own error logging stays quiet
    assert done.stderr.splitlines() == [done.stderr.strip()], done.stderr
    assert "bank.sta, line 5: unreadable :61:" in done.stderr
