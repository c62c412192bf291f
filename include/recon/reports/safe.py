"""Keep report cells inert in spreadsheets, and report files whole on disk."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import polars as pl

# OWASP "CSV injection": a cell starting with one of these may be read as a formula, and so
# may one whose leading spaces come before one (spreadsheets skip them).
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_PATTERN: Final = r"^([\t\r]|[ \n\x0b\x0c]*[=+\-@])"
_TRIGGER: Final = re.compile(_TRIGGER_PATTERN)
LIST_SEPARATOR: Final = "|"


def neutralized(column: str) -> pl.Expr:
    """A String column with a ``'`` put before every value that starts like a formula.

    A test and a prefix, not a regex replace: the replace rewrites every value (~5x slower).
    """
    value = pl.col(column)
    quoted = pl.concat_str([pl.lit("'"), value])
    return pl.when(value.str.contains(_TRIGGER_PATTERN)).then(quoted).otherwise(value).alias(column)


def neutralize_formulas(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Neutralise formula-looking values in every String column; other dtypes stay as they are.

    Numbers stay numbers (a Float ``-5.0`` is not text a spreadsheet would evaluate). Flatten
    nested columns first (:func:`flat_cells`) so that a joined list is checked as one cell.
    """
    schema = frame.collect_schema()
    strings = [name for name, dtype in schema.items() if dtype == pl.String]
    return frame.with_columns(neutralized(name) for name in strings) if strings else frame


def neutral_text(text: str) -> str:
    """The Python twin of :func:`neutralized`, for the odd value formatted outside polars."""
    return f"'{text}" if _TRIGGER.match(text) else text


def neutral_names(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Column names that start like a formula get the same ``'``: a CSV header is cells too."""
    names = frame.collect_schema().names()
    renamed = {name: neutral_text(name) for name in names if neutral_text(name) != name}
    return frame.rename(renamed) if renamed else frame


def flat_cell(column: str, dtype: pl.DataType) -> pl.Expr | None:
    """An expression that makes a nested or categorical column a plain String one, if needed."""
    if isinstance(dtype, pl.List | pl.Array):
        as_list = pl.col(column).arr.to_list() if isinstance(dtype, pl.Array) else pl.col(column)
        return as_list.list.eval(pl.element().cast(pl.String)).list.join(LIST_SEPARATOR)
    if isinstance(dtype, pl.Struct):
        return pl.col(column).struct.json_encode()
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return pl.col(column).cast(pl.String)
    return None


def flat_cells(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Lists joined with ``|``, structs as JSON text, categoricals as strings: one value a cell."""
    flattened = [
        expr
        for name, dtype in frame.collect_schema().items()
        if (expr := flat_cell(name, dtype)) is not None
    ]
    return frame.with_columns(flattened) if flattened else frame


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` and move it into place only if writing succeeded.

    A failed run never leaves a half-written report where yesterday's complete one was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
