"""`make airflow` stops cleanly on SIGTERM as on Ctrl-C (issue 17): every server stopped, the
closing lines printed, exit 0. Run as make runs it (``python -m recon_local.airflow``), with a
small seed of two business dates, against the real servers and a real ``airflow standalone``.

GNU make, itself killed with SIGTERM, exits at once (143) without passing the signal on: the
second test kills the parent and checks that the servers stop all the same.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import psutil
import pytest

from embedded.airflow_settings import REPO_ROOT
from embedded.base import free_port

pytestmark = pytest.mark.slow
CLOSING = ("emails captured: 0, Slack messages: 0", "stopped: Airflow and every local server")


class Output:
    """The lines a process prints, gathered by a thread as they come."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        stream = proc.stdout
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if found := re.search(pattern, line):
                    return found
            if self.proc.poll() is not None:
                break  # it ended without printing it
            time.sleep(0.2)
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.lines))

    def text(self) -> str:
        self._thread.join(timeout=10)
        return "\n".join(self.lines)


def command(home: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "recon_local.airflow",
        *("--home", str(home), "--port", str(port), "--days", "2"),
        *("--positions", "40", "--payments", "40"),
    ]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["PYTHONPATH"] = os.pathsep.join(str(REPO_ROOT / p) for p in ("include", "plugins"))
    return env


def answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until_closed(port: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not answers(port):
            return True
        time.sleep(0.5)
    return False


def healthy(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    raise AssertionError(f"airflow standalone never answered on port {port}")


@contextmanager
def killed_at_exit(procs: list[psutil.Process]) -> Iterator[None]:
    """Whatever the test's outcome, none of the processes it started outlives it."""
    try:
        yield
    finally:
        for proc in procs:
            with suppress(psutil.NoSuchProcess):
                proc.kill()


def started(args: list[str]) -> tuple[subprocess.Popen[str], Output]:
    """``args`` in a session of its own, its output gathered."""
    proc = subprocess.Popen(
        args,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return proc, Output(proc)


def stopped_for_good(tree: list[psutil.Process], out: Output) -> None:
    """The closing lines were printed, and none of the processes is left."""
    assert out.text().splitlines()[-2:] == list(CLOSING)
    left = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not left, [p.cmdline() for p in left]


def test_sigterm_stops_airflow_and_every_server_with_the_closing_lines(tmp_path: Path) -> None:
    port = free_port()
    proc, out = started(command(tmp_path / "home", port))
    tree: list[psutil.Process] = []
    with killed_at_exit(tree):
        out.wait_for(r"^Airflow UI:", timeout=240)
        seeded = out.wait_for(r"seeded aum_recon: 4 registrar files", timeout=5)
        assert "(2026-11-19 to 2026-11-20)" in seeded.string
        pg_port = int(out.wait_for(r"RECON_POSTGRES_URL=\S+:(\d+)/", timeout=5).group(1))
        healthy(port, timeout=240)
        tree += psutil.Process(proc.pid).children(recursive=True)
        assert len(tree) > 2  # airflow standalone and its servers, the embedded MongoDB ...
        assert answers(pg_port)

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 0, out.text()
        assert "SIGTERM: stopping Airflow and the servers ..." in out.text()
        stopped_for_good(tree, out)
        assert wait_until_closed(pg_port) and wait_until_closed(port)


def test_when_its_parent_is_killed_the_servers_stop_too(tmp_path: Path) -> None:
    """As under `make airflow` when make gets the SIGTERM: the parent goes, we stop."""
    port = free_port()
    inner = " ".join(f"'{part}'" for part in command(tmp_path / "home", port))
    # not exec'd: sh stays the parent
    parent, out = started(["/bin/sh", "-c", f"{inner}; echo parent done"])
    tree: list[psutil.Process] = []
    with killed_at_exit(tree):
        out.wait_for(r"^Airflow UI:", timeout=240)
        pg_port = int(out.wait_for(r"RECON_POSTGRES_URL=\S+:(\d+)/", timeout=5).group(1))
        (ours,) = psutil.Process(parent.pid).children()
        tree += [ours, *ours.children(recursive=True)]

        parent.kill()  # SIGKILL: the parent cannot pass anything on
        parent.wait(timeout=10)
        ours.wait(timeout=120)
        stopped_for_good(tree, out)
        assert wait_until_closed(pg_port)
