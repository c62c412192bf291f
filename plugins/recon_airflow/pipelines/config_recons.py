"""The DAG of a recon definition (``config/recons/<name>.yaml``), and the tasks it runs.

``recon_dag`` wires, from a validated :class:`~recon.definitions.ReconDefinition`:
``plan`` (business date -> what each side's reader reads that day: ``SourceReader.plan``) ->
``extract_left`` / ``extract_right`` (the operator ``EXTRACTS`` maps the reader's kind to: S3/SFTP
files, a SQL query file, a MongoDB aggregation) -> ``reconcile`` (the core, with the spec re-read from the YAML) ->
``publish`` (reports to S3 with presigned links, local otherwise) -> ``load_postgres``
(+ ``load_mongo``) -> ``send_summary``. Every task retries with backoff and alerts on failure
(``dag_defaults``). Building a DAG reads nothing but the definition, imports nothing heavy.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from airflow.sdk import DAG, BaseOperator, get_current_context, task

from recon.definitions import ReconConfigError, ReconDefinition, Side, load_recon_definition
from recon.definitions.http_source import HttpReader
from recon.definitions.sources import FileOptions, MongoReader, S3Reader, SqlReader
from recon_airflow.dag_defaults import business_date_param, dag_settings
from recon_airflow.dates import business_date_of
from recon_airflow.errors import BadInputError
from recon_airflow.notifiers.alerts import SummaryAlertOperator
from recon_airflow.operators.file_to_staging import FileToStagingOperator
from recon_airflow.operators.http_to_staging import HttpToStagingOperator
from recon_airflow.operators.load_mongo import MongoResultsOperator
from recon_airflow.operators.load_postgres import PostgresResultsOperator
from recon_airflow.operators.mongo_aggregate_to_staging import MongoAggregateToStagingOperator
from recon_airflow.operators.reconcile import reconcile_partition, snapshot_input
from recon_airflow.operators.sql_to_staging import SqlToStagingOperator
from recon_airflow.outcome import Outcome, Snapshot
from recon_airflow.pipelines.config_folder import shown
from recon_airflow.pipelines.volume import checked_outcome
from recon_airflow.report_archive import publish_reports
from recon_airflow.settings import config_root, partition_dir, staging_root

log = logging.getLogger(__name__)
TAGS: Final = ("recon", "config")


@dataclass(frozen=True)
class SideTask:
    """What the extract of one side is built from besides its reader.

    :ivar read: what the reader's ``plan`` gives for the run's day (an XComArg here).
    :ivar columns: the spec's columns of this side (what the snapshot must hold).
    """

    name: str
    read: Any
    columns: list[str]


@dataclass(frozen=True)
class Extract:
    """A kind's extract task: its operator class and its arguments from the reader."""

    operator: type[BaseOperator]
    arguments: Callable[[Any, SideTask], dict[str, Any]]


def _file(reader: FileOptions, side: SideTask) -> dict[str, Any]:
    return {
        "location": side.read,
        "side": side.name,
        "required_columns": side.columns,
        "delimiter": reader.delimiter,
        "encoding": reader.encoding,
    }


def _s3_file(reader: S3Reader, side: SideTask) -> dict[str, Any]:
    return {**_file(reader, side), "s3_conn_id": reader.conn_id}


def _sql_query(reader: SqlReader, side: SideTask) -> dict[str, Any]:
    return {"sql": reader.query, "parameters": side.read, "postgres_conn_id": reader.conn_id}


def _mongo_aggregation(reader: MongoReader, side: SideTask) -> dict[str, Any]:
    return {
        "database": reader.database,
        "collection": reader.collection,
        "pipeline": side.read,
        "required_columns": side.columns,
        "mongo_conn_id": reader.conn_id,
    }


def _http_json(reader: HttpReader, side: SideTask) -> dict[str, Any]:
    return {
        "http_conn_id": reader.conn_id,
        "request": side.read,
        "records": reader.records,
        "next_link": reader.next_link,
        "page_param": reader.page_param,
        "max_pages": reader.max_pages,
        "required_columns": side.columns,
    }


