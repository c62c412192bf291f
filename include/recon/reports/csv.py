"""``breaks.csv``: every break row with the results' own column names, streamed to disk.

A break is a row the grouping does not call matched: with a classification that includes rows
the core matched but the break type lists (``timing``); the ``break_type`` column says which.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from recon.reports.labels import Grouping
from recon.reports.safe import flat_cells, neutral_names, neutralize_formulas, replacing
from recon.reports.view import break_rows, by_break_amount, checked_schema, key_columns


def csv_breaks(results: pl.LazyFrame, summary: Mapping[str, Any]) -> pl.LazyFrame:
    """The rows of ``breaks.csv``: breaks, largest first, flat and formula-safe."""
    grouping = Grouping.from_summary(summary)
    keys = key_columns(checked_schema(results, grouping), summary)
    return (
        results.pipe(break_rows, grouping)
        .pipe(by_break_amount, keys)
        .pipe(flat_cells)
        .pipe(neutralize_formulas)
        .pipe(neutral_names)
    )


def write_csv(results: pl.LazyFrame, summary: Mapping[str, Any], path: Path) -> Path:
    """Write every break to ``path`` as plain CSV (header row, then data) without collecting it."""
    with replacing(path) as partial:
        try:
            csv_breaks(results, summary).sink_csv(partial, date_format="%Y-%m-%d")
        except OSError as exc:
            raise _with_errno(exc, path) from None
    return path


def _with_errno(exc: OSError, path: Path) -> OSError:
    """polars raises a failed write (a file-size limit, a full disk) as an OSError whose errno
    is only in its text (``File too large (os error 27)``): give it back its errno and path."""
    found = re.search(r"os error (\d+)", str(exc))
    if exc.errno is not None or found is None:
        return exc
    code = int(found.group(1))
    return OSError(code, os.strerror(code), str(path))
