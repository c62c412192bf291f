"""Freeze a running embedded server as a whole (SIGSTOP on its processes), for the tests of
what a client does when its service stops answering without closing anything.

``with frozen(server): ...`` stops every process of ``server`` (its ``pids()``: a server
process and what it forked) and always resumes them on leaving, whatever happened inside;
``freeze(server)`` / ``resume(server)`` do the two halves when the resume must happen
elsewhere (in a task's retry callback). A frozen server keeps its listening socket: the kernel
still accepts connections and acknowledges what clients send, so only the clients' own
timeouts can tell.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Protocol

import psutil


class Freezable(Protocol):
    def pids(self) -> list[int]:
        """The server's processes: the one it runs as and every one under it."""
        ...


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process under it (a Postgres postmaster and its backends)."""
    try:
        parent = psutil.Process(pid)
        return [pid, *(child.pid for child in parent.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, sig)


def _thread_states(pid: int) -> list[str]:
    """The scheduler state letter of each thread of ``pid`` (``T`` once stopped)."""
    states = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as stat:
                # the state follows the command name, which is in parentheses and may hold spaces
                states.append(stat.read().rpartition(")")[2].split()[0])
        except (OSError, IndexError):
            continue
    return states


def _wait_stopped(pids: list[int], within: float = 5.0) -> None:
    """Return once every thread of ``pids`` is stopped: ``kill`` returns before a thread
    running on another CPU has stopped, and such a thread could still answer a request."""
    deadline = time.monotonic() + within
    while True:
        running = [pid for pid in pids if any(s not in "TtZX" for s in _thread_states(pid))]
        if not running:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes {running} did not stop within {within:.0f} s")
        time.sleep(0.005)


def freeze(server: Freezable) -> list[int]:
    """SIGSTOP every process of ``server`` and wait until each has stopped; returns them (for
    :func:`resume`)."""
    pids = server.pids()
    if not pids or os.getpid() in pids:
        raise RuntimeError(f"{type(server).__name__} has no process of its own to freeze")
    _signal(pids, signal.SIGSTOP)
    _wait_stopped(pids)
    return pids


def resume(server: Freezable, pids: list[int] | None = None) -> None:
    """SIGCONT the processes :func:`freeze` stopped (and any of the server's now)."""
    _signal(sorted({*(pids or ()), *server.pids()}), signal.SIGCONT)


@contextmanager
def frozen(server: Freezable) -> Iterator[list[int]]:
    """The server frozen inside the block, resumed on leaving it."""
    pids = freeze(server)
    try:
        yield pids
    finally:
        resume(server, pids)


__all__ = ["Freezable", "freeze", "frozen", "process_tree", "resume"]
