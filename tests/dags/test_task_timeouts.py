"""Every task of every DAG has a bound on one try: its class's own where it has one (an
extract, a reconcile, a load, the summary, the sensor), the DAG-wide hour otherwise; mapped
tasks get their class's bound when they are expanded, as a worker does."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from recon_airflow import timeouts
from recon_airflow.timeouts import DagWideTimeout

BOUNDS = {
    "StagingOperator": timeouts.EXTRACT_EXECUTION_TIMEOUT,
    "ReconcileOperator": timeouts.RECONCILE_EXECUTION_TIMEOUT,
    "PaymentsReconcileOperator": timeouts.RECONCILE_EXECUTION_TIMEOUT,
    "PostgresResultsOperator": timeouts.LOAD_EXECUTION_TIMEOUT,
    "MongoResultsOperator": timeouts.LOAD_EXECUTION_TIMEOUT,
    "SummaryAlertOperator": timeouts.NOTIFY_EXECUTION_TIMEOUT,
    "VerifiedSFTPSensor": timeouts.SENSOR_POKE_TIMEOUT,
}


def expected(operator_class: type) -> dt.timedelta:
    for cls in operator_class.__mro__:
        if cls.__name__ in BOUNDS:
            return BOUNDS[cls.__name__]
    return timeouts.TASK_EXECUTION_TIMEOUT


def effective(task: Any) -> dt.timedelta | None:
    """The bound a worker runs the task with (a mapped task: once expanded)."""
    if not hasattr(task, "partial_kwargs"):
        return task.execution_timeout
    kwargs = {k: v for k, v in task.partial_kwargs.items() if k != "task_id"}
    cls = task.operator_class
    if not isinstance(cls, type):  # a mapped @task: the decorator's operator class
        return task.partial_kwargs.get("execution_timeout")
    bound = kwargs.get("execution_timeout")
    if bound is None or isinstance(bound, DagWideTimeout):
        return expected(cls)
    return bound


def test_every_task_has_its_class_bound_or_the_dag_wide_one(dagbag: Any) -> None:
    seen = set()
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            cls = task.operator_class if hasattr(task, "partial_kwargs") else type(task)
            want = expected(cls) if isinstance(cls, type) else timeouts.TASK_EXECUTION_TIMEOUT
            assert effective(task) == want, (dag.dag_id, task.task_id)
            seen.add(getattr(cls, "__name__", str(cls)))
    assert {"SftpDbfToStagingOperator", "PostgresResultsOperator", "VerifiedSFTPSensor"} <= seen


@pytest.mark.parametrize("given", [None, DagWideTimeout(hours=1)], ids=["none", "dag-wide"])
def test_a_class_bound_replaces_the_dag_wide_one_but_never_a_task_s_own(given: Any) -> None:
    from recon_airflow.operators.load_postgres import PostgresResultsOperator

    kwargs: dict[str, Any] = {} if given is None else {"execution_timeout": given}
    load = PostgresResultsOperator(task_id="load", outcome={}, **kwargs)  # type: ignore[typeddict-item]
    assert load.execution_timeout == timeouts.LOAD_EXECUTION_TIMEOUT
    own = PostgresResultsOperator(
        task_id="own",
        outcome={},  # type: ignore[typeddict-item]
        execution_timeout=dt.timedelta(seconds=5),
    )
    assert own.execution_timeout == dt.timedelta(seconds=5)
