"""The aum_recon pieces that are plain functions: business dates, config, tolerance, combine."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest
from airflow.sdk.exceptions import AirflowFailException

from recon.engine.combine import SOURCE_COLUMN, combine_results
from recon.engine.reconcile import reconcile_to_dir
from recon.errors import ReconError, SpecError
from recon.pipeline_config.aum import load_aum_config
from recon.readers.dbf import read_dbf
from recon.spec import load_spec
from recon_airflow.dates import business_date_for, business_date_of
from recon_airflow.operators.reconcile import with_tolerance
from recon_airflow.pipelines.aum import DAYS_BEFORE, TIMEZONE
from worlds.aum import REGISTRAR_AMCS, generate_aum, ledger_positions

IST_MORNING = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)  # 07:30 IST on the 21st


def run(param: str | None, logical: dt.datetime | None) -> dict[str, Any]:
    """A task's context as far as the business date goes: the param and the run's date."""
    return {"params": {"business_date": param}, "dag_run": SimpleNamespace(logical_date=logical)}


@pytest.mark.parametrize(
    ("param", "logical", "expected"),
    [
        ("2026-11-03", IST_MORNING, dt.date(2026, 11, 3)),  # the form's date wins
        (None, IST_MORNING, dt.date(2026, 11, 20)),  # the day before, in IST
        # 20:00 UTC on the 20th is already the 21st in India: still the 20th's business day
        (None, dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC), dt.date(2026, 11, 20)),
    ],
    ids=["param", "scheduled", "utc-evening"],
)
def test_business_date(param: str | None, logical: dt.datetime, expected: dt.date) -> None:
    assert (
        business_date_of(run(param, logical), timezone=TIMEZONE, days_before=DAYS_BEFORE)
        == expected
    )


def test_business_date_refuses_what_is_not_a_date() -> None:
    with pytest.raises(AirflowFailException, match="not a date; use YYYY-MM-DD"):
        business_date_of(run("20/11/2026", IST_MORNING), timezone=TIMEZONE, days_before=1)
    with pytest.raises(AirflowFailException, match="no logical date"):
        business_date_of(run(None, None), timezone=TIMEZONE, days_before=1)
    assert business_date_for(None, None) is None


def test_pipeline_config_errors_name_the_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "aum.yaml"
    bad.write_text(
        "recon: aum_recon\nregistrars: {CAMS: {spec: x.yaml}}\nreports: {s3_bucket: b}\n"
    )
    with pytest.raises(SpecError) as caught:
        load_aum_config(bad)
    message = str(caught.value)
    assert str(bad) in message and "registrars.CAMS.remote_path" in message
    config = load_aum_config()
    assert set(config.registrars) == set(REGISTRAR_AMCS)
    assert config.owner_of()["K"] == "KARVY"
    assert config.registrar("CAMS").remote_file(dt.date(2026, 11, 20)).endswith("20261120.dbf")
    with pytest.raises(SpecError, match="unknown registrar 'NSDL'"):
        config.registrar("NSDL")


def _cams(tmp_path: Path) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    sample = generate_aum(tmp_path / "in", positions=80, seed=3)
    left = read_dbf(sample.holdings["CAMS"]).lazy()
    right = ledger_positions(
        pl.scan_parquet(sample.ledger), sample.business_date, REGISTRAR_AMCS["CAMS"]
    )
    return left, right


def test_tolerance_override_changes_what_matches(tmp_path: Path) -> None:
    spec = load_spec("config/specs/aum_cams.yaml")
    left, right = _cams(tmp_path)
    strict = reconcile_to_dir(left, right, spec, tmp_path / "strict").summary["counts"]
    loose_spec = with_tolerance(spec, "1000000")
    assert loose_spec.compare["units"].abs_tol == 1_000_000
    assert spec.compare["units"].abs_tol == 0.001  # the loaded spec is untouched
    loose = reconcile_to_dir(left, right, loose_spec, tmp_path / "loose").summary["counts"]
    assert strict["mismatched"] > 0 and loose["mismatched"] == 0
    assert loose["matched"] == strict["matched"] + strict["mismatched"]
    assert with_tolerance(spec, None) is spec and with_tolerance(spec, "") is spec
    with pytest.raises(AirflowFailException, match="not a number"):
        with_tolerance(spec, "lots")
    with pytest.raises(AirflowFailException, match=">= 0"):
        with_tolerance(spec, -1)


def test_combined_result_keeps_every_row_and_names_the_source(tmp_path: Path) -> None:
    spec = load_spec("config/specs/aum_cams.yaml")
    left, right = _cams(tmp_path)
    parts = {}
    for source in ("A", "B"):
        reconcile_to_dir(left, right, spec, tmp_path / source)
        parts[source] = tmp_path / source
    path, summary = combine_results(parts, spec, tmp_path / "all", name="both")
    one = json.loads((tmp_path / "A" / "summary.json").read_text())
    assert summary["total_keys"] == 2 * one["total_keys"]
    assert summary["row_conservation"]["ok"] is True
    assert summary["keys"][0] == SOURCE_COLUMN and summary["sources"] == ["A", "B"]
    frame = pl.read_parquet(path)
    assert frame.get_column(SOURCE_COLUMN).value_counts().sort(SOURCE_COLUMN)[
        "count"
    ].to_list() == [
        one["total_keys"],
        one["total_keys"],
    ]
    with pytest.raises(ReconError, match="nothing to combine"):
        combine_results({}, spec, tmp_path / "none", name="none")


def test_reports_stay_local_when_no_s3_connection_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recon_airflow.report_archive import publish_reports, s3_configured

    monkeypatch.delenv("AIRFLOW_CONN_RECON_S3", raising=False)
    report = tmp_path / "report.html"
    report.write_text("<html></html>")
    outcome: Any = {
        "recon": "aum_recon",
        "business_date": "2026-11-20",
        "source": "CAMS",
        "reports": {"html": str(report)},
        "report_links": {},
    }
    assert s3_configured("recon_s3") is False
    published = publish_reports(
        outcome, s3_conn_id="recon_s3", bucket="recon-reports", prefix="reports", expires_in=60
    )
    assert published["report_links"] == {"html": report.as_uri()}
