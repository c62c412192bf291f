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


def freeze(server: Freezable) -> list[int]:
    """SIGSTOP every process of ``server``; returns them (for :func:`resume`)."""
    pids = server.pids()
    if not pids or os.getpid() in pids:
        raise RuntimeError(f"{type(server).__name__} has no process of its own to freeze")
    _signal(pids, signal.SIGSTOP)
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
