"""SftpDbfToStagingOperator against the embedded SFTP server, with real CAMS and KARVY files.

Bad data fails for good (AirflowFailException naming file, record, column and a hint); a missing
file or an SSH failure is transient. No failure leaves a temp file or touches an earlier snapshot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncssh
import paramiko
import polars as pl
import pytest
from airflow.sdk.exceptions import AirflowFailException
from polars.testing import assert_frame_equal

from embedded.base import connection_env
from embedded.sftp import EmbeddedSftp, public_key_line
from recon.readers.dbf import read_dbf
from recon_airflow.operators.report_dates import report_date_problems
from recon_airflow.operators.sftp_dbf_to_staging import SftpDbfToStagingOperator
from recon_airflow.operators.verified_sftp_sensor import VerifiedSFTPSensor
from worlds.aum import FIELDS, LAYOUT, AumSample, generate_aum, holdings_file_name
from worlds.dbf_write import write_dbf

BUSINESS_DATE = dt.date(2026, 11, 20)
EARLIER_SNAPSHOT = b"PAR1 the snapshot of an earlier run"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> AumSample:
    return generate_aum(tmp_path_factory.mktemp("aum"), positions=100, business_date=BUSINESS_DATE)


@pytest.fixture
def server(sftp_clean: EmbeddedSftp, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedSftp]:
    """The SFTP server, empty, with its ``AIRFLOW_CONN_*`` variables set."""
    for name, value in connection_env(sftp_clean).items():
        monkeypatch.setenv(name, value)
    yield sftp_clean


def fetch(
    registrar: str, remote: str, snapshot: Path, **overrides: object
) -> SftpDbfToStagingOperator:
    layout = LAYOUT[registrar]
    arguments: dict[str, object] = {
        "task_id": f"fetch_{registrar.lower()}",
        "source": registrar,
        "remote_path": remote,
        "business_date": BUSINESS_DATE.isoformat(),
        "report_date_field": layout["report_date"],
        "report_date_format": layout["date_format"],
        "snapshot_path": str(snapshot),
        "required_columns": [layout[k] for k in ("folio", "amc_code", "product", "units")],
        **overrides,
    }
    return SftpDbfToStagingOperator(**arguments)  # type: ignore[arg-type]


def connection_variant(monkeypatch: pytest.MonkeyPatch, conn_id: str, **extra: object) -> str:
    body = json.loads(os.environ["AIRFLOW_CONN_RECON_SFTP"])
    body["extra"].update(extra)
    body["extra"] = {k: v for k, v in body["extra"].items() if v is not None}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(body))
    return conn_id


def cams_file(
    sample: AumSample, tmp_path: Path, change: Callable[[pl.DataFrame], pl.DataFrame]
) -> bytes:
    """The sample's CAMS file with ``change`` applied to its records, as bytes."""
    frame = change(read_dbf(sample.holdings["CAMS"]))  # same columns, maybe renamed
    fields = [(name, *spec[1:]) for name, spec in zip(frame.columns, FIELDS["CAMS"], strict=True)]
    write_dbf(tmp_path / "custom.dbf", frame, fields, encoding="cp1252")
    return (tmp_path / "custom.dbf").read_bytes()


# happy paths --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registrar", "conn_id"),
    [("CAMS", "recon_sftp"), ("KARVY", "recon_sftp"), ("CAMS", "recon_sftp_key")],
    ids=["cams", "karvy", "cams-key-login"],
)
def test_stages_the_registrars_file_as_read(
    server: EmbeddedSftp, sample: AumSample, tmp_path: Path, registrar: str, conn_id: str
) -> None:
    original = sample.holdings[registrar]
    remote = server.put(f"inbox/{registrar.lower()}/{original.name}", original.read_bytes())
    snapshot = tmp_path / "staging" / "aum_recon" / "2026-11-20" / registrar / "left.parquet"

    result = fetch(registrar, remote, snapshot, sftp_conn_id=conn_id).execute({})

    expected = read_dbf(original)
    assert result == {
        "source": registrar,
        "path": str(snapshot),
        "rows": expected.height,
        "sha256": hashlib.sha256(original.read_bytes()).hexdigest(),
        "file": holdings_file_name(registrar, BUSINESS_DATE),
    }
    assert_frame_equal(pl.read_parquet(snapshot), expected)
    assert os.listdir(snapshot.parent) == ["left.parquet"]  # no temp file left


