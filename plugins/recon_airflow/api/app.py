"""The upload API's routes: ``/recon/api/v1/reconciliations`` inside Airflow's API server.

Upload two CSV files and the keys that identify a row; the API checks both files, stores them
in the staging store and triggers a ``file_recon`` run (the job); poll the job until it is
complete, then read its JSON report and download the others. Every route needs an Airflow user
(``POST /auth/token``, then ``Authorization: Bearer <token>``); see ``/recon/docs``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from pathlib import PurePosixPath
from typing import Annotated, Any, Final

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from recon_airflow.api import jobs, reports
from recon_airflow.api.auth import JobCreator, JobReader
from recon_airflow.api.problems import ApiProblem
from recon_airflow.api.schemas import (
    FailedTaskView,
    JobAccepted,
    JobDetail,
    JobLinks,
    JobList,
    JobRequest,
    JobSummary,
    Problem,
    UploadedFile,
)
from recon_airflow.api.upload_stream import max_upload_bytes
from recon_airflow.api.uploads import discard, read_manifest, stage_upload
from recon_airflow.file_jobs import DAG_ID, JOB_ID_PATTERN, REPORT_FORMATS

log = logging.getLogger(__name__)

URL_PREFIX: Final = "/recon"  # where the plugin mounts this app in the API server
JOBS_PATH: Final = "/api/v1/reconciliations"
_LIST: Final = "comma-separated"
UPLOAD_BODY: Final = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["source_file", "target_file", "unique_fields"],
                "properties": {
                    "source_file": {"type": "string", "format": "binary", "description": "CSV"},
                    "target_file": {"type": "string", "format": "binary", "description": "CSV"},
                    "unique_fields": {"type": "string", "description": f"key columns, {_LIST}"},
                    "compare_fields": {
                        "type": "string",
                        "description": f"columns to compare, {_LIST} (default: all shared)",
                    },
                    "tolerances": {"type": "string", "example": "amount=0.01,fee=0.5"},
                    "trim": {"type": "boolean", "default": True},
                    "case_insensitive": {"type": "boolean", "default": False},
                    "date_fields": {"type": "string", "description": f"date columns, {_LIST}"},
                    "date_formats": {"type": "string", "example": "%Y-%m-%d,%d/%m/%Y"},
                    "email": {"type": "string", "format": "email"},
                    "report_format": {"type": "string", "default": ",".join(REPORT_FORMATS)},
                    "delimiter": {"type": "string", "description": "default: detected"},
                    "encoding": {"type": "string", "description": "default: utf-8"},
                },
            }
        }
    },
}
_REFUSALS: Final = {
    400: "a malformed multipart body",
    401: "no valid token: POST /auth/token, then Authorization: Bearer <token>",
    403: "the user may not trigger (POST) or read (GET) file_recon's runs",
    404: "no such job, or a report format it did not ask for",
    409: "the job is not complete yet",
    413: "a file is over the size limit",
    415: "not CSV",
    422: "a bad file or option (the detail says which, where and how to fix it)",
    500: "the server is misconfigured",
    503: "file_recon is not ready in Airflow (not parsed yet, or import errors)",
}


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the refusals a route can answer (always 401 and 403)."""
    return {
        code: {"model": Problem, "description": _REFUSALS[code]}
        for code in sorted({401, 403, *codes})
    }


app = FastAPI(
    title="recon upload API",
    version="1",
    description=__doc__,
    docs_url="/docs",
    redoc_url=None,
    openapi_url="/openapi.json",
)
router = APIRouter(prefix=JOBS_PATH, tags=["reconciliations"])


@app.exception_handler(ApiProblem)
async def _problem(request: Request, exc: ApiProblem) -> JSONResponse:
    return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)


@app.exception_handler(RequestValidationError)
async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    parts = [f"{'.'.join(map(str, e['loc'][1:])) or 'request'}: {e['msg']}" for e in exc.errors()]
    return JSONResponse({"detail": "; ".join(parts)}, status_code=422)


@router.post(
    "/",
    status_code=202,
    response_model=JobAccepted,
    summary="Upload two CSV files and start reconciling them",
    openapi_extra={"requestBody": UPLOAD_BODY},
    responses=refusals(400, 413, 415, 422, 500, 503),
)
async def create_job(request: Request, user: JobCreator) -> JSONResponse:
    job_id = uuid.uuid4().hex[:16]
    try:
        limit = max_upload_bytes()
    except ValueError as exc:
        log.error("upload refused: %s", exc)
        raise ApiProblem(500, "the server's upload size limit is misconfigured") from None
    today = dt.datetime.now(dt.UTC).date()
    staged = await stage_upload(request, job_id=job_id, business_date=today, max_file_bytes=limit)
    files = staged.manifest["files"]
    source, target = files["source_file"], files["target_file"]
    note = f"upload API: {source['name']} vs {target['name']}, by {user.get_name()}"
    try:
        job = await run_in_threadpool(
            jobs.trigger_job, staged.request, user_name=user.get_name(), note=note
        )
    except Exception:
        discard(job_id)  # no run, no files
        raise
    log.info(
        "job %s queued by %s: %s (%d bytes) vs %s (%d bytes)",
        job_id,
        user.get_name(),
        source["name"],
        source["bytes"],
        target["name"],
        target["bytes"],
    )
    notes = await run_in_threadpool(_notes, job)
    accepted = JobAccepted(
        job_id=job_id, status=job.status, links=_links(request, job, {}), notes=notes
    )
    return JSONResponse(
        accepted.model_dump(mode="json"),
        status_code=202,
        headers={"Location": accepted.links.self},
    )


