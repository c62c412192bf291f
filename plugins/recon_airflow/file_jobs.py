"""One ad-hoc file reconciliation (a ``file_recon`` run): what it asks for, and where it lives.

``FileReconRequest`` is the run's conf, validated the same way whoever triggers it: the DAG's
trigger form (its params mirror these fields), the upload API, or ``airflow dags trigger``.
A job is one DAG run; its ``job_id`` names its partition (the ``source`` of ``recon.runs``),
its uploaded files (``{staging}/uploads/<job_id>/``) and its reports
(``{reports}/file_recon/<business_date>/<job_id>/``).

Imported by the DAG file: nothing heavy here (pydantic only).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from recon.pipeline_config.base import validation_problems
from recon_airflow.settings import partition_dir, reports_root, staging_root

if TYPE_CHECKING:
    from recon.spec.adhoc import AdhocOptions

DAG_ID: Final = "file_recon"
REPORT_FORMATS: Final = ("html", "csv", "xlsx", "json")
JOB_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
UPLOADS: Final = "uploads"  # the staging store's folder of uploaded files
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")

ReportFormat = Literal["html", "csv", "xlsx", "json"]
FieldName = Annotated[str, Field(min_length=1, max_length=200)]


class FileReconRequest(BaseModel):
    """A ``file_recon`` run's conf: two file locations and how to compare them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    left: str = Field(description="s3://bucket/key, sftp://conn_id/path or staging:path")
    right: str = Field(description="s3://bucket/key, sftp://conn_id/path or staging:path")
    unique_fields: list[FieldName] = Field(min_length=1, description="key columns")
    compare_fields: list[FieldName] = Field(default=[], description="empty: every shared column")
    tolerances: dict[str, Annotated[float, Field(ge=0)]] = Field(default={})
    trim: bool = True
    case_insensitive: bool = False
    date_fields: list[FieldName] = []
    date_formats: list[str] = []
    report_formats: list[ReportFormat] = Field(default=list(REPORT_FORMATS), min_length=1)
    email: str | None = None
    job_id: str | None = Field(default=None, pattern=JOB_ID_PATTERN)
    business_date: dt.date | None = None
    left_label: str = Field(default="left", pattern=r"^[A-Za-z0-9_\- ]{1,40}$")
    right_label: str = Field(default="right", pattern=r"^[A-Za-z0-9_\- ]{1,40}$")
    delimiter: str | None = Field(default=None, max_length=1)
    encoding: str | None = None

    @field_validator("left", "right")
    @classmethod
    def _location(cls, value: str) -> str:
        from recon_airflow.locations import parse_location

        return str(parse_location(value))  # ValueError names the accepted forms

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not _EMAIL.match(value.strip()):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value.strip()

    @field_validator("report_formats")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


def parse_request(conf: dict[str, Any]) -> FileReconRequest:
    """``conf`` as a request; ValueError with one line per mistake (``field: message``)."""
    try:
        return FileReconRequest.model_validate(conf)
    except ValidationError as exc:
        raise ValueError("; ".join(validation_problems(exc))) from None


def adhoc_options(fields: Mapping[str, Any], *, name: str = "adhoc") -> AdhocOptions:
    """The core's ad-hoc options for a request's fields (a ``FileReconRequest`` dumped, or the
    upload API's form before the request exists): the DAG and the API check the same things."""
    from recon.spec.adhoc import AdhocOptions

    return AdhocOptions(
        keys=fields.get("unique_fields", []),
        compare_fields=fields.get("compare_fields", []),
        tolerances=fields.get("tolerances", {}),
        trim=fields.get("trim", True),
        case_insensitive=fields.get("case_insensitive", False),
        date_fields=fields.get("date_fields", []),
        date_formats=fields.get("date_formats", []),
        name=name,
        labels=(fields.get("left_label", "left"), fields.get("right_label", "right")),
    )


def job_id_of(request: FileReconRequest, run_id: str) -> str:
    """The request's job id, else one made from the run id (safe in paths and SQL)."""
    if request.job_id:
        return request.job_id
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", run_id).strip("-.") or "job"
    return cleaned[:64]


def upload_dir(job_id: str) -> Path:
    """Where the upload API stores a job's two files (inside the staging store)."""
    if not re.match(JOB_ID_PATTERN, job_id):
        raise ValueError(f"{job_id!r} is not a job id")
    return staging_root() / UPLOADS / job_id


def report_dir(business_date: dt.date | str, job_id: str) -> Path:
    """Where a job's reports are written (``report.html``, ``report.csv``, ...)."""
    return partition_dir(reports_root(), DAG_ID, business_date, job_id)


__all__ = [
    "DAG_ID",
    "JOB_ID_PATTERN",
    "REPORT_FORMATS",
    "FileReconRequest",
    "adhoc_options",
    "job_id_of",
    "parse_request",
    "report_dir",
    "upload_dir",
]