def test_a_rerun_replaces_the_snapshot(
    server: EmbeddedSftp, sample: AumSample, tmp_path: Path
) -> None:
    remote = server.put("inbox/cams.dbf", sample.holdings["CAMS"].read_bytes())
    snapshot = tmp_path / "CAMS" / "left.parquet"
    snapshot.parent.mkdir()
    snapshot.write_bytes(EARLIER_SNAPSHOT)

    fetch("CAMS", remote, snapshot).execute({})

    assert_frame_equal(pl.read_parquet(snapshot), read_dbf(sample.holdings["CAMS"]))


def test_arguments_are_templated(tmp_path: Path) -> None:
    op = fetch(
        "CAMS",
        "/inbox/cams_holdings_{{ ds_nodash }}.dbf",
        tmp_path / "{{ ds }}" / "left.parquet",
        business_date="{{ ds }}",
        sftp_conn_id="no_such_connection",  # nothing is looked up before execute
    )

    op.render_template_fields({"ds": "2026-11-20", "ds_nodash": "20261120"})

    assert op.remote_path == "/inbox/cams_holdings_20261120.dbf"
    assert op.snapshot_path == str(tmp_path / "2026-11-20" / "left.parquet")
    assert op.business_date == "2026-11-20"


# transient failures: retries apply --------------------------------------------------------


def test_a_missing_remote_file_is_transient_and_named(server: EmbeddedSftp, tmp_path: Path) -> None:
    snapshot = tmp_path / "CAMS" / "left.parquet"

    with pytest.raises(FileNotFoundError, match=r"/inbox/cams_holdings_20261120\.dbf") as raised:
        fetch("CAMS", "/inbox/cams_holdings_20261120.dbf", snapshot).execute({})

    assert "recon_sftp" in str(raised.value)
    assert os.listdir(snapshot.parent) == []


