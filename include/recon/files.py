"""Files as runs leave them: checksums, and replacing a file only once its new content is whole."""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def finite_values(value: Any) -> Any:
    """``value`` with every NaN or infinite float (also inside dicts and lists) as None: JSON has
    no such numbers, and a strict reader refuses ``NaN`` / ``Infinity``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_values(item) for item in value]
    return value


def json_text(value: Any, **options: Any) -> str:
    """Strict JSON of ``value`` (non-finite numbers as null; anything else unknown as text)."""
    return json.dumps(finite_values(value), allow_nan=False, default=str, **options)


def file_digest(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file's bytes (read in chunks: any size)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@contextmanager
def replaced_atomically(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` to write; it replaces ``target`` when the block ends
    without error, and is removed otherwise (``target`` keeps its earlier content)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