# The one mapping from a source kind's operator key (``SourceReader.operator``) to its task.
EXTRACTS: Final[Mapping[str, Extract]] = {
    "s3_file": Extract(FileToStagingOperator, _s3_file),
    "sftp_file": Extract(FileToStagingOperator, _file),
    "sql_query": Extract(SqlToStagingOperator, _sql_query),
    "mongo_aggregation": Extract(MongoAggregateToStagingOperator, _mongo_aggregation),
    "http_json": Extract(HttpToStagingOperator, _http_json),
}


def recons_dir() -> Path:
    """``config/recons`` (``RECON_CONFIG_DIR`` moves the config root)."""
    return config_root() / "recons"


def run_definition(name: str) -> ReconDefinition:
    """The definition ``name`` (a file of ``recons_dir()``) as it is now, for a running task.

    A definition that broke since the DAG was parsed fails the task without retry.
    """
    dag_id = get_current_context()["dag"].dag_id
    try:
        recon = load_recon_definition(recons_dir() / name)
    except ReconConfigError as exc:
        raise BadInputError(str(exc)) from None
    if recon.dag_id != dag_id:
        raise BadInputError(
            f"{name} now defines dag_id {recon.dag_id!r}, not {dag_id!r}: the DAG will be "
            "replaced at the next parse"
        )
    return recon


@task(multiple_outputs=True)
def plan(definition: str, readers: dict[str, str]) -> dict[str, Any]:
    """The business date, each side's snapshot path and what its extract reads that day."""
    recon = run_definition(definition)
    now = {side: s.kind for side, s in recon.sides().items()}
    if now != readers:
        raise BadInputError(
            f"{definition}: the readers changed ({readers} -> {now}) since the DAG was "
            "parsed; it will be rebuilt at the next parse"
        )
    context = get_current_context()
    day = business_date_of(context, timezone=recon.timezone, days_before=recon.days_before)
    folder = partition_dir(staging_root(), recon.dag_id, day, recon.source)
    planned: dict[str, Any] = {"business_date": day}
    for name, side in recon.sides().items():
        reader = side.reader
        planned[f"{name}_snapshot"] = str(folder / f"{name}.parquet")
        planned[f"{name}_{reader.planned}"] = read = reader.plan(day)
        log.info("%s (%s): %s", name, side.kind, read)
    return planned


@task
def reconcile(definition: str, left: Snapshot, right: Snapshot, business_date: dt.date) -> Outcome:
    """The core on both snapshots under the definition's spec; results, summary and reports."""
    import polars as pl
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    recon = run_definition(definition)
    outcome = reconcile_partition(
        recon.spec,
        pl.scan_parquet(left["path"]),
        pl.scan_parquet(right["path"]),
        recon=recon.dag_id,
        source=recon.source,
        business_date=business_date,
        inputs={"left": snapshot_input(left), "right": snapshot_input(right)},
        report_formats=list(recon.results.reports.formats),
    )
    # held to the definition's `volume:` rules, its history in the results store
    hook = PostgresHook(postgres_conn_id=recon.results.postgres)
    return checked_outcome(outcome, recon.volume.for_source(recon.source), hook)


@task
def publish(
    outcome: Outcome, s3_conn_id: str | None, bucket: str, prefix: str, expires_in: int
) -> Outcome:
    """The reports archived to S3 with presigned links; local links without S3."""
    if s3_conn_id is None:
        links = {fmt: Path(path).as_uri() for fmt, path in outcome["reports"].items()}
        return {**outcome, "report_links": links}
    return publish_reports(
        outcome, s3_conn_id=s3_conn_id, bucket=bucket, prefix=prefix, expires_in=expires_in
    )


def extract(recon: ReconDefinition, name: str, side: Side, planned: Any) -> BaseOperator:
    """The extract task of one side: the operator its reader's kind maps to."""
    reader = side.reader
    task = EXTRACTS[reader.operator]
    read = planned[f"{name}_{reader.planned}"]
    return task.operator(
        task_id=f"extract_{name}",
        source=recon.source,
        snapshot_path=planned[f"{name}_snapshot"],
        **task.arguments(reader, SideTask(name, read, recon.spec.columns(name))),
    )


