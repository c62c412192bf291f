"""A job's report files: where the run wrote them, what they are, and the JSON report's content.

A ``file_recon`` run writes only the formats its request chose, into
``report_dir(business_date, job_id)`` (the API server reads the same reports folder as the
workers: ``RECON_REPORTS_DIR``, a shared volume when they run on different machines).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from recon_airflow.api.jobs import Job
from recon_airflow.api.problems import ApiProblem
from recon_airflow.file_jobs import REPORT_FORMATS, report_dir

MEDIA_TYPES: Final = {
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
INLINE: Final = frozenset({"html", "json"})  # a browser shows these; the others are saved


@dataclass(frozen=True)
class ReportFile:
    format: str
    path: Path
    media_type: str
    filename: str  # what the download is called: file_recon_<job>_<report file>

    @property
    def disposition(self) -> str:
        return "inline" if self.format in INLINE else "attachment"


def requested_formats(job: Job) -> list[str]:
    chosen = job.conf.get("report_formats") or list(REPORT_FORMATS)
    return [fmt for fmt in REPORT_FORMATS if fmt in chosen]


def report_files(job: Job) -> dict[str, ReportFile]:
    """The requested reports of ``job`` that exist on disk, by format."""
    if not job.business_date:
        return {}
    from recon.reports import REPORT_FILES  # the core names the files (polars: import late)

    folder = report_dir(job.business_date, job.job_id)
    found = {}
    for fmt in requested_formats(job):
        path = folder / REPORT_FILES[fmt]
        if path.is_file():
            name = f"file_recon_{job.job_id}_{REPORT_FILES[fmt]}"
            found[fmt] = ReportFile(fmt, path, MEDIA_TYPES[fmt], name)
    return found


def report_file(job: Job, fmt: str) -> ReportFile:
    """The ``fmt`` report of ``job``, or ApiProblem saying why there is none (yet)."""
    if fmt not in REPORT_FORMATS:
        raise ApiProblem(
            404, f"no report format `{fmt}`: the formats are {', '.join(REPORT_FORMATS)}"
        )
    if fmt not in requested_formats(job):
        chosen = ", ".join(requested_formats(job))
        raise ApiProblem(
            404,
            f"job {job.job_id} did not ask for a {fmt} report (report_format was {chosen})",
        )
    if job.status != "complete":
        raise ApiProblem(
            409, f"job {job.job_id} is {job.status}: its reports exist once it is complete"
        )
    found = report_files(job).get(fmt)
    if found is None:
        raise ApiProblem(
            404, f"job {job.job_id} is complete but its {fmt} report is no longer on the server"
        )
    return found


def json_report(job: Job) -> dict[str, Any] | None:
    """``report.json`` of a complete job, parsed; None when it was not asked for or is gone."""
    found = report_files(job).get("json") if job.status == "complete" else None
    if found is None:
        return None
    document: dict[str, Any] = json.loads(found.path.read_text(encoding="utf-8"))
    return document


__all__ = [
    "MEDIA_TYPES",
    "ReportFile",
    "json_report",
    "report_file",
    "report_files",
    "requested_formats",
]
