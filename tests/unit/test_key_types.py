"""Keys that silently never join (issue 12 item 6, issue 18 item 2): keys of types that write a
value differently are refused at the start, and control characters in keys are a finding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from recon.cli import main


def run(tmp_path: Path, left: Path, right: Path) -> int:
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: s\nkeys: [id]\ncompare:\n  amount: {abs_tol: 0.01}\n")
    args = ["--spec", str(spec), "--left", str(left), "--right", str(right)]
    return main(["compare", *args, "--out", str(tmp_path / "out"), "--reports", "none"])


def parquet(path: Path, ids: list[Any], dtype: pl.DataType) -> Path:
    frame = pl.DataFrame({"id": pl.Series(ids, dtype=dtype), "amount": [1.0] * len(ids)})
    frame.write_parquet(path)
    return path


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (([1.0, 2.0], pl.Float64()), ([1, 2], pl.Int64())),
        ((["1", "2"], pl.String()), ([1.0, 2.0], pl.Float64())),
        (([1, 2], pl.Int64()), ([1, 2], pl.Decimal(10, 2))),
    ],
    ids=["float-vs-int", "text-vs-float", "int-vs-decimal"],
)
def test_key_types_that_never_meet_as_text_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], left: Any, right: Any
) -> None:
    (l_ids, l_type), (r_ids, r_type) = left, right
    code = run(
        tmp_path,
        parquet(tmp_path / "l.parquet", l_ids, l_type),
        parquet(tmp_path / "r.parquet", r_ids, r_type),
    )
    assert code == 2
    err = capsys.readouterr().err
    assert f"column `id`: the key is {l_type} in" in err and f"but {r_type} in" in err
    assert "export the key with one type on both sides" in err


@pytest.mark.parametrize(
    ("l_type", "r_type"),
    [(pl.Int64(), pl.Int32()), (pl.String(), pl.Int64()), (pl.Int64(), pl.String())],
    ids=["int64-int32", "text-int", "int-text"],
)
def test_key_types_that_write_a_value_alike_still_join(
    tmp_path: Path, l_type: pl.DataType, r_type: pl.DataType
) -> None:
    def ids(dtype: pl.DataType) -> list[Any]:
        return ["1", "2"] if dtype == pl.String else [1, 2]

    left = parquet(tmp_path / "l.parquet", ids(l_type), l_type)
    right = parquet(tmp_path / "r.parquet", ids(r_type), r_type)
    assert run(tmp_path, left, right) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["counts"]["matched"] == 2


def test_control_characters_in_keys_are_a_data_quality_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "l.csv").write_bytes(b'id,amount\n"a\x00b",1\nc,2\n"d\ne",3\n')
    (tmp_path / "r.csv").write_text("id,amount\nab,1\nc,2\nde,3\n")
    assert run(tmp_path, tmp_path / "l.csv", tmp_path / "r.csv") == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["data_quality"]["keys_with_control_characters"] == 2
    assert summary["counts"]["matched"] == 1
    assert "data quality: 2 keys hold control characters" in capsys.readouterr().out


def test_clean_keys_have_no_finding(tmp_path: Path) -> None:
    (tmp_path / "l.csv").write_text("id,amount\na,1\n")
    (tmp_path / "r.csv").write_text("id,amount\na,1\n")
    assert run(tmp_path, tmp_path / "l.csv", tmp_path / "r.csv") == 0
    assert "data_quality" not in json.loads((tmp_path / "out" / "summary.json").read_text())