def recon_dag(recon: ReconDefinition, path: Path) -> DAG:
    """The DAG of ``recon`` (defined in ``path``, a file of ``recons_dir()``)."""
    alerts, results = recon.alerts, recon.results
    with DAG(
        dag_id=recon.dag_id,
        description=(recon.description.strip().splitlines() or [""])[0][:200] or None,
        schedule=recon.schedule,
        **dag_settings(
            doc_md=doc_md(recon, path),
            timezone=recon.timezone,
            days_before=recon.days_before,
            owner=recon.owner,
            emails=alerts.email,
            tags=list(dict.fromkeys([*TAGS, *recon.tags])),
            smtp_conn_id=alerts.smtp_conn_id,
            slack_conn_id=alerts.slack_conn_id,
            start_date=(recon.start_date.year, recon.start_date.month, recon.start_date.day),
            native_templates=False,  # the extracts' arguments are rendered as text
        ),
        params={
            "business_date": business_date_param(
                f"The date to reconcile; empty = the run's date in "
                f"{recon.timezone} minus {recon.days_before} day(s)."
            )
        },
    ) as dag:
        # XComArgs: typed Any, as they stand for values that exist only when the run does
        planned: Any = plan(path.name, {name: s.kind for name, s in recon.sides().items()})
        left: Any = extract(recon, "left", recon.left, planned).output
        right: Any = extract(recon, "right", recon.right, planned).output
        outcome: Any = reconcile(path.name, left, right, planned["business_date"])
        reports = results.reports
        published: Any = publish(
            outcome,
            reports.s3_conn_id,
            reports.bucket,
            reports.prefix,
            reports.presign_seconds,
        )
        loads: list[BaseOperator] = [
            PostgresResultsOperator(
                task_id="load_postgres", outcome=published, postgres_conn_id=results.postgres
            )
        ]
        if results.mongo is not None:
            loads.append(
                MongoResultsOperator(
                    task_id="load_mongo",
                    outcome=published,
                    database=results.mongo.database,
                    collection=results.mongo.collection,
                    mongo_conn_id=results.mongo.conn_id,
                )
            )
        notify = SummaryAlertOperator(
            task_id="send_summary",
            outcomes=[published],
            recon=recon.dag_id,
            business_date=planned["business_date"],
            email_to=list(alerts.email),
            smtp_conn_id=alerts.smtp_conn_id,
            slack_conn_id=alerts.slack_conn_id,
        )
        loads >> notify
    return dag


def doc_md(recon: ReconDefinition, path: Path) -> str:
    """The DAG's documentation, from its definition."""
    sides = "\n".join(
        f"| {name} | {side.label} | {side.kind} | {side.reader.describe()} |"
        for name, side in recon.sides().items()
    )
    mongo = recon.results.mongo
    stores = "Postgres (`recon.runs`, `recon.breaks`)" + (
        f" and MongoDB `{mongo.database}.{mongo.collection}`" if mongo else ""
    )
    return (
        f"### {recon.dag_id} — {recon.left.label} against {recon.right.label}\n\n"
        f"{recon.description.strip() or 'A reconciliation defined in YAML.'}\n\n"
        f"Defined in `{shown(path)}` (check it with `recon validate {shown(path)}`). "
        f"Schedule `{recon.schedule}` "
        f"({recon.timezone}); each run reconciles the business date {recon.days_before} "
        "day(s) before its own, or the `business_date` it is triggered with.\n\n"
        "| side | label | reader | reads |\n|---|---|---|---|\n"
        f"{sides}\n\n"
        f"Keys: {', '.join(k.name for k in recon.spec.keys)}; compared: "
        f"{', '.join(recon.spec.compare) or 'keys only'}. Results replace the date's partition "
        f"(source `{recon.source}`) in {stores}; reports "
        f"({', '.join(recon.results.reports.formats)}) are archived"
        + (" to S3 with presigned links" if recon.results.reports.s3_conn_id else " locally")
        + f"; the summary goes to {', '.join(recon.alerts.email)} (Slack when thresholds are "
        "passed). Any task failure alerts by e-mail and Slack."
    )


__all__ = ["EXTRACTS", "Extract", "SideTask", "recon_dag", "recons_dir", "run_definition"]
