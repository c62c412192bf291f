"""The core's entry points: reconcile two frames, or two files into an output folder."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from recon.errors import InputFileError, ReconError
from recon.matching import match
from recon.prepare import make_plan, prepare
from recon.readers.tables import DEFAULT_READ, ReadOptions, check_utf8, file_format, scan_table
from recon.result import RESULTS_FILE, SUMMARY_FILE
from recon.spec import ReconSpec
from recon.summary import summarize

HASH_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class ReconResult:
    results: pl.DataFrame
    summary: dict[str, Any]


def reconcile(
    left: pl.LazyFrame,
    right: pl.LazyFrame,
    spec: ReconSpec,
    *,
    sources: tuple[str, str] = ("left", "right"),
    inputs: dict[str, dict[str, Any]] | None = None,
) -> ReconResult:
    """Reconcile two frames under ``spec``; every input row ends in exactly one status."""
    started = time.perf_counter()
    plan = make_plan(spec, _schema(left, sources[0]), _schema(right, sources[1]), sources)
    prepared_left = prepare(left, plan, "left", sources[0])
    prepared_right = prepare(right, plan, "right", sources[1])
    results = match(prepared_left, prepared_right, plan)
    summary = summarize(
        results,
        spec,
        input_rows={"left": prepared_left.input_rows, "right": prepared_right.input_rows},
        inputs=inputs,
    )
    summary["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    summary["duration_seconds"] = round(time.perf_counter() - started, 3)
    return ReconResult(results, summary)


def compare_files(
    spec: ReconSpec,
    left: str | os.PathLike[str],
    right: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    left_options: ReadOptions = DEFAULT_READ,
    right_options: ReadOptions = DEFAULT_READ,
    reports: Iterable[str] = ("html", "csv", "xlsx", "json"),
) -> ReconResult:
    """Read both files, reconcile, and write results.parquet, summary.json and the reports."""
    paths = {"left": Path(left), "right": Path(right)}
    check_out_dir(out_dir)
    frames = {
        "left": scan_table(paths["left"], left_options),
        "right": scan_table(paths["right"], right_options),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:  # checksums overlap the reconciliation
        digests = {side: pool.submit(file_digest, path) for side, path in paths.items()}
        try:
            result = reconcile(
                frames["left"],
                frames["right"],
                spec,
                sources=(str(paths["left"]), str(paths["right"])),
            )
        except InputFileError as exc:
            _locate_encoding_error(exc, paths, (left_options, right_options))
            raise
        inputs = {
            side: {"path": str(path), "format": file_format(path), "sha256": digests[side].result()}
            for side, path in paths.items()
        }
    for side in ("left", "right"):
        result.summary["inputs"][side] = {**inputs[side], **result.summary["inputs"][side]}
    write_outputs(result, out_dir, reports=reports)
    return result


def write_outputs(
    result: ReconResult, out_dir: str | os.PathLike[str], *, reports: Iterable[str] = ()
) -> dict[str, Path]:
    """results.parquet + summary.json, written atomically, then the reports asked for."""
    out = check_out_dir(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReconError(f"{out}: cannot create the output folder: {exc.strerror}") from None
    written = {
        "results": _atomic(out / RESULTS_FILE, lambda p: result.results.write_parquet(p)),
        "summary": _atomic(
            out / SUMMARY_FILE,
            lambda p: p.write_text(json.dumps(result.summary, indent=2, default=str) + "\n"),
        ),
    }
    formats = list(reports)
    if formats:
        from recon.reports import write_reports

        written.update(write_reports(result.results, result.summary, out, formats))
    return written


def check_out_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Refuse an output path that cannot be a folder before any work is done."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ReconError(
            f"{out}: the output path exists and is not a folder (choose another --out)"
        )
    return out


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _schema(frame: pl.LazyFrame, source: str) -> pl.Schema:
    try:
        return frame.collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(source, f"cannot read: {str(exc).splitlines()[0]}") from None


def _locate_encoding_error(
    exc: InputFileError, paths: dict[str, Path], options: tuple[ReadOptions, ReadOptions]
) -> None:
    """polars only says 'invalid utf-8': find the byte, row and a hint ourselves."""
    if "utf-8" not in exc.reason.lower():
        return
    for path, opts in zip(paths.values(), options, strict=True):
        if str(path) == exc.path and file_format(path) == "csv" and opts.encoding is None:
            check_utf8(path, opts.encoding_option)


def _atomic(target: Path, write: Any) -> Path:
    """Write to a temporary name and rename, so a failed run never leaves a half file."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        write(tmp)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


__all__ = ["ReconError", "ReconResult", "compare_files", "reconcile", "write_outputs"]
