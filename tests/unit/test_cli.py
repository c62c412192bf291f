"""`recon` on the command line: one clear line and exit 2 for every bad input, outputs otherwise."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from recon.cli import EXIT_BAD_INPUT, EXIT_OK, main
from worlds.pairs import SamplePair

SPEC = """\
name: cards
left: {label: bank}
right: {label: books}
keys: [{left: id, right: ref, name: id}]
compare:
  amount: {abs_tol: 0.01}
  name: {case: insensitive}
"""
LEFT = "id,amount,name\n1,10.00,café\n2,20.00,bob\n3,30.00,cy\n"
RIGHT = "ref,amount,name\n1,10.00,CAFÉ\n2,20.50,BOB\n4,40.00,dee\n"
STATUSES = {"1": "matched", "2": "mismatched", "3": "left_only", "4": "right_only"}
ALL_OUTPUTS = {
    "results.parquet",
    "summary.json",
    "report.html",
    "breaks.csv",
    "report.xlsx",
    "report.json",
}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A spec and two small CSVs that reconcile to one key of each keyed status."""
    paths = {"spec": tmp_path / "cards.yaml", "left": tmp_path / "bank.csv"}
    paths["right"] = tmp_path / "books.csv"
    paths["spec"].write_text(SPEC, encoding="utf-8")
    paths["left"].write_text(LEFT, encoding="utf-8")
    paths["right"].write_text(RIGHT, encoding="utf-8")
    paths["out"] = tmp_path / "out"
    return paths


