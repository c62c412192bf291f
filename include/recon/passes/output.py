"""A passes run into an output folder: results, matches and summary appear together or not
at all (the keyed engine's publish: ``recon.engine.publish``)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from recon.engine.publish import published
from recon.engine.reconcile import check_out_dir, os_errors_named, output_names, write_summary
from recon.errors import InputFileError
from recon.files import file_digest
from recon.passes.report import write_pass_reports
from recon.passes.run import PassResult, run_passes
from recon.readers.tables import (
    DEFAULT_READ,
    ReadOptions,
    file_format,
    locate_csv_error,
    scan_table,
)
from recon.reports import load_writers
from recon.result import RESULTS_FILE, SUMMARY_FILE
from recon.spec.passes import PassSpec

MATCHES_FILE = "matches.parquet"
PASS_OUTPUTS = (RESULTS_FILE, MATCHES_FILE, SUMMARY_FILE)  # and every report file


def reconcile_passes_to_dir(
    left: pl.LazyFrame,
    right: pl.LazyFrame,
    spec: PassSpec,
    out_dir: str | os.PathLike[str],
    *,
    sources: tuple[str, str] = ("left", "right"),
    inputs: Mapping[str, Mapping[str, Any]] | None = None,
    reports: Iterable[str] = (),
) -> PassResult:
    """Run the passes, then publish ``results.parquet`` (one row per input row),
    ``matches.parquet``, ``summary.json`` and the ``reports`` into ``out_dir`` in one step."""
    out = check_out_dir(out_dir).absolute()
    formats = list(reports)
    if formats:
        load_writers(formats)
    result = run_passes(left, right, spec, sources=sources, inputs=inputs)
    outputs = [*PASS_OUTPUTS, *output_names()]
    with os_errors_named(out), published(out, outputs) as staging:
        result.rows.write_parquet(staging / RESULTS_FILE)
        result.matches.write_parquet(staging / MATCHES_FILE)
        write_summary(staging, result.summary)
        if formats:
            write_pass_reports(result.rows, result.matches, result.summary, staging, formats)
    return result


def compare_pass_files(
    spec: PassSpec,
    left: str | os.PathLike[str],
    right: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    left_options: ReadOptions = DEFAULT_READ,
    right_options: ReadOptions = DEFAULT_READ,
    reports: Iterable[str] = (),
) -> PassResult:
    """Read both files (CSV, Parquet, DBF, XLSX, statements) and run the passes into
    ``out_dir``, with the ``reports`` (html, csv, xlsx, json)."""
    paths = {"left": Path(left), "right": Path(right)}
    options = {"left": left_options, "right": right_options}
    check_out_dir(out_dir)
    frames = {side: scan_table(paths[side], options[side]) for side in paths}
    inputs = {
        side: {"path": str(path), "format": file_format(path), "sha256": file_digest(path)}
        for side, path in paths.items()
    }
    try:
        return reconcile_passes_to_dir(
            frames["left"],
            frames["right"],
            spec,
            out_dir,
            sources=(str(paths["left"]), str(paths["right"])),
            inputs=inputs,
            reports=reports,
        )
    except InputFileError as exc:
        for side, path in paths.items():  # polars' CSV errors name neither row nor byte
            if str(path) == exc.path and file_format(path) == "csv":
                locate_csv_error(path, options[side], exc.reason)
        raise


__all__ = ["MATCHES_FILE", "PASS_OUTPUTS", "compare_pass_files", "reconcile_passes_to_dir"]
