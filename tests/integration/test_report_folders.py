"""A pipeline partition's reports are replaced as a whole set: a re-run's reports appear
together, never beside an earlier run's (issue 12, item 3, for the pipelines' report folders)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from recon.spec import spec_from_dict
from recon_airflow.operators.reconcile import reconcile_partition

SPEC = spec_from_dict({"name": "s", "keys": ["id"], "compare": {"amount": {"abs_tol": 0.01}}})
INPUTS = {"left": {"file": "l.csv", "rows": 2}, "right": {"file": "r.csv", "rows": 2}}


def run(formats: list[str] | None, rows: int) -> dict[str, str]:
    left = pl.LazyFrame({"id": [str(i) for i in range(rows)], "amount": [1.0] * rows})
    right = pl.LazyFrame({"id": [str(i) for i in range(rows)], "amount": [2.0] * rows})
    outcome = reconcile_partition(
        SPEC, left, right, recon="demo_recon", source="S", business_date="2026-11-20",
        inputs=INPUTS, report_formats=formats,
    )  # fmt: skip
    return outcome["reports"]


def test_a_rerun_replaces_the_report_set_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECON_STAGING_DIR", str(tmp_path / "staging"))
    monkeypatch.setenv("RECON_REPORTS_DIR", str(tmp_path / "reports"))
    first = run(None, 3)
    folder = Path(first["csv"]).parent
    assert sorted(p.name for p in folder.iterdir()) == [
        "breaks.csv", "report.html", "report.json", "report.xlsx",
    ]  # fmt: skip
    second = run(["csv"], 5)
    assert set(second) == {"csv"} and Path(second["csv"]).parent == folder
    assert [p.name for p in folder.iterdir()] == ["breaks.csv"]  # no report of the first run
    assert len(Path(second["csv"]).read_text().splitlines()) == 1 + 5
    assert list(folder.parent.glob(".S.recon-*")) == []  # no work folder left behind
    # the staging partition keeps what else it holds (the snapshots) across the swap
    staging = tmp_path / "staging" / "demo_recon" / "2026-11-20" / "S"
    (staging / "left.parquet").write_bytes(b"snapshot")
    run(["json"], 2)
    assert (staging / "left.parquet").read_bytes() == b"snapshot"
    assert (staging / "results.parquet").exists()
