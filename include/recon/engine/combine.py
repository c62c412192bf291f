"""Several sources' results as one: the combined report of a pipeline run.

Each source was reconciled with its own spec but the same canonical keys and compare fields;
the combined result stacks their results.parquet files with a leading ``source`` column and
summarises them as one run (row conservation included).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from recon.engine.reconcile import write_summary
from recon.engine.summary import summarize
from recon.errors import ReconError
from recon.result import RESULTS_FILE, SUMMARY_FILE
from recon.spec import ReconSpec

SOURCE_COLUMN = "source"


def combine_results(
    parts: Mapping[str, Path], spec: ReconSpec, out_dir: Path, *, name: str
) -> tuple[Path, dict[str, Any]]:
    """Stack ``{source: result folder}`` into ``out_dir/results.parquet`` and summarise it.

    :param spec: any of the sources' specs (compare fields, amount and thresholds are shared).
    :param name: the combined run's name in the summary.
    """
    if not parts:
        raise ReconError("nothing to combine: no source produced a result")
    frames, input_rows = [], {"left": 0, "right": 0}
    for source, folder in parts.items():
        summary = json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8"))
        for side in input_rows:
            input_rows[side] += int(summary["row_conservation"][side]["input_rows"])
        frames.append(
            pl.scan_parquet(folder / RESULTS_FILE).select(
                pl.lit(source).alias(SOURCE_COLUMN), pl.all()
            )
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    staged = out_dir / f".{RESULTS_FILE}.partial"
    pl.concat(frames, how="vertical_relaxed").sink_parquet(staged, compression="lz4")
    combined = spec.model_copy(update={"name": name})
    summary = summarize(pl.scan_parquet(staged), combined, input_rows=input_rows)
    summary["keys"] = [SOURCE_COLUMN, *summary["keys"]]
    summary["sources"] = sorted(parts)
    staged.replace(out_dir / RESULTS_FILE)
    write_summary(out_dir, summary)
    return out_dir / RESULTS_FILE, summary
