"""The core's entry points: reconcile two frames in memory, or two inputs into an output folder."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from recon.engine.matching import match
from recon.engine.partitions import count_rows, partition_count, partitioned_sides
from recon.engine.prepare import (
    Plan,
    Prepared,
    SideQuery,
    finish,
    make_plan,
    prepare,
    read_error,
    side_query,
)
from recon.engine.publish import published
from recon.engine.schema_diff import compare_schemas, refuse_differences
from recon.engine.streamed import screen, stream_results
from recon.engine.summary import Figures, add_figures, figures_of, summarize
from recon.engine.writer import write_results
from recon.errors import InputFileError, ReconError
from recon.files import file_digest, json_text
from recon.readers.tables import (
    DEFAULT_READ,
    ReadOptions,
    file_format,
    locate_csv_error,
    scan_table,
)
from recon.result import RESULTS_FILE, SUMMARY_FILE
from recon.spec import ReconSpec

Inputs = dict[str, dict[str, Any]]  # side -> what summary.json records of that input
DEFAULT_REPORTS = ("html", "csv", "xlsx", "json")


@dataclass(frozen=True)
class ReconResult:
    """A summary, and the results either in memory or in ``results.parquet``."""

    summary: dict[str, Any]
    frame: pl.DataFrame | None = None
    path: Path | None = None

    @property
    def results(self) -> pl.DataFrame:
        """All result rows in memory (reads the file: use ``scan()`` for big results)."""
        return self.frame if self.frame is not None else pl.read_parquet(self._path())

    def scan(self) -> pl.LazyFrame:
        return self.frame.lazy() if self.frame is not None else pl.scan_parquet(self._path())

    def _path(self) -> Path:
        if self.path is None:
            raise ReconError("this result has neither a frame nor a results file")
        return self.path


def reconcile(
    left: pl.LazyFrame,
    right: pl.LazyFrame,
    spec: ReconSpec,
    *,
    sources: tuple[str, str] = ("left", "right"),
    inputs: dict[str, dict[str, Any]] | None = None,
) -> ReconResult:
    """Reconcile two frames in memory; every input row ends in exactly one status."""
    started = time.perf_counter()
    plan, schema = _plan(spec, left, right, sources)
    prepared_left = prepare(left, plan, "left", sources[0])
    prepared_right = prepare(right, plan, "right", sources[1])
    results = match(prepared_left, prepared_right, plan)
    rows = {"left": prepared_left.input_rows, "right": prepared_right.input_rows}
    summary = summarize(results, spec, input_rows=rows, inputs=inputs)
    summary["schema"] = schema
    return ReconResult(_stamp(summary, started), frame=results)


def reconcile_to_dir(
    left: pl.LazyFrame,
    right: pl.LazyFrame,
    spec: ReconSpec,
    out_dir: str | os.PathLike[str],
    *,
    sources: tuple[str, str] = ("left", "right"),
    inputs: Inputs | Callable[[], Inputs] | None = None,
    rows_per_partition: int | None = None,
    reports: Iterable[str] = (),
) -> ReconResult:
    """Reconcile into ``out_dir/results.parquet`` and ``summary.json`` with bounded memory.

    Inputs larger than ``rows_per_partition`` are hash-partitioned on disk and reconciled one
    partition at a time. Nothing appears in ``out_dir`` unless the whole run succeeds.
    ``inputs``: what summary.json says of each input, or a callable asked for it once the
    results are written (so checksums computed meanwhile make it into the one summary write).
    """
    started = time.perf_counter()
    out = check_out_dir(out_dir).absolute()
    _mkdir(out.parent)
    plan, schema = _plan(spec, left, right, sources)
    queries = (
        side_query(left, plan, "left", sources[0]),
        side_query(right, plan, "right", sources[1]),
    )
    partitions = partition_count(count_rows(queries[0]), count_rows(queries[1]), rows_per_partition)
    formats = list(reports)
    with (
        os_errors_named(out),
        published(out, output_names(formats)) as staging,
        # innermost: the spill folder is gone before the work folder is swapped in
        tempfile.TemporaryDirectory(dir=staging, prefix=".spill-") as work,
    ):
        staged = staging / RESULTS_FILE
        screened = screen(*queries, plan) if partitions == 1 else None
        streamed = screened and stream_results(*queries, plan, screened, staged)
        if screened and streamed:
            rows, figures = {"left": screened.left_rows, "right": screened.right_rows}, streamed
        else:
            rows, figures = _match_in_memory(queries, plan, partitions, Path(work), staged)
        described = inputs() if callable(inputs) else inputs
        summary = summarize(figures, spec, input_rows=rows, inputs=described)
        summary["partitions"] = partitions
        summary["schema"] = schema
        _stamp(summary, started)
        write_summary(staging, summary)
        if formats:
            from recon.reports import write_reports

            write_reports(pl.scan_parquet(staged), summary, staging, formats)
    return ReconResult(summary, path=out / RESULTS_FILE)


def _match_in_memory(
    queries: tuple[SideQuery, SideQuery], plan: Plan, partitions: int, work: Path, path: Path
) -> tuple[dict[str, int], Figures]:
    """Match each partition's two sides in memory and write the results to ``path``; the
    input rows and the figures, summed over partitions (the results are never read back)."""
    rows = {"left": 0, "right": 0}
    figures: list[Figures] = []

    def whole() -> Iterator[tuple[Prepared, Prepared]]:  # a generator keeps no reference
        yield (
            finish(queries[0], queries[0].collect(), plan),
            finish(queries[1], queries[1].collect(), plan),
        )

    def chunks() -> Iterator[pl.DataFrame]:
        pieces = whole() if partitions == 1 else partitioned_sides(*queries, plan, partitions, work)
        for prepared_left, prepared_right in pieces:
            rows["left"] += prepared_left.input_rows
            rows["right"] += prepared_right.input_rows
            result = match(prepared_left, prepared_right, plan)
            del prepared_left, prepared_right  # written next: hold only the result
            figures.append(figures_of(result, plan.spec))
            yield result

    write_results(chunks(), path)
    return rows, add_figures(figures)


@contextmanager
def os_errors_named(out: Path) -> Iterator[None]:
    """polars reports a failed write (disk full, a file-size limit) as a ComputeError with the
    OS error inside: raise it as the OSError it is, naming the output folder."""
    try:
        yield
    except pl.exceptions.PolarsError as exc:
        found = re.search(r"os error (\d+)", str(exc))
        if found is None:
            raise
        code = int(found.group(1))
        raise OSError(code, os.strerror(code), str(out)) from None


def output_names(formats: Iterable[str] = ()) -> list[str]:
    """The names a run owns in its output folder, replaced together: its results, its summary
    and every report, written or not (a report this run did not write must not stay beside
    its results as if it were theirs)."""
    from recon.reports import REPORT_FILES

    return [RESULTS_FILE, SUMMARY_FILE, *REPORT_FILES.values()]


def compare_files(
    spec: ReconSpec,
    left: str | os.PathLike[str],
    right: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    left_options: ReadOptions = DEFAULT_READ,
    right_options: ReadOptions = DEFAULT_READ,
    reports: Iterable[str] = DEFAULT_REPORTS,
    rows_per_partition: int | None = None,
) -> ReconResult:
    """Read both files, reconcile, and write results.parquet, summary.json and the reports."""
    paths = {"left": Path(left), "right": Path(right)}
    check_out_dir(out_dir)
    formats = list(reports)
    with ThreadPoolExecutor(max_workers=3) as pool:
        # opening checks each CSV's shape: both at once; then checksums overlap the run
        opening = {side: pool.submit(scan_table, paths[side], opts) for side, opts in
                   (("left", left_options), ("right", right_options))}  # fmt: skip
        if formats:  # so do the report writers' imports
            from recon.reports import load_writers

            pool.submit(load_writers, formats)
        frames = {side: future.result() for side, future in opening.items()}
        digests = {side: pool.submit(file_digest, path) for side, path in paths.items()}
        try:
            result = reconcile_to_dir(
                frames["left"],
                frames["right"],
                spec,
                out_dir,
                sources=(str(paths["left"]), str(paths["right"])),
                inputs=lambda: _inputs(paths, digests),
                rows_per_partition=rows_per_partition,
                reports=formats,
            )
        except InputFileError as exc:
            _locate_read_error(exc, paths, (left_options, right_options))
            raise
    return result


def check_out_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Refuse an output path that cannot be a folder before any work is done."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ReconError(
            f"{out}: the output path exists and is not a folder (choose another --out)"
        )
    return out


# -- helpers ------------------------------------------------------------------------------


def _plan(
    spec: ReconSpec, left: pl.LazyFrame, right: pl.LazyFrame, sources: tuple[str, str]
) -> tuple[Plan, dict[str, Any]]:
    """The plan, and how the inputs' columns differ (refused if the spec says so)."""
    schemas = (_schema(left, sources[0]), _schema(right, sources[1]))
    plan = make_plan(spec, *schemas, sources)
    schema = compare_schemas(plan, *schemas)
    if spec.fail_on_schema_difference:
        refuse_differences(schema, sources)
    return plan, schema