def test_a_wrong_host_key_is_refused_at_once_and_transient(
    server: EmbeddedSftp, sample: AumSample, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    remote = server.put("inbox/cams.dbf", sample.holdings["CAMS"].read_bytes())
    impostor = public_key_line(asyncssh.generate_private_key("ssh-ed25519"))
    conn_id = connection_variant(monkeypatch, "recon_sftp_impostor", host_key=impostor)
    snapshot = tmp_path / "CAMS" / "left.parquet"

    started = time.monotonic()
    with pytest.raises(ConnectionError, match="recon_sftp_impostor") as raised:
        fetch("CAMS", remote, snapshot, sftp_conn_id=conn_id).execute({})

    assert time.monotonic() - started < 3  # one attempt, not three 3-5 s apart
    assert not isinstance(raised.value, AirflowFailException)
    assert isinstance(raised.value.__cause__, paramiko.BadHostKeyException)
    assert remote in str(raised.value)
    assert server.password not in str(raised.value)
    assert os.listdir(snapshot.parent) == []


def test_a_connection_that_skips_the_host_key_check_is_refused(
    server: EmbeddedSftp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conn_id = connection_variant(
        monkeypatch, "recon_sftp_unchecked", host_key=None, no_host_key_check="true"
    )

    with pytest.raises(AirflowFailException, match="skips host key verification"):
        fetch("CAMS", "/inbox/x.dbf", tmp_path / "left.parquet", sftp_conn_id=conn_id).execute({})


# bad data: fails for good, and leaves the earlier snapshot alone ---------------------------


def _truncated(sample: AumSample, tmp_path: Path) -> bytes:
    data = sample.holdings["CAMS"].read_bytes()
    header_len, record_len = struct.unpack("<HH", data[8:12])
    return data[: header_len + 50 * record_len + 7]  # record 51 is cut in the middle


def _corrupt_header(sample: AumSample, tmp_path: Path) -> bytes:
    return sample.holdings["CAMS"].read_bytes()[:20]


def _another_day(sample: AumSample, tmp_path: Path) -> bytes:
    return cams_file(sample, tmp_path, lambda f: f.with_columns(REP_DATE=pl.lit("11/19/2026")))


def _iso_date_in_record_3(sample: AumSample, tmp_path: Path) -> bytes:
    def change(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(REP_DATE=frame["REP_DATE"].scatter(2, "2026-11-20"))

    return cams_file(sample, tmp_path, change)


def _renamed_columns(sample: AumSample, tmp_path: Path) -> bytes:
    return cams_file(
        sample, tmp_path, lambda f: f.rename({"FOLIO_NO": "FOLIO_NUM", "CLOS_BAL": "BALANCE"})
    )


def _wrong_code_page(sample: AumSample, tmp_path: Path) -> bytes:
    """Written in cp437 (ü is 0x81) but declaring cp1252, where 0x81 is no character."""
    frame = read_dbf(sample.holdings["CAMS"]).with_columns(pl.col("SCHEME").str.replace("–", "-"))
    frame = frame.with_columns(INV_NAME=frame["INV_NAME"].scatter(4, "Jürgen Müller"))
    write_dbf(tmp_path / "cp437.dbf", frame, FIELDS["CAMS"], encoding="cp437")
    data = bytearray((tmp_path / "cp437.dbf").read_bytes())
    data[29] = 0x03  # the language byte of cp1252
    return bytes(data)


@pytest.mark.parametrize(
    ("make_file", "words"),
    [
        (_truncated, ["truncated", "row 51", "fetch it again"]),
        (_corrupt_header, ["corrupt header"]),
        (
            _another_day,
            [
                "wrong report date",
                "column `REP_DATE`",
                "differ from the business date 2026-11-20 (found 2026-11-19 in ",
                "record 1 holds '11/19/2026'",
                "ask for the 2026-11-20 file or re-run for 2026-11-19",
            ],
        ),
        (
            _iso_date_in_record_3,
            [
                "unreadable report date: 1 of ",
                "no date in the format '%m/%d/%Y'",
                "record 3 holds '2026-11-20'",
                "report_date_format",
            ],
        ),
        (
            _renamed_columns,
            [
                "2 problems",
                "column `FOLIO_NO`: required column missing (did you mean `FOLIO_NUM`?)",
                "column `CLOS_BAL`: required column missing (the file's columns are FOLIO_NUM, ",
            ],
        ),
        (
            _wrong_code_page,
            ["row 5", "column `INV_NAME`", "is not valid cp1252", "encoding="],
        ),
    ],
    ids=[
        "truncated",
        "corrupt-header",
        "another-day",
        "unparseable-date",
        "missing-columns",
        "wrong-code-page",
    ],
)
def test_bad_data_fails_for_good_and_keeps_the_earlier_snapshot(
    server: EmbeddedSftp,
    sample: AumSample,
    tmp_path: Path,
    make_file: Callable[[AumSample, Path], bytes],
    words: list[str],
) -> None:
    remote = server.put("inbox/cams/cams_holdings_20261120.dbf", make_file(sample, tmp_path))
    snapshot = tmp_path / "staging" / "CAMS" / "left.parquet"
    snapshot.parent.mkdir(parents=True)
    snapshot.write_bytes(EARLIER_SNAPSHOT)

    with pytest.raises(AirflowFailException) as raised:
        fetch("CAMS", remote, snapshot).execute({})

    message = str(raised.value)
    assert message.startswith("CAMS 2026-11-20: ")
    assert remote in message
    for word in words:
        assert word in message
    assert ".part" not in message  # the temp file's name never replaces the remote one
    assert os.listdir(snapshot.parent) == ["left.parquet"]
    assert snapshot.read_bytes() == EARLIER_SNAPSHOT


def test_encoding_overrides_a_wrongly_declared_code_page(
    server: EmbeddedSftp, sample: AumSample, tmp_path: Path
) -> None:
    remote = server.put("inbox/cams.dbf", _wrong_code_page(sample, tmp_path))
    snapshot = tmp_path / "left.parquet"

    fetch("CAMS", remote, snapshot, encoding="cp437").execute({})

    assert pl.read_parquet(snapshot)["INV_NAME"][4] == "Jürgen Müller"


def test_a_date_error_names_the_record_as_the_file_counts_it(
    server: EmbeddedSftp, sample: AumSample, tmp_path: Path
) -> None:
    """Deleted records count: record 4 is the fourth in the file, though the third read."""
    frame = read_dbf(sample.holdings["CAMS"]).head(6)
    frame = frame.with_columns(REP_DATE=frame["REP_DATE"].scatter(3, "11/21/2026"))
    deleted = [False, True, False, False, False, False]
    write_dbf(tmp_path / "d.dbf", frame, FIELDS["CAMS"], deleted=deleted)
    remote = server.put("inbox/cams.dbf", (tmp_path / "d.dbf").read_bytes())

    with pytest.raises(AirflowFailException) as raised:
        fetch("CAMS", remote, tmp_path / "left.parquet").execute({})

    assert "1 of 5 records" in str(raised.value)
    assert "record 4 holds '11/21/2026'" in str(raised.value)
    assert "the file mixes report dates" in str(raised.value)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            [BUSINESS_DATE, None, dt.date(2026, 11, 21)],
            [
                "/x.dbf, column `REP_DT`: unreadable report date: 1 of 3 records hold no date; "
                "record 2 holds no report date",
                "/x.dbf, column `REP_DT`: wrong report date: 1 of 3 records differ from the "
                "business date 2026-11-20 (found 2026-11-21 in 1 record); record 3 holds 2026-11-21",
            ],
        ),
        (
            ["20/11/2026", "21/11/2026", " 21/11/2026", "", "11/21/2026"],
            [
                "/x.dbf, column `REP_DT`: unreadable report date: 2 of 5 records hold no date in "
                "the format '%d/%m/%Y'; record 4 holds no report date",
                "/x.dbf, column `REP_DT`: wrong report date: 2 of 5 records differ from the "
                "business date 2026-11-20 (found 2026-11-21 in 2 records); record 2 holds "
                "'21/11/2026'",
            ],
        ),
        (["20/11/2026", "20/11/2026"], []),
    ],
    ids=["date-field", "text-field", "all-right"],
)
def test_report_date_problems(values: list[object], expected: list[str]) -> None:
    frame = pl.DataFrame({"REP_DT": values})

    problems = report_date_problems(
        frame, field="REP_DT", date_format="%d/%m/%Y", business_date=BUSINESS_DATE, file="/x.dbf"
    )

    assert [f"{p.path}, column `{p.column}`: {p.message}" for p in problems] == expected


