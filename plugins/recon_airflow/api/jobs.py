"""Jobs are ``file_recon`` DAG runs whose run id is ``upload__<job_id>``: no second store.

A job's status, times, request (the run's conf) and failed tasks are read from Airflow's
metadata DB; a job is created by triggering the DAG the way Airflow's own REST API does
(:func:`airflow.api.common.trigger_dag.trigger_dag`, ``triggered_by=REST_API``, the user's
name recorded on the run). Every function opens its own session and is synchronous: the routes
call them in a worker thread.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from airflow.api.common.trigger_dag import trigger_dag
from airflow.exceptions import DagNotFound, DagRunAlreadyExists
from airflow.models.dag import DagModel
from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
from airflow.utils.state import TaskInstanceState
from airflow.utils.types import DagRunTriggeredByType
from sqlalchemy import func, select

from recon_airflow.api.failures import failure_reason
from recon_airflow.api.problems import ApiProblem
from recon_airflow.file_jobs import DAG_ID, FileReconRequest

RUN_PREFIX: Final = "upload__"
JobStatus = Literal["queued", "running", "complete", "failed"]
_STATUS: Final[dict[str | None, JobStatus]] = {
    "queued": "queued",
    "running": "running",
    "success": "complete",
    "failed": "failed",
}
NOTE_LIMIT: Final = 1000  # Airflow's dag_run_note.content


@dataclass(frozen=True)
class FailedTask:
    task_id: str
    map_index: int
    try_number: int
    reason: str | None = None


@dataclass(frozen=True)
class Job:
    """One upload job as its DAG run records it."""

    job_id: str
    run_id: str
    state: str | None
    created: dt.datetime | None
    updated: dt.datetime | None
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    conf: dict[str, Any] = field(default_factory=dict)
    user: str | None = None

    @property
    def status(self) -> JobStatus:
        return _STATUS.get(self.state, "queued")

    @property
    def business_date(self) -> str | None:
        value = self.conf.get("business_date")
        return str(value) if value else None


def run_id_of(job_id: str) -> str:
    return f"{RUN_PREFIX}{job_id}"


def trigger_job(request: FileReconRequest, *, user_name: str, note: str) -> Job:
    """Queue a ``file_recon`` run for ``request`` (its job id names the run); ApiProblem if not."""

    if not request.job_id:
        raise ValueError("a job's request names its job id")
    _check_dag_ready()
    try:
        with create_session() as session:
            run = trigger_dag(
                DAG_ID,
                triggered_by=DagRunTriggeredByType.REST_API,
                triggering_user_name=user_name,
                run_id=run_id_of(request.job_id),
                conf=request.model_dump(mode="json"),
                note=note[:NOTE_LIMIT],
                session=session,
            )
            if run is None:  # pragma: no cover - trigger_dag returns the run it made
                raise ApiProblem(503, f"Airflow did not create a {DAG_ID} run")
            job = _job(run)
    except DagNotFound:
        raise _not_parsed() from None
    except DagRunAlreadyExists:
        raise ApiProblem(409, f"job {request.job_id} already has a {DAG_ID} run") from None
    except ValueError as exc:  # the DAG's params refused the conf, or manual runs are off
        raise ApiProblem(422, f"{DAG_ID} refused the request: {exc}") from None
    return job


def dag_paused() -> bool:
    """Whether ``file_recon`` is paused (a job then waits, queued, until it is unpaused)."""

    with create_session() as session:
        paused = session.scalar(select(DagModel.is_paused).where(DagModel.dag_id == DAG_ID))
    return bool(paused)


def list_jobs(limit: int, offset: int) -> tuple[int, list[Job]]:
    """How many jobs there are, and ``limit`` of them from ``offset``, newest first."""

    where = (DagRun.dag_id == DAG_ID, DagRun.run_id.startswith(RUN_PREFIX, autoescape=True))
    with create_session() as session:
        total = session.scalar(select(func.count()).select_from(DagRun).where(*where)) or 0
        runs = session.scalars(
            select(DagRun)
            .where(*where)
            .order_by(DagRun.created_at.desc(), DagRun.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return int(total), [_job(run) for run in runs]


def find_job(job_id: str) -> Job | None:

    with create_session() as session:
        run = session.scalar(
            select(DagRun).where(DagRun.dag_id == DAG_ID, DagRun.run_id == run_id_of(job_id))
        )
        return _job(run) if run is not None else None


def failed_tasks(job: Job) -> list[FailedTask]:
    """The job's failed task instances, each with the error its log ends on (when readable)."""
    with create_session() as session:
        instances = session.scalars(
            select(TaskInstance)
            .where(
                TaskInstance.dag_id == DAG_ID,
                TaskInstance.run_id == job.run_id,
                TaskInstance.state == TaskInstanceState.FAILED,
            )
            .order_by(TaskInstance.end_date, TaskInstance.task_id, TaskInstance.map_index)
        ).all()
        return [
            FailedTask(ti.task_id, ti.map_index, ti.try_number, failure_reason(ti))
            for ti in instances
        ]


def _check_dag_ready() -> None:

    with create_session() as session:
        dag = session.scalar(select(DagModel).where(DagModel.dag_id == DAG_ID))
        if dag is None or dag.is_stale:
            raise _not_parsed()
        if dag.has_import_errors:
            raise ApiProblem(
                503,
                f"the {DAG_ID} DAG has import errors, so it cannot run jobs: "
                "see Airflow's import errors",
            )


def _not_parsed() -> ApiProblem:
    return ApiProblem(
        503,
        f"the {DAG_ID} DAG is not in Airflow yet (its file has not been parsed by the "
        "dag-processor): try again in a minute",
        headers={"Retry-After": "30"},
    )


def _job(run: DagRun) -> Job:
    return Job(
        job_id=run.run_id.removeprefix(RUN_PREFIX),
        run_id=run.run_id,
        state=str(run.state) if run.state is not None else None,
        created=run.created_at or run.queued_at,
        updated=run.updated_at or run.created_at,
        started=run.start_date,
        finished=run.end_date,
        conf=dict(run.conf or {}),
        user=run.triggering_user_name,
    )


__all__ = [
    "RUN_PREFIX",
    "FailedTask",
    "Job",
    "JobStatus",
    "dag_paused",
    "failed_tasks",
    "find_job",
    "list_jobs",
    "run_id_of",
    "trigger_job",
]
