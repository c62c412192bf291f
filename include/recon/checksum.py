"""The SHA-256 of a file, as summaries, snapshots and the audit trail record it."""

from __future__ import annotations

import hashlib
import os


def file_digest(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file's bytes (read in chunks: any size)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
