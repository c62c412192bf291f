"""Write results.parquet chunk by chunk: one row group per chunk, bounded memory."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

COMPRESSION = "zstd"
COMPRESSION_LEVEL = 1  # close to lz4's speed, smaller files; any Parquet reader opens it


class ResultsWriter:
    """Append result chunks (same columns, same types) to one Parquet file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self.rows = 0

    def write(self, chunk: pl.DataFrame) -> None:
        table = chunk.to_arrow()
        if self._writer is None:
            self._schema = table.schema
            self._writer = pq.ParquetWriter(
                self.path,
                table.schema,
                compression=COMPRESSION,
                compression_level=COMPRESSION_LEVEL,
            )
        elif table.schema != self._schema:
            table = table.cast(self._schema)
        if table.num_rows:
            self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
