"""The bodies the upload API answers with (they are its OpenAPI schemas too)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from recon_airflow.api.jobs import JobStatus


class Problem(BaseModel):
    """Every refusal: one line that says what was wrong and how to fix it."""

    detail: str = Field(examples=["source_file `bank.csv`: key field `txn_id` is not a column"])


class JobLinks(BaseModel):
    self: str = Field(description="this job's status")
    airflow: str | None = Field(default=None, description="the DAG run in Airflow's UI")
    reports: dict[str, str] = Field(
        default={}, description="format -> download link, for the reports that exist"
    )


class JobAccepted(BaseModel):
    job_id: str
    status: JobStatus
    links: JobLinks
    notes: list[str] = Field(default=[], description="e.g. that file_recon is paused")


class JobSummary(BaseModel):
    job_id: str
    created: dt.datetime | None
    updated: dt.datetime | None
    status: JobStatus


class JobList(BaseModel):
    total: int = Field(description="jobs in all")
    limit: int
    offset: int
    jobs: list[JobSummary] = Field(description="newest first")


class UploadedFile(BaseModel):
    name: str = Field(description="the file's name as uploaded")
    size_bytes: int | None = None
    sha256: str | None = None
    columns: list[str] | None = None


class JobRequest(BaseModel):
    """What the job asked for (the files by their uploaded names, never server paths)."""

    source_file: UploadedFile
    target_file: UploadedFile
    unique_fields: list[str]
    compare_fields: list[str]
    tolerances: dict[str, float]
    trim: bool
    case_insensitive: bool
    date_fields: list[str]
    date_formats: list[str]
    report_formats: list[str]
    email: str | None
    delimiter: str | None
    encoding: str | None
    business_date: dt.date | None


class FailedTaskView(BaseModel):
    task_id: str
    map_index: int
    try_number: int
    reason: str | None = Field(description="the error the task's log ends on, when readable")


class JobDetail(BaseModel):
    job_id: str
    status: JobStatus
    created: dt.datetime | None
    updated: dt.datetime | None
    started: dt.datetime | None
    finished: dt.datetime | None
    triggered_by: str | None = Field(description="the Airflow user who uploaded")
    request: JobRequest
    failed_tasks: list[FailedTaskView] = []
    reason: str | None = Field(default=None, description="why the job failed")
    report: dict[str, Any] | None = Field(
        default=None, description="report.json once complete (when the json format was asked)"
    )
    links: JobLinks
    notes: list[str] = []


__all__ = [
    "FailedTaskView",
    "JobAccepted",
    "JobDetail",
    "JobLinks",
    "JobList",
    "JobRequest",
    "JobSummary",
    "Problem",
    "UploadedFile",
]
