"""Recon definitions: one YAML file in ``config/recons/`` describes a whole daily reconciliation.

A definition names its schedule, the two sides (which connection and what to read: an S3 key
pattern, an SFTP path pattern, a SQL query file, a MongoDB aggregation), the core's spec
(inline, validated by :func:`recon.spec.spec_from_dict`), where results go and who is alerted.
:func:`recon.definitions.loader.load_recon_definition` reports every mistake at once, each with its file, YAML path,
line and a hint, like the spec loader; ``recon validate`` and the DAG generator both use it, so
the command line and Airflow's import error say the same thing.

Patterns (S3 keys, SFTP paths, strings inside a Mongo pipeline) name the business date as
``{date}`` (ISO, 2026-11-20) or ``{date:<strftime>}`` (``{date:%Y%m%d}``: 20261120).

Pure: pydantic, PyYAML and croniter only (the DAG file imports this at every parse).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Field, field_validator

from recon.definitions.sides import READERS, Side, reader_problem
from recon.definitions.sources import (
    SQL_DIR,
    ConnId,
    MongoReader,
    Name,
    S3Reader,
    SftpReader,
    SqlReader,
    Strict,
)
from recon.errors import SpecError, did_you_mean
from recon.pipeline_config.volume import VolumeSettings
from recon.spec import ReconSpec

PRESETS: Final = ("@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly")
REPORT_FORMATS: Final = ("html", "csv", "xlsx", "json")
DAG_ID_PATTERN: Final = r"^[a-z][a-z0-9_]{0,63}$"
_SOURCE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


class Reports(Strict):
    """Report formats and where they are archived (``s3_conn_id: null``: local files only)."""

    formats: tuple[Literal["html", "csv", "xlsx", "json"], ...] = Field(
        default=REPORT_FORMATS, min_length=1
    )
    s3_conn_id: ConnId | None = "recon_s3"
    bucket: str = Field(default="recon-reports", pattern=r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
    prefix: str = "reports"
    presign_seconds: int = Field(default=86_400, gt=0, le=7 * 86_400)


class MongoResults(Strict):
    conn_id: ConnId = "recon_mongo"
    database: Name = "recon"
    collection: Name = "reconciliation_results"


class Results(Strict):
    postgres: ConnId = "recon_postgres"
    mongo: MongoResults | None = None
    reports: Reports = Reports()


class Alerts(Strict):
    """Who hears of the run (summary and failures) and through which connections."""

    email: tuple[str, ...] = Field(min_length=1)
    smtp_conn_id: ConnId = "recon_smtp"
    slack_conn_id: ConnId = "recon_slack"

    @field_validator("email", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("email")
    @classmethod
    def _addresses(cls, emails: tuple[str, ...]) -> tuple[str, ...]:
        wrong = [e for e in emails if not _EMAIL.match(e)]
        if wrong:
            raise ValueError(f"not e-mail addresses: {', '.join(wrong)}")
        return emails


class DefinitionFields(Strict):
    """What a definition file holds; ``spec`` as written (checked by the core's spec loader)."""

    dag_id: str | None = None  # default: the file's stem
    description: str = ""
    source: str | None = None  # the partition's name in results (default: the dag_id)
    schedule: str
    timezone: str = "UTC"
    # catchup is off: the start date only bounds which dates a backfill may cover
    start_date: dt.date = dt.date(2026, 1, 1)
    days_before: int = Field(default=1, ge=0, le=366)  # business date = run date - this
    owner: str = "recon-ops"
    tags: tuple[Annotated[str, Field(min_length=1, max_length=100)], ...] = ()
    left: Side
    right: Side
    spec: dict[str, Any]
    results: Results = Results()
    alerts: Alerts
    volume: VolumeSettings = Field(default_factory=VolumeSettings)  # rows expected per side

    @field_validator("dag_id")
    @classmethod
    def _dag_id(cls, value: str | None) -> str | None:
        if value is not None:
            check_dag_id(value)
        return value

    @field_validator("source")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        if value is not None and not _SOURCE.match(value):
            raise ValueError(
                f"`{value}` cannot name a partition: letters, digits, `_`, `.`, `-` (at most 64)"
            )
        return value

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        if not value.strip() or value.strip() == "airflow":
            raise ValueError("name the team that owns this recon (not empty, not `airflow`)")
        return value.strip()

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        from croniter import croniter  # Airflow imports it anyway; the core needs it only here

        text = value.strip()
        if text.startswith("@"):
            if text not in PRESETS:
                hint = did_you_mean(text, PRESETS) or f"presets: {', '.join(PRESETS)}"
                raise ValueError(f"unknown schedule preset `{text}` ({hint})")
        elif not croniter.is_valid(text):
            raise ValueError(
                f"`{text}` is not a cron expression (minute hour day month weekday, "
                "e.g. `0 7 * * *` for 07:00 every day, `30 6 * * 1-5` on weekdays)"
            )
        return text

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            hint = did_you_mean(value, available_timezones()) or "e.g. UTC, Europe/London"
            raise ValueError(f"unknown time zone `{value}` ({hint})") from None
        return value


class ReconDefinition(DefinitionFields):
    """A validated definition: ``dag_id`` and ``source`` filled in, the spec the core's."""

    dag_id: str
    source: str
    spec: ReconSpec  # type: ignore[assignment]  # the checked form of the parent's mapping

    def sides(self) -> dict[str, Side]:
        return {"left": self.left, "right": self.right}


def check_dag_id(value: str) -> str:
    if not re.match(DAG_ID_PATTERN, value):
        raise ValueError(
            f"`{value}` is not a usable dag_id: lowercase letters, digits and `_`, "
            "starting with a letter, at most 64 characters"
        )
    return value


class ReconConfigError(SpecError):
    """A recon definition is invalid; the message lists every problem (never "... and N more")."""


__all__ = [
    "READERS",
    "SQL_DIR",
    "Alerts",
    "DefinitionFields",
    "MongoReader",
    "ReconConfigError",
    "ReconDefinition",
    "Reports",
    "Results",
    "S3Reader",
    "SftpReader",
    "Side",
    "SqlReader",
    "reader_problem",
]
