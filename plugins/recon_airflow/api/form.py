"""The upload form's text fields as the options of a ``FileReconRequest``, every mistake at once.

Lists are comma-separated (a field may also be repeated); ``tolerances`` reads
``amount=0.01,fee=0.5``; booleans read true/false, yes/no, on/off, 1/0. The options are then
validated by :class:`~recon_airflow.file_jobs.FileReconRequest` itself, the model the DAG
validates its conf with, so the API refuses exactly what the run would.
"""

from __future__ import annotations

import codecs
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import ValidationError

from recon.errors import did_you_mean
from recon.pipeline_config.base import validation_problems
from recon_airflow.file_jobs import REPORT_FORMATS, FileReconRequest

LIST_FIELDS: Final = ("unique_fields", "compare_fields", "date_fields", "date_formats")
BOOL_FIELDS: Final = ("trim", "case_insensitive")
TEXT_FIELDS: Final = ("email", "delimiter", "encoding")
FORM_FIELDS: Final = (*LIST_FIELDS, *BOOL_FIELDS, *TEXT_FIELDS, "tolerances", "report_format")
# the request's field names where the form's differ (messages name what the client sent)
_FORM_NAME: Final = {"report_formats": "report_format"}
_TRUE: Final = frozenset({"true", "yes", "on", "1"})
_FALSE: Final = frozenset({"false", "no", "off", "0"})
_PLACEHOLDER: Final = "staging:uploads/check/file.csv"  # the real locations come with the job


def form_options(fields: Mapping[str, Sequence[str]]) -> tuple[dict[str, Any], list[str]]:
    """The request options the form asks for, and every problem with them (one line each)."""
    problems: list[str] = []
    for name in fields:
        if name not in FORM_FIELDS:
            hint = did_you_mean(name, FORM_FIELDS) or f"the fields are {', '.join(FORM_FIELDS)}"
            problems.append(f"unknown form field `{name}` ({hint})")
    options: dict[str, Any] = {}
    for name in LIST_FIELDS:
        if name in fields:
            options[name] = listed(fields[name])
    if not options.get("unique_fields"):
        problems.append("unique_fields: name the key column(s), comma-separated (e.g. id)")
    for name in BOOL_FIELDS:
        if name in fields:
            value, problem = _boolean(name, fields[name])
            if value is not None:
                options[name] = value
            problems += problem
    for name in TEXT_FIELDS:
        text = _last(fields.get(name, ()))
        if text:
            options[name] = text
    if "tolerances" in fields:
        options["tolerances"], problem = tolerances(",".join(fields["tolerances"]))
        problems += problem
    if "report_format" in fields:
        chosen, problem = report_formats(fields["report_format"])
        if not problem:
            options["report_formats"] = chosen
        problems += problem
    if options.get("encoding"):
        try:
            codecs.lookup(options["encoding"])
        except LookupError:
            problems.append(f"encoding: unknown encoding `{options.pop('encoding')}` (e.g. cp1252)")
    # the model's own checks (e-mail, lengths, ...), except on fields already refused above
    reported = {problem.partition(":")[0] for problem in problems}
    problems += [
        p for p in model_problems(options) if p.partition(":")[0].split(".")[0] not in reported
    ]
    return options, problems


def listed(values: Sequence[str]) -> list[str]:
    """``["a, b", "c"]`` -> ``["a", "b", "c"]``: comma-separated, repeats allowed, blanks dropped."""
    items = (item.strip() for value in values for item in value.split(","))
    return list(dict.fromkeys(item for item in items if item))


def tolerances(text: str) -> tuple[dict[str, float], list[str]]:
    """``amount=0.01,fee=0.5`` as ``{"amount": 0.01, "fee": 0.5}``, and what is malformed."""
    parsed: dict[str, float] = {}
    problems: list[str] = []
    for item in listed([text]):
        name, sep, number = (part.strip() for part in item.partition("="))
        try:
            value = float(number) if sep and name else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            problems.append(f"tolerances: `{item}` is not field=number (e.g. amount=0.01,fee=0.5)")
        elif value < 0:
            problems.append(f"tolerances: `{item}`: a tolerance must be 0 or more")
        else:
            parsed[name] = value
    return parsed, problems


def report_formats(values: Sequence[str]) -> tuple[list[str], list[str]]:
    """The chosen report formats (``html,csv``), and every unknown one with a hint."""
    chosen = [item.lower() for item in listed(values)]
    problems = []
    for item in chosen:
        if item not in REPORT_FORMATS:
            hint = did_you_mean(item, REPORT_FORMATS) or f"choose from {', '.join(REPORT_FORMATS)}"
            problems.append(f"report_format: unknown format `{item}` ({hint})")
    if not chosen:
        problems.append(f"report_format: empty (choose from {', '.join(REPORT_FORMATS)})")
    return chosen, problems


def model_problems(options: Mapping[str, Any]) -> list[str]:
    """What ``FileReconRequest`` refuses in ``options`` (e-mail, field names, ...), one per line."""
    try:
        FileReconRequest.model_validate({"left": _PLACEHOLDER, "right": _PLACEHOLDER, **options})
    except ValidationError as exc:
        return validation_problems(exc, _FORM_NAME)
    return []


def _boolean(name: str, values: Sequence[str]) -> tuple[bool | None, list[str]]:
    text = _last(values).lower()
    if text in _TRUE:
        return True, []
    if text in _FALSE:
        return False, []
    return None, [f"{name}: `{text}` is not true or false"]


def _last(values: Sequence[str]) -> str:
    return values[-1].strip() if values else ""


__all__ = ["FORM_FIELDS", "form_options", "listed", "report_formats", "tolerances"]