@router.get("/", response_model=JobList, summary="Jobs, newest first", responses=refusals(422))
def list_jobs(
    user: JobReader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JobList:
    total, found = jobs.list_jobs(limit, offset)
    summaries = [
        JobSummary(job_id=j.job_id, created=j.created, updated=j.updated, status=j.status)
        for j in found
    ]
    return JobList(total=total, limit=limit, offset=offset, jobs=summaries)


# the collection without its trailing slash too (a redirected POST would lose its body)
router.add_api_route("", create_job, methods=["POST"], status_code=202, include_in_schema=False)
router.add_api_route("", list_jobs, methods=["GET"], include_in_schema=False)


@router.get(
    "/{job_id}",
    response_model=JobDetail,
    summary="A job's status, request and report",
    responses=refusals(404),
)
def get_job(request: Request, job_id: str, user: JobReader) -> JobDetail:
    job = _job_or_404(job_id)
    failed = jobs.failed_tasks(job) if job.status == "failed" else []
    found = reports.report_files(job) if job.status == "complete" else {}
    return JobDetail(
        job_id=job.job_id,
        status=job.status,
        created=job.created,
        updated=job.updated,
        started=job.started,
        finished=job.finished,
        triggered_by=job.user,
        request=_request_view(job),
        failed_tasks=[FailedTaskView(**vars(task)) for task in failed],
        reason=_reason(failed) if job.status == "failed" else None,
        report=reports.json_report(job),
        links=_links(request, job, found),
        notes=_notes(job),
    )


def _report_route(fmt: str) -> Any:
    def get_report(job_id: str, user: JobReader) -> FileResponse:
        found = reports.report_file(_job_or_404(job_id), fmt)
        return FileResponse(
            found.path,
            media_type=found.media_type,
            filename=found.filename,
            content_disposition_type=found.disposition,
        )

    get_report.__name__ = f"get_{fmt}_report"
    return get_report


for _fmt in REPORT_FORMATS:
    router.add_api_route(
        f"/{{job_id}}/{_fmt}",
        _report_route(_fmt),
        methods=["GET"],
        name=f"report_{_fmt}",
        summary=f"A complete job's {_fmt} report",
        response_class=FileResponse,
        responses={
            200: {"content": {reports.MEDIA_TYPES[_fmt]: {}}, "description": "the file"},
            **refusals(404, 409),
        },
    )

app.include_router(router)


def _job_or_404(job_id: str) -> jobs.Job:
    job = jobs.find_job(job_id) if re.match(JOB_ID_PATTERN, job_id) else None
    if job is None:
        raise ApiProblem(404, f"no job `{job_id}`")
    return job


def _links(request: Request, job: jobs.Job, found: dict[str, reports.ReportFile]) -> JobLinks:
    airflow_root = str(request.base_url).rstrip("/").removesuffix(URL_PREFIX)
    return JobLinks(
        self=str(request.url_for("get_job", job_id=job.job_id)),
        airflow=f"{airflow_root}/dags/{DAG_ID}/runs/{job.run_id}",
        reports={fmt: str(request.url_for(f"report_{fmt}", job_id=job.job_id)) for fmt in found},
    )


def _request_view(job: jobs.Job) -> JobRequest:
    conf, manifest = job.conf, read_manifest(job.job_id).get("files", {})

    def uploaded(field: str, location: str) -> UploadedFile:
        info = manifest.get(field, {})
        return UploadedFile(
            name=info.get("name") or PurePosixPath(str(conf.get(location, ""))).name,
            size_bytes=info.get("bytes"),
            sha256=info.get("sha256"),
            columns=info.get("columns"),
        )

    return JobRequest(
        source_file=uploaded("source_file", "left"),
        target_file=uploaded("target_file", "right"),
        unique_fields=conf.get("unique_fields", []),
        compare_fields=conf.get("compare_fields", []),
        tolerances=conf.get("tolerances", {}),
        trim=conf.get("trim", True),
        case_insensitive=conf.get("case_insensitive", False),
        date_fields=conf.get("date_fields", []),
        date_formats=conf.get("date_formats", []),
        report_formats=reports.requested_formats(job),
        email=conf.get("email"),
        delimiter=conf.get("delimiter"),
        encoding=conf.get("encoding"),
        business_date=conf.get("business_date"),
    )


def _reason(failed: list[jobs.FailedTask]) -> str:
    if not failed:
        return f"the {DAG_ID} run failed (no task failed: was it marked failed by hand?)"
    first = failed[0]
    where = f"task {first.task_id}" + (f"[{first.map_index}]" if first.map_index >= 0 else "")
    return f"{where} failed: {first.reason}" if first.reason else f"{where} failed"


def _notes(job: jobs.Job) -> list[str]:
    notes = []
    if job.status == "queued" and jobs.dag_paused():
        notes.append(f"the {DAG_ID} DAG is paused: the job waits until it is unpaused")
    if job.status == "complete" and "json" not in reports.requested_formats(job):
        notes.append("no JSON report: report_format did not include json")
    return notes


__all__ = ["JOBS_PATH", "URL_PREFIX", "app"]
