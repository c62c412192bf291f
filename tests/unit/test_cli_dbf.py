"""`recon compare` with a registrar's DBF holdings file against a ledger of transactions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from recon.cli import EXIT_BAD_INPUT, EXIT_OK, main
from worlds.dbf_write import write_dbf

SPEC = """\
name: cams_holdings
left: {label: cams}
right: {label: ledger}
keys:
  - {left: FOLIO_NO, right: folio, name: folio}
  - {left: PRODCODE, right: product, name: product}
normalize:
  folio: [strip]
  txn_type: [upper]
compare:
  units: {left: CLOS_BAL, right: units, abs_tol: 0.0001}
  scheme: {left: SCHEME, right: scheme, case: insensitive}
aggregate:
  right:
    group_by: [folio, product, scheme]
    sum: [units]
    sign: {column: txn_type, negative: [SELL, REDEMPTION]}
"""
FIELDS = [
    ("FOLIO_NO", "C", 15, 0),
    ("PRODCODE", "C", 10, 0),
    ("SCHEME", "C", 30, 0),
    ("REP_DATE", "D", 8, 0),
    ("CLOS_BAL", "N", 18, 4),
]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    holdings = pl.DataFrame(
        {
            "FOLIO_NO": ["42213157/43", "42213157/43", "1001/1", "2002/7", "3003/9"],
            "PRODCODE": ["EQ01", "DB02", "EQ01", "EQ01", "EQ01"],
            "SCHEME": ["Équité Growth", "Débt Fund", "Équité Growth", "Équité Growth", "Gone"],
            "REP_DATE": [dt.date(2026, 11, 20)] * 5,
            "CLOS_BAL": [
                Decimal("100.1234"),
                Decimal("50.0000"),
                Decimal("10.0001"),
                Decimal("7.5000"),
                Decimal("1.0000"),
            ],
        }
    )
    dbf = tmp_path / "cams_20261120.dbf"
    # the last record is deleted: it must be skipped, as dbfread does
    write_dbf(dbf, holdings, FIELDS, encoding="cp1252", deleted=[False] * 4 + [True])
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "folio,product,scheme,txn_type,units\n"
        "42213157/43,EQ01,ÉQUITÉ GROWTH,buy,150.1234\n"
        "42213157/43,EQ01,ÉQUITÉ GROWTH,sell,50\n"
        "42213157/43,DB02,DÉBT FUND,BUY,50\n"
        "1001/1,EQ01,ÉQUITÉ GROWTH,BUY,10\n"  # 0.0001 short: exactly at the tolerance
        "2002/7,EQ01,ÉQUITÉ GROWTH,BUY,8\n"
        "2002/7,EQ01,ÉQUITÉ GROWTH,REDEMPTION,0.4\n"
        "9009/1,EQ01,ÉQUITÉ GROWTH,BUY,3\n",
        encoding="utf-8",
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return {"left": dbf, "right": ledger, "spec": spec, "out": tmp_path / "out"}


def args(files: dict[str, Path]) -> list[str]:
    return [
        "compare",
        *("--spec", str(files["spec"]), "--left", str(files["left"])),
        *("--right", str(files["right"]), "--out", str(files["out"])),
    ]


def test_dbf_holdings_against_signed_ledger_sums(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args(files)) == EXIT_OK
    results = pl.read_parquet(files["out"] / "results.parquet").sort("folio", "product")
    got = {(r["folio"], r["product"]): r["status"] for r in results.iter_rows(named=True)}
    assert got == {
        ("1001/1", "EQ01"): "matched",  # |10.0001 - 10| = 0.0001 <= abs_tol
        ("2002/7", "EQ01"): "mismatched",  # 7.5 held, 8 - 0.4 = 7.6 booked
        ("42213157/43", "DB02"): "matched",
        ("42213157/43", "EQ01"): "matched",  # 150.1234 - 50 = 100.1234 exactly
        ("9009/1", "EQ01"): "right_only",
    }
    mismatch = results.filter(pl.col("folio") == "2002/7").row(0, named=True)
    assert mismatch["left_units"] == pytest.approx(7.5) and mismatch["right_units"] == 7.6
    assert mismatch["right_rows"] == 2
    summary = (files["out"] / "summary.json").read_text()
    assert '"input_rows": 4' in summary  # the deleted DBF record is not an input row
    out = capsys.readouterr().out
    assert "cams only" in out and "report.html" in out


def test_truncated_dbf_is_refused_with_the_record_number(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data = files["left"].read_bytes()
    files["left"].write_bytes(data[: len(data) - 40])  # cut inside the last records
    assert main(args(files)) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err.startswith("recon: error: ") and "\n" not in err
    assert "cams_20261120.dbf" in err and "truncated" in err and "record" in err
    assert not (files["out"] / "results.parquet").exists()
