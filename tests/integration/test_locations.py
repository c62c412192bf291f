"""File locations of the ad-hoc recons: parsed strictly, fetched from real S3, SFTP and staging."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from recon_airflow.locations import Location, fetch, parse_location

PAYLOAD = b"id,amount\nA1,10.00\nA2,=1+1\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3://recon-staging/in/left.csv", Location("s3", "recon-staging", "in/left.csv")),
        ("sftp://recon_sftp/inbox/a b.csv", Location("sftp", "recon_sftp", "/inbox/a b.csv")),
        ("staging:uploads/job-1/left.csv", Location("staging", "", "uploads/job-1/left.csv")),
        ("uploads/job-1/left.csv", Location("staging", "", "uploads/job-1/left.csv")),
    ],
)
def test_locations_parse(text: str, expected: Location) -> None:
    assert parse_location(text) == expected
    assert parse_location(str(expected)) == expected  # the canonical form reads back the same


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "no file location given"),
        ("ftp://host/file.csv", "unknown scheme 'ftp'"),
        ("s3://bucket-only", "needs a bucket and key"),
        ("s3://bucket/folder/", "needs a bucket and key"),
        ("sftp:///inbox/file.csv", "needs a connection id and file path"),
        ("staging:../../etc/passwd", "relative path inside the staging store"),
        ("/etc/passwd", "relative path inside the staging store"),
    ],
)
def test_bad_locations_say_why_and_what_is_accepted(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why) as raised:
        parse_location(text)
    assert "\n" not in str(raised.value)


def test_fetch_from_s3(net_connections: dict[str, str], s3_clean: Any, tmp_path: Path) -> None:
    s3_clean.client().put_object(Bucket="recon-staging", Key="in/left.csv", Body=PAYLOAD)
    got = fetch(
        parse_location("s3://recon-staging/in/left.csv"), tmp_path / "l.csv", staging=tmp_path
    )
    assert got.read_bytes() == PAYLOAD


def test_fetch_from_sftp_with_the_host_key_verified(
    net_connections: dict[str, str], sftp_clean: Any, tmp_path: Path
) -> None:
    remote = sftp_clean.put("inbox/right.csv", PAYLOAD)
    got = fetch(parse_location(f"sftp://recon_sftp{remote}"), tmp_path / "r.csv", staging=tmp_path)
    assert got.read_bytes() == PAYLOAD


def test_fetch_from_staging(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    (staging / "uploads").mkdir(parents=True)
    (staging / "uploads" / "a.csv").write_bytes(PAYLOAD)
    got = fetch(parse_location("uploads/a.csv"), tmp_path / "out" / "a.csv", staging=staging)
    assert got.read_bytes() == PAYLOAD


def test_missing_files_are_not_found_and_leave_nothing(
    net_connections: dict[str, str], s3_clean: Any, sftp_clean: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    for text in (
        "s3://recon-staging/nope.csv",
        "sftp://recon_sftp/inbox/nope.csv",
        "staging:nope.csv",
    ):
        with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
            fetch(parse_location(text), out / "x.csv", staging=tmp_path)
    assert list(out.iterdir()) == []  # no partial or temporary file left


def test_an_sftp_connection_that_skips_host_keys_is_refused(
    net_connections: dict[str, str],
    sftp_clean: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    conn = json.loads(net_connections["AIRFLOW_CONN_RECON_SFTP"])
    extra = conn.get("extra") or {}
    extra = json.loads(extra) if isinstance(extra, str) else extra
    conn["extra"] = {k: v for k, v in extra.items() if k != "host_key"} | {
        "no_host_key_check": "true"
    }
    monkeypatch.setenv("AIRFLOW_CONN_RECON_SFTP", json.dumps(conn))
    with pytest.raises(AirflowFailException, match="skips host key verification"):
        fetch(parse_location("sftp://recon_sftp/inbox/x.csv"), tmp_path / "x.csv", staging=tmp_path)