def _stamp(summary: dict[str, Any], started: float) -> dict[str, Any]:
    summary["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    summary["duration_seconds"] = round(time.perf_counter() - started, 3)
    return summary


def _inputs(paths: dict[str, Path], digests: dict[str, Future[str]]) -> Inputs:
    return {
        side: {"path": str(path), "format": file_format(path), "sha256": digests[side].result()}
        for side, path in paths.items()
    }


def write_summary(out: Path, summary: dict[str, Any]) -> Path:
    target = out / SUMMARY_FILE
    tmp = out / f".{SUMMARY_FILE}.tmp"
    tmp.write_text(json_text(summary, indent=2) + "\n", encoding="utf-8")
    tmp.replace(target)
    return target


def _mkdir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReconError(f"{out}: cannot create the output folder: {exc.strerror}") from None


def _schema(frame: pl.LazyFrame, source: str) -> pl.Schema:
    try:
        return frame.collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise read_error(source, exc) from None


def _locate_read_error(
    exc: InputFileError, paths: dict[str, Path], options: tuple[ReadOptions, ReadOptions]
) -> None:
    """polars' CSV errors say neither row nor byte: find them ourselves, for the file at fault."""
    for path, opts in zip(paths.values(), options, strict=True):
        if str(path) == exc.path and file_format(path) == "csv":
            locate_csv_error(path, opts, exc.reason)


__all__ = [
    "ReconError",
    "ReconResult",
    "compare_files",
    "reconcile",
    "reconcile_to_dir",
]