def compare_args(files: dict[str, Path], **override: Path) -> list[str]:
    paths = {**files, **override}
    return [
        "compare",
        "--spec",
        str(paths["spec"]),
        "--left",
        str(paths["left"]),
        "--right",
        str(paths["right"]),
        "--out",
        str(paths["out"]),
    ]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's own errors exit
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def assert_bad_input(result: tuple[int, str, str], *words: str) -> str:
    """Exit 2, nothing on stdout, one stderr line `recon: error: ...` holding every word."""
    code, out, err = result
    assert code == EXIT_BAD_INPUT, (code, out, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("recon: error: "), err
    missing = [word for word in words if word not in lines[0]]
    assert not missing, f"{missing} not in: {lines[0]}"
    assert out == ""
    return lines[0]


def statuses(out_dir: Path) -> dict[str, str]:
    results = pl.read_parquet(out_dir / "results.parquet").filter(pl.col("status") != "invalid")
    return dict(zip(results["id"].cast(pl.String), results["status"], strict=True))


# -- bad input: exit 2 and one line that says what, where and how to fix it ----------------


def test_missing_left_file(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    missing = files["left"].with_name("nope.csv")
    result = run(capsys, *compare_args(files, left=missing))
    assert_bad_input(result, "nope.csv", "file not found", "check the path")
    assert not files["out"].exists()


def test_missing_spec_file(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    missing = files["spec"].with_name("nospec.yaml")
    assert_bad_input(
        run(capsys, *compare_args(files, spec=missing)), "nospec.yaml", "spec file not found"
    )


def test_spec_with_yaml_syntax_error_names_the_line(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    files["spec"].write_text("name: cards\nkeys: [id\ncompare: {}\n", encoding="utf-8")
    assert_bad_input(run(capsys, *compare_args(files)), "cards.yaml", "line 3", "not valid YAML")


BAD_RULES = """\
name: cards
keys: [id]
normalize:
  id: [strp]
compare:
  amount: {abs_tol: -1}
"""


@pytest.mark.parametrize("command", ["compare", "validate"])
def test_spec_mistakes_are_all_reported_at_once(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], command: str
) -> None:
    files["spec"].write_text(BAD_RULES, encoding="utf-8")
    args = compare_args(files) if command == "compare" else ["validate", str(files["spec"])]
    assert_bad_input(
        run(capsys, *args),
        "cards.yaml",
        "2 problems",
        "unknown normalisation rule `strp`",
        "did you mean `strip`?",
        "line 4",
        "compare.amount.abs_tol",
        "line 6",
        "greater than or equal to 0",
    )


@pytest.mark.parametrize(
    ("side", "header", "words"),
    [
        ("left", "ID,amount,name", ("bank.csv", "no column `id`", "bank input", "`ID`")),
        ("right", "REF,amount,name", ("books.csv", "no column `ref`", "books input", "`REF`")),
    ],
    ids=["left", "right"],
)
def test_missing_key_column_says_which_side_and_suggests(
    capsys: pytest.CaptureFixture[str],
    files: dict[str, Path],
    side: str,
    header: str,
    words: tuple[str, ...],
) -> None:
    files[side].write_text(f"{header}\n1,10.00,a\n", encoding="utf-8")
    line = assert_bad_input(run(capsys, *compare_args(files)), "key `id`", "did you mean", *words)
    assert "column `id`" in line or "column `ref`" in line


@pytest.fixture
def cp1252_left(files: dict[str, Path]) -> dict[str, Path]:
    """The bank file as Excel on Windows saves it (cp1252); the books file plain ASCII."""
    files["left"].write_bytes(LEFT.encode("cp1252"))
    files["right"].write_text(RIGHT.replace("É", "E").replace("é", "e"), encoding="ascii")
    return files


def test_wrong_encoding_names_byte_row_and_encoding(
    capsys: pytest.CaptureFixture[str], cp1252_left: dict[str, Path]
) -> None:
    assert_bad_input(
        run(capsys, *compare_args(cp1252_left)),
        "bank.csv",
        "row 1",
        "not valid utf-8",
        "\\xe9",
        "encoding cp1252",
    )


@pytest.mark.parametrize("option", ["--encoding", "--left-encoding"])
def test_wrong_encoding_read_with_the_right_encoding_succeeds(
    capsys: pytest.CaptureFixture[str], cp1252_left: dict[str, Path], option: str
) -> None:
    code, _, err = run(capsys, *compare_args(cp1252_left), option, "cp1252")
    assert (code, err) == (EXIT_OK, "")
    results = pl.read_parquet(cp1252_left["out"] / "results.parquet")
    assert results.filter(pl.col("id") == "1")["left_name"].item() == "café"


def test_encoding_hint_names_the_side_so_the_other_file_is_not_misread(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    """The hint names the side's own option: `--encoding cp1252` would re-read the *other*
    (UTF-8) file as cp1252 too and silently turn `CAFÉ` into `CAFÃ‰`, a false mismatch."""
    files["left"].write_bytes(LEFT.encode("cp1252"))  # books.csv stays UTF-8 with `CAFÉ`
    line = assert_bad_input(run(capsys, *compare_args(files)), "bank.csv")
    assert "--left-encoding cp1252" in line


def test_empty_file(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    files["right"].write_bytes(b"")
    assert_bad_input(run(capsys, *compare_args(files)), "books.csv", "empty", "0 bytes")


def test_header_only_csv_needs_allow_empty(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    files["left"].write_text("id,amount,name\n", encoding="utf-8")
    assert_bad_input(run(capsys, *compare_args(files)), "bank.csv", "no data rows", "--allow-empty")
    code, _, err = run(capsys, *compare_args(files), "--allow-empty")
    assert (code, err) == (EXIT_OK, "")
    assert statuses(files["out"]) == {"1": "right_only", "2": "right_only", "4": "right_only"}


def test_unsupported_extension(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    data = files["left"].with_suffix(".json")
    data.write_text("[]", encoding="utf-8")
    assert_bad_input(
        run(capsys, *compare_args(files, left=data)),
        "bank.json",
        "unsupported file type `.json`",
        ".csv",
        ".parquet",
        ".xlsx",
    )


def test_unknown_report_format(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    result = run(capsys, *compare_args(files), "--reports", "html,pdf")
    assert_bad_input(result, "pdf", "html, csv, xlsx, json")
    assert not files["out"].exists()


def test_missing_out_argument(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    args = compare_args(files)[:-2]
    assert_bad_input(run(capsys, *args), "required", "--out", "recon --help")


def test_out_that_is_a_file_is_bad_input(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    """`--out` naming an existing file is refused before any work, not with a traceback."""
    files["out"].write_text("not a folder", encoding="utf-8")
    line = assert_bad_input(run(capsys, *compare_args(files)), str(files["out"]))
    assert "folder" in line or "directory" in line


# -- success --------------------------------------------------------------------------------


def test_compare_prints_summary_and_writes_every_output(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    code, out, err = run(capsys, *compare_args(files))
    assert (code, err) == (EXIT_OK, "")
    assert "cards: bank vs books" in out
    for words in ("matched", "mismatched", "bank only", "books only", "row check"):
        assert words in out
    assert str(files["out"] / "report.html") in out
    assert {p.name for p in files["out"].iterdir()} == ALL_OUTPUTS
    assert statuses(files["out"]) == STATUSES


def test_reports_none_writes_only_results_and_summary(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    code, _, err = run(capsys, *compare_args(files), "--reports", "none")
    assert (code, err) == (EXIT_OK, "")
    assert {p.name for p in files["out"].iterdir()} == {"results.parquet", "summary.json"}


def test_semicolon_csv_is_sniffed(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    files["left"].write_text(LEFT.replace(",", ";"), encoding="utf-8")
    code, _, err = run(capsys, *compare_args(files))
    assert (code, err) == (EXIT_OK, "")
    assert statuses(files["out"]) == STATUSES


def test_xlsx_input(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    workbook = files["left"].with_suffix(".xlsx")
    pl.DataFrame(
        {"id": ["1", "2", "3"], "amount": [10.0, 20.0, 30.0], "name": ["café", "bob", "cy"]}
    ).write_excel(workbook, worksheet="payments")
    code, _, err = run(capsys, *compare_args(files, left=workbook))
    assert (code, err) == (EXIT_OK, "")
    assert statuses(files["out"]) == STATUSES


def test_parquet_input(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    ledger = files["right"].with_suffix(".parquet")
    pl.DataFrame(
        {
            "ref": ["1", "2", "4"],
            "amount": [Decimal("10.00"), Decimal("20.50"), Decimal("40.00")],
            "name": ["CAFÉ", "BOB", "dee"],
        },
        schema_overrides={"amount": pl.Decimal(18, 2)},
    ).write_parquet(ledger)
    code, _, err = run(capsys, *compare_args(files, right=ledger))
    assert (code, err) == (EXIT_OK, "")
    assert statuses(files["out"]) == STATUSES


def test_xlsx_date_cells_compare_with_parquet_dates(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    """Real Excel date cells arrive as text `2026-11-21 00:00:00`; the default date formats
    read them, so they compare with Parquet dates instead of every row becoming `invalid`."""
    days = [dt.date(2026, 11, 21), dt.date(2026, 11, 22)]
    frame = pl.DataFrame({"id": ["1", "2"], "amount": [10.0, 20.5], "day": days})
    frame.write_excel(files["left"].with_suffix(".xlsx"))
    frame.rename({"id": "ref"}).write_parquet(files["right"].with_suffix(".parquet"))
    files["spec"].write_text(
        "name: days\nkeys: [{left: id, right: ref, name: id}]\n"
        "compare:\n  amount: {abs_tol: 0.01}\n  day: {window_days: 0}\n",
        encoding="utf-8",
    )
    args = compare_args(
        files,
        left=files["left"].with_suffix(".xlsx"),
        right=files["right"].with_suffix(".parquet"),
    )
    code, _, err = run(capsys, *args)
    assert (code, err) == (EXIT_OK, "")
    assert statuses(files["out"]) == {"1": "matched", "2": "matched"}


def test_validate_ok(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    code, out, err = run(capsys, "validate", str(files["spec"]))
    assert (code, err) == (EXIT_OK, "")
    assert out.strip() == f"{files['spec']}: ok (cards: 1 key(s), 2 field(s))"


def test_validate_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert_bad_input(run(capsys, "validate", str(tmp_path / "gone.yaml")), "gone.yaml", "not found")


# -- the real entry point -------------------------------------------------------------------


def test_python_dash_m_recon_exit_codes(tmp_path: Path, payments_pair: SamplePair) -> None:
    """`python -m recon compare` on the sample pair: 0 and a summary; 2 and one line on error."""

    def recon(left: Path, out: Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "recon", "compare", "--spec", str(payments_pair.spec)]
        command += ["--left", str(left), "--right", str(payments_pair.right), "--out", str(out)]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )

    ok = recon(payments_pair.left, tmp_path / "out")
    assert (ok.returncode, ok.stderr) == (EXIT_OK, "")
    assert "payments_demo: processor vs ledger" in ok.stdout
    assert (tmp_path / "out" / "report.html").is_file()

    bad = recon(tmp_path / "missing.csv", tmp_path / "out2")
    assert (bad.returncode, bad.stdout) == (EXIT_BAD_INPUT, "")
    assert bad.stderr.startswith("recon: error: ")
    assert "missing.csv" in bad.stderr
    assert len(bad.stderr.splitlines()) == 1


def test_demo_runs_and_says_where_everything_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from recon_local.demo_core import main as demo_main

    assert demo_main(["--out", str(tmp_path / "demo"), "--rows", "300", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    results = tmp_path / "demo" / "results"
    assert {p.name for p in results.iterdir()} == ALL_OUTPUTS
    assert "statuses: as planted" in out
    assert (results / "report.html").as_uri() in out
    assert f"recon compare --spec {tmp_path / 'demo' / 'data' / 'payments_demo.yaml'}" in out
    assert "pl.read_parquet(" in out
