"""Readers that turn input files into polars frames.

The DBF reader (dbfread, numpy, pyarrow) loads on first use: most runs read CSV or Parquet,
and the command line starts faster without it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["dbf_schema", "read_dbf", "scan_dbf"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from recon.readers import dbf

        return getattr(dbf, name)
    raise AttributeError(f"module 'recon.readers' has no attribute {name!r}")
