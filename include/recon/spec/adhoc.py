"""Ad-hoc recons: a spec built from a handful of choices (keys, fields, tolerances, toggles).

Someone with two files and no spec says which columns identify a row, optionally which columns
to compare and how loosely, and whether text should be trimmed or compared without case; the
columns of both files fill in the rest. Every mistake (a key missing from a file, a tolerance
on a field that is not compared) is reported at once, with the file and a did-you-mean hint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from recon.errors import Problem, SchemaError, did_you_mean
from recon.spec import ReconSpec, spec_from_dict


@dataclass(frozen=True)
class AdhocOptions:
    """What an ad-hoc recon asks for; empty ``compare_fields`` = every shared non-key column."""

    keys: Sequence[str]
    compare_fields: Sequence[str] = ()
    tolerances: Mapping[str, float] = field(default_factory=dict)  # field -> absolute tolerance
    trim: bool = True
    case_insensitive: bool = False
    date_fields: Sequence[str] = ()
    date_formats: Sequence[str] = ()
    name: str = "adhoc"
    labels: tuple[str, str] = ("left", "right")


def adhoc_spec(
    options: AdhocOptions,
    left_columns: Sequence[str],
    right_columns: Sequence[str],
    *,
    files: tuple[str, str] = ("left", "right"),
) -> ReconSpec:
    """The spec for ``options`` over files with these columns; SchemaError lists every mistake.

    :param files: the files' names, for messages ("key `id` is not a column of orders.csv").
    """
    problems = column_problems(options, left_columns, right_columns, files=files)
    if problems:
        raise SchemaError.from_problems("cannot reconcile these files", problems)
    keys = list(dict.fromkeys(options.keys))
    shared = [c for c in left_columns if c in set(right_columns) and c not in keys]
    fields = list(dict.fromkeys(options.compare_fields)) or shared
    data: dict[str, Any] = {
        "name": options.name,
        "left": {"label": options.labels[0]},
        "right": {"label": options.labels[1]},
        "keys": keys,
        "compare": {name: _rule(name, options) for name in fields},
        "normalize": _normalize(keys, fields, options),
    }
    return spec_from_dict(data, source=f"{files[0]} vs {files[1]}")


def column_problems(
    options: AdhocOptions,
    left_columns: Sequence[str],
    right_columns: Sequence[str],
    *,
    files: tuple[str, str] = ("left", "right"),
) -> list[Problem]:
    """Every choice that names a column one of the files lacks, and every choice that clashes."""
    problems: list[Problem] = []
    if not options.keys:
        problems.append(
            Problem("no key field given", hint="name the column(s) that identify a row")
        )
    sides = ((files[0], list(left_columns)), (files[1], list(right_columns)))
    for what, names in (
        ("key field", options.keys),
        ("compare field", options.compare_fields),
        ("date field", options.date_fields),
    ):
        for name in dict.fromkeys(names):
            for file, columns in sides:
                if name not in columns:
                    hint = did_you_mean(name, columns) or f"its columns: {_listed(columns)}"
                    problems.append(
                        Problem(f"{what} `{name}` is not a column", path=file, hint=hint)
                    )
    clash = sorted(set(options.keys) & set(options.compare_fields))
    if clash:
        problems.append(Problem(f"{clash} cannot be both key and compare fields"))
    compared = set(options.compare_fields) or (
        (set(left_columns) & set(right_columns)) - set(options.keys)
    )
    for name, tolerance in options.tolerances.items():
        if name not in compared:
            hint = did_you_mean(name, sorted(compared)) or "tolerances apply to compared fields"
            problems.append(Problem(f"tolerance for `{name}`, which is not compared", hint=hint))
        if not tolerance >= 0:
            problems.append(Problem(f"tolerance for `{name}` is {tolerance}; it must be >= 0"))
    if options.date_fields and not options.date_formats:
        problems.append(
            Problem("date fields given without date formats", hint="e.g. %Y-%m-%d, %d/%m/%Y")
        )
    if not compared and not options.compare_fields:
        problems.append(
            Problem(
                "the files share no column besides the keys",
                hint="name compare fields, or check the files' headers",
            )
        )
    return problems


def _rule(name: str, options: AdhocOptions) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    if name in options.tolerances:
        rule["type"] = "number"
        rule["abs_tol"] = float(options.tolerances[name])
    elif name in options.date_fields:
        rule["type"] = "date"
    elif options.case_insensitive:
        rule["case"] = "insensitive"
    return rule


def _normalize(
    keys: Sequence[str], fields: Sequence[str], options: AdhocOptions
) -> dict[str, list[Any]]:
    rules: dict[str, list[Any]] = {}
    for name in [*keys, *fields]:
        steps: list[Any] = []
        if name in options.date_fields:
            steps = ["strip", {"date_formats": list(options.date_formats)}]
        elif name in options.tolerances:
            steps = ["strip"]
        else:
            if options.trim:
                steps.append("strip")
            if options.case_insensitive and name in keys:
                steps.append("upper")  # keys match whatever their case (compare rules can't)
        if steps:
            rules[name] = steps
    return rules


def _listed(columns: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(columns[:limit])
    return shown + (f" and {len(columns) - limit} more" if len(columns) > limit else "")


__all__ = ["AdhocOptions", "adhoc_spec", "column_problems"]