# VerifiedSFTPSensor: the wait before the fetch ------------------------------------------------------


def test_sftp_sensor_pokes_for_a_present_and_an_absent_file(server: EmbeddedSftp) -> None:
    """One poke each, as a reschedule-mode sensor does per try (the connection's host key holds)."""
    remote = server.put("inbox/cams/cams_holdings_20261120.dbf", b"\x03")

    def poke(path: str, file_pattern: str = "") -> object:
        sensor = VerifiedSFTPSensor(
            task_id="wait_for_cams",
            path=path,
            file_pattern=file_pattern,
            sftp_conn_id="recon_sftp",
            mode="reschedule",
            poke_interval=300,
            timeout=6 * 3600,
        )
        return sensor.poke({})

    assert poke(remote) is True
    assert poke("/inbox/cams/cams_holdings_20261121.dbf") is False
    assert poke("/inbox/cams", file_pattern="cams_holdings_20261120.dbf") is True
    assert poke("/inbox/cams", file_pattern="cams_holdings_20261121.dbf") is False


def test_the_sensor_refuses_a_connection_that_skips_the_host_key_check(
    server: EmbeddedSftp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every SFTP touch goes through the one guarded path (issue 12, item 12)."""
    remote = server.put("inbox/cams/cams_holdings_20261120.dbf", b"\x03")
    conn_id = connection_variant(
        monkeypatch, "recon_sftp_unchecked", host_key=None, no_host_key_check="true"
    )
    sensor = VerifiedSFTPSensor(task_id="wait", path=remote, sftp_conn_id=conn_id)
    with pytest.raises(AirflowFailException, match="skips host key verification"):
        sensor.poke({})
