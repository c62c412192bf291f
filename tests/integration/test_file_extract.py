"""FileToStagingOperator against real S3 and the staging store: formats, refusals, atomicity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from airflow.sdk.exceptions import AirflowFailException

from recon.files import file_digest
from recon_airflow.operators.file_to_staging import FileToStagingOperator

CSV = b"id;amount;note\nA1;10.00;first\nA2;7.50;=1+1\n"


@pytest.fixture
def staging(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    root = tmp_path / "staging"
    root.mkdir()
    monkeypatch.setenv("RECON_STAGING_DIR", str(root))
    return root


def stage(location: str, snapshot: Path, **kwargs: Any) -> Any:
    operator = FileToStagingOperator(
        task_id="fetch_left",
        location=location,
        source="job-1",
        side="left",
        snapshot_path=str(snapshot),
        **kwargs,
    )
    return operator.execute({})  # type: ignore[arg-type]


def test_a_csv_from_s3_is_staged_as_text(
    net_connections: dict[str, str], s3_clean: Any, staging: Path
) -> None:
    s3_clean.client().put_object(Bucket="recon-staging", Key="in/bank.csv", Body=CSV)
    snapshot = staging / "job" / "left.parquet"
    got = stage("s3://recon-staging/in/bank.csv", snapshot, required_columns=["id", "amount"])
    assert got["rows"] == 2 and got["file"] == "bank.csv" and got["path"] == str(snapshot)
    frame = pl.read_parquet(snapshot)
    assert frame.columns == ["id", "amount", "note"]  # `;` sniffed from the header
    assert frame["amount"].to_list() == ["10.00", "7.50"]  # text: the engine parses, per row
    assert list(snapshot.parent.iterdir()) == [snapshot]  # the download is gone


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx"])
def test_parquet_and_xlsx_from_the_staging_store(staging: Path, suffix: str) -> None:
    frame = pl.DataFrame({"id": ["A1", "A2"], "amount": [10.0, 7.5]})
    source = staging / "drop" / f"ledger{suffix}"
    source.parent.mkdir()
    if suffix == ".xlsx":
        frame.write_excel(source)
    else:
        frame.write_parquet(source)
    got = stage(f"staging:drop/ledger{suffix}", staging / "job" / "right.parquet")
    assert got["rows"] == 2 and got["sha256"] == file_digest(source)
    assert pl.read_parquet(got["path"])["id"].to_list() == ["A1", "A2"]


def test_a_missing_object_is_left_to_retries(
    net_connections: dict[str, str], s3_clean: Any, staging: Path
) -> None:
    with pytest.raises(FileNotFoundError, match="no such object"):
        stage("s3://recon-staging/in/none.csv", staging / "job" / "left.parquet")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"id,amount\nA1,10.00\nA2,7.50,extra\n", "row 2"),
        (b"\xff\xfeid,amount\n", "not valid utf-8 text"),
        (b"id,,amount\nA1,1,2\n", "blank column name"),
    ],
    ids=["field-count", "encoding", "blank-name"],
)
def test_bad_files_fail_for_good_with_the_place_and_keep_the_earlier_snapshot(
    staging: Path, content: bytes, words: str
) -> None:
    snapshot = staging / "job" / "left.parquet"
    snapshot.parent.mkdir()
    pl.DataFrame({"id": ["earlier"]}).write_parquet(snapshot)
    before = snapshot.read_bytes()
    (staging / "bad.csv").write_bytes(content)
    with pytest.raises(AirflowFailException) as caught:
        stage("staging:bad.csv", snapshot)
    text = str(caught.value)
    assert text.startswith("job-1 left: ") and "staging:bad.csv" in text, text
    assert words in text and ".input.csv" not in text, text
    assert snapshot.read_bytes() == before
    assert sorted(p.name for p in snapshot.parent.iterdir()) == ["left.parquet"]


def test_a_header_without_rows_is_an_empty_side(staging: Path) -> None:
    (staging / "empty.csv").write_bytes(b"id,amount\n")
    got = stage("staging:empty.csv", staging / "job" / "left.parquet")
    assert got["rows"] == 0  # every key of the other file is then one-sided, not an error
    assert pl.read_parquet(got["path"]).columns == ["id", "amount"]


def test_missing_required_columns_are_all_named(staging: Path) -> None:
    (staging / "a.csv").write_bytes(b"order_id,amt\nA1,1\n")
    with pytest.raises(AirflowFailException) as caught:
        stage(
            "staging:a.csv",
            staging / "job" / "left.parquet",
            required_columns=["orderid", "amount"],
        )
    text = str(caught.value)
    assert "`orderid`" in text and "did you mean `order_id`?" in text
    assert "`amount`" in text and "2 problems" in text


def test_a_location_that_is_not_one(staging: Path) -> None:
    with pytest.raises(AirflowFailException, match="unknown scheme 'ftp'"):
        stage("ftp://host/a.csv", staging / "job" / "left.parquet")
