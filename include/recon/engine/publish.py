"""A run's outputs appear all together or not at all.

A run writes everything (``results.parquet``, ``summary.json``, the reports) into a work folder
beside the output folder, then swaps the two in one step (Linux ``renameat2`` with
``RENAME_EXCHANGE``; elsewhere two renames a moment apart), so a reader sees the previous set
or the new one, never a mix, and a kill or a failed write at any point leaves the previous set
as it was. Whatever else the output folder holds (the pipelines keep their input snapshots
there) is carried into the new one as hard links. The work folder is named for the process
that owns it; the next run removes those of processes that are gone.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_LEGACY_WORK = ".recon-work-"  # work folders of earlier versions, inside the output folder


def work_prefix(out: Path) -> str:
    return f".{out.name}.recon-"


@contextmanager
def published(out: Path, outputs: Iterable[str]) -> Iterator[Path]:
    """Yield a fresh work folder; when the block ends without error it becomes ``out``.

    :param outputs: the names the run writes; everything else in ``out`` is carried over.
    """
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_work(out)
    work = out.parent / f"{work_prefix(out)}{os.getpid()}-{secrets.token_hex(4)}"
    work.mkdir()
    try:
        yield work
        _carry_over(out, work, set(outputs))
        _swap(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the old set after a swap, or a failed run


def remove_stale_work(out: Path) -> list[Path]:
    """Remove the work folders of runs whose process is gone; returns what was removed."""
    removed = []
    candidates = list(out.parent.glob(f"{work_prefix(out)}*")) if out.parent.is_dir() else []
    if out.is_dir():
        candidates += list(out.glob(f"{_LEGACY_WORK}*"))
    for folder in candidates:
        pid = _owner(folder)
        if pid is None or not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _owner(folder: Path) -> int | None:
    if folder.name.startswith(_LEGACY_WORK):
        return None  # no owner recorded: only a dead run leaves one after it ends
    head = folder.name.rsplit(".recon-", 1)[-1].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _carry_over(out: Path, work: Path, outputs: set[str]) -> None:
    """Hard-link (copy where links fail) what ``out`` holds besides the run's outputs."""
    if not out.is_dir():
        return
    for entry in out.iterdir():
        if entry.name in outputs or entry.name.startswith(_LEGACY_WORK):
            continue
        target = work / entry.name
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, target)


def _link_or_copy(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    if os.path.islink(source):
        os.symlink(os.readlink(source), target)
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _swap(work: Path, out: Path) -> None:
    """``out`` becomes what ``work`` holds; ``work`` then holds the old set (or nothing)."""
    if not out.exists():
        os.rename(work, out)  # nothing to keep: the caller's cleanup finds no work folder
        return
    if _exchange(work, out):
        return
    old = out.parent / f"{work.name}-old"
    os.rename(out, old)  # no atomic exchange here: the old set steps aside for a moment
    os.rename(work, out)
    os.rename(old, work)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux 3.15+, glibc 2.28+); False where that is unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


__all__ = ["published", "remove_stale_work", "work_prefix"]
