"""Partitioned reconciliation (inputs larger than memory) gives exactly the in-memory results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from recon.engine.partitions import partition_count
from recon.engine.reconcile import compare_files, reconcile, reconcile_to_dir
from recon.errors import InputFileError
from recon.spec import load_spec, spec_from_dict
from worlds.pairs import SamplePair

VOLATILE = {"generated_at", "duration_seconds", "partitions", "inputs"}


def ordered(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return frame.sort([*keys, "status", "side", "row"], nulls_last=True)


def stable(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k not in VOLATILE}


def test_partition_count() -> None:
    assert partition_count(10, 10, 100) == 1
    assert partition_count(1000, 10, 100) == 10
    assert partition_count(0, 0, 100) == 1


def test_partitioned_files_equal_in_memory(payments_pair: SamplePair, tmp_path: Path) -> None:
    spec = load_spec(payments_pair.spec)
    whole = compare_files(
        spec, payments_pair.left, payments_pair.right, tmp_path / "whole", reports=()
    )
    parts = compare_files(
        spec,
        payments_pair.left,
        payments_pair.right,
        tmp_path / "parts",
        reports=(),
        rows_per_partition=37,
    )
    assert whole.summary["partitions"] == 1 and parts.summary["partitions"] > 10
    keys = whole.summary["keys"]
    assert_frame_equal(ordered(parts.results, keys), ordered(whole.results, keys))
    assert stable(parts.summary) == stable(whole.summary)
    assert parts.summary["counts"]["duplicate"] > 0 and parts.summary["counts"]["invalid"] > 0


def test_partitioned_aggregation_keeps_each_key_together(tmp_path: Path) -> None:
    spec = spec_from_dict(
        {
            "name": "agg",
            "keys": ["folio"],
            "compare": {"units": {"abs_tol": 0.001}},
            "aggregate": {
                "right": {
                    "group_by": ["folio"],
                    "sum": ["units"],
                    "sign": {"column": "txn", "negative": ["SELL"]},
                }
            },
        }
    )
    folios = [f"F{i:03d}" for i in range(200)]
    registrar = pl.LazyFrame({"folio": folios, "units": [float(i) for i in range(200)]})
    ledger = pl.LazyFrame(
        {
            "folio": [f for f in folios for _ in range(3)],
            "txn": ["BUY", "BUY", "SELL"] * 200,
            "units": [v for i in range(200) for v in (float(i), 2.0, 2.0)],
        }
    )
    memory = reconcile(registrar, ledger, spec)
    disk = reconcile_to_dir(registrar, ledger, spec, tmp_path, rows_per_partition=50)
    assert disk.summary["partitions"] == 12
    assert_frame_equal(ordered(disk.results, ["folio"]), ordered(memory.results, ["folio"]))
    assert disk.summary["counts"]["matched"] == 200
    assert disk.summary["row_conservation"]["right"] == {"input_rows": 600, "accounted": 600}


@pytest.mark.parametrize("rows_per_partition", [None, 50], ids=["in-memory", "partitioned"])
def test_a_failed_run_leaves_earlier_results_intact(
    payments_pair: SamplePair, tmp_path: Path, rows_per_partition: int | None
) -> None:
    spec = load_spec(payments_pair.spec)
    out = tmp_path / "out"
    compare_files(spec, payments_pair.left, payments_pair.right, out, reports=("csv",))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = tmp_path / "ledger.parquet"
    broken.write_bytes(payments_pair.right.read_bytes()[:-200])  # a truncated Parquet file
    with pytest.raises(InputFileError):
        compare_files(
            spec,
            payments_pair.left,
            broken,
            out,
            reports=("csv",),
            rows_per_partition=rows_per_partition,
        )
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # same files, same bytes, no work folder left behind


def test_summary_records_each_input_with_its_checksum(
    payments_pair: SamplePair, tmp_path: Path
) -> None:
    import hashlib
    import json

    spec = load_spec(payments_pair.spec)
    out = tmp_path / "out"
    compare_files(spec, payments_pair.left, payments_pair.right, out, reports=())
    written = json.loads((out / "summary.json").read_text())
    for side, path in (("left", payments_pair.left), ("right", payments_pair.right)):
        recorded = written["inputs"][side]
        assert recorded["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert recorded["path"] == str(path) and recorded["rows"] > 0
    assert written["inputs"]["left"]["format"] == "csv"
    assert written["inputs"]["right"]["format"] == "parquet"
