"""A recon definition's YAML -> ``ReconDefinition``, or one error listing every mistake located.

The definition's own settings are checked by pydantic; its inline ``spec`` by the core's spec
loader (its problems prefixed ``spec.``); then what spans both: the dag_id from the file name,
the sides' labels carried into the spec, what each source kind finds in its raw settings
(placeholders inside a Mongo pipeline). Everything found
is reported together, each problem as ``file: yaml.path, line N: what (hint)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from recon.definitions.model import (
    DefinitionFields,
    ReconConfigError,
    ReconDefinition,
    check_dag_id,
    reader_problem,
)
from recon.definitions.sides import SOURCE_KINDS
from recon.definitions.sources import SQL_DIR
from recon.errors import Problem, SpecError, summarize_problems
from recon.spec import ReconSpec, inner_model, located_problem, spec_from_dict, yaml_line
from recon.yaml_file import load_yaml, yaml_problem, yaml_text

_SPEC_SOURCE = "<inline spec>"  # marks the core's problem paths, rewritten to `spec.<path>`


def parse_definition(text: str, *, stem: str, source: str, sql_dir: Path) -> ReconDefinition:
    try:
        data, node = load_yaml(text)
    except yaml.YAMLError as exc:
        line, reason = yaml_problem(exc)
        problem = Problem(f"not valid YAML: {reason}", path=source, line=line)
        raise listing(source, [problem]) from None
    if not isinstance(data, dict) or node is None:
        what = "a recon definition is a YAML mapping with at least schedule, left, right, spec "
        raise listing(source, [Problem(what + "and alerts", path=source)])
    context = {"sql_dir": sql_dir}
    problems: list[Problem] = []
    fields: DefinitionFields | None = None
    try:
        fields = DefinitionFields.model_validate(data, context=context)
    except ValidationError as exc:
        problems += [_problem(err, data, source, node) for err in exc.errors()]
    dag_id = fields.dag_id if fields is not None else data.get("dag_id")
    if dag_id is None:  # not given (an invalid one is reported by the settings' check)
        try:
            dag_id = check_dag_id(stem)
        except ValueError as exc:
            problems.append(
                Problem(
                    f"no dag_id, and the file name is not one: {exc}",
                    path=f"{source}: dag_id",
                    hint="rename the file or set `dag_id:`",
                )
            )
    problems += _reader_problems(data, source, node)
    problems += _kind_problems(data, source, node)
    spec, spec_problems = _spec(data, dag_id, source, node)
    problems += spec_problems
    if problems or fields is None or spec is None:
        raise listing(source, _in_file_order(problems))
    settings = fields.model_dump(exclude={"spec"})
    settings.update(dag_id=dag_id, source=fields.source or dag_id, spec=spec)
    return ReconDefinition.model_validate(settings, context=context)


def listing(source: str, problems: Sequence[Problem]) -> ReconConfigError:
    """One error naming every problem: its text is one line, as `recon validate` prints it."""
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    every = summarize_problems(problems, limit=max(count, 1))
    return ReconConfigError(
        f"invalid recon definition {source}: {count} {noun}: {every}", problems=problems
    )


def _in_file_order(problems: Sequence[Problem]) -> list[Problem]:
    """Top to bottom, each once (a side with two readers is found twice: raw and by pydantic,
    which cannot reach that check when a reader's own settings are wrong)."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: p.line or 0)


def _reader_problems(data: Mapping[str, Any], source: str, node: yaml.Node) -> list[Problem]:
    problems = []
    for side in ("left", "right"):
        found = data.get(side)
        problem = reader_problem(found) if isinstance(found, Mapping) else None
        if problem:
            problems.append(
                Problem(problem, path=f"{source}: {side}", line=yaml_line(node, [side]))
            )
    return problems


def _spec(
    data: Mapping[str, Any], dag_id: Any, source: str, node: yaml.Node
) -> tuple[ReconSpec | None, list[Problem]]:
    """The inline spec through the core's loader, named after the DAG and labelled as the
    sides are; its problems located in this file."""
    raw = data.get("spec")
    if not isinstance(raw, Mapping):
        return None, []  # missing or not a mapping: the settings' check said so
    spec_data = dict(raw)
    # a dag_id that is no name was reported already: do not report the spec's name as missing
    spec_data.setdefault("name", dag_id if isinstance(dag_id, str) and dag_id else "unnamed")
    spec_node = _child(node, "spec")
    problems: list[Problem] = []
    labels = {side: _side_label(data, side) for side in ("left", "right")}
    if labels["left"] is not None and labels["left"] == labels["right"]:
        problems.append(
            Problem(
                f"left and right are both labelled `{labels['left']}`",
                path=f"{source}: right.label",
                line=yaml_line(node, ["right", "label"]),
                hint="labels name the sides in reports: make them differ",
            )
        )
    else:
        for side, label in labels.items():
            given = spec_data.get(side)
            given_label = given.get("label") if isinstance(given, Mapping) else None
            if label is None:
                continue
            if given_label is not None and given_label != label:
                problems.append(
                    Problem(
                        f"the spec labels the {side} side `{given_label}` but {side}.label "
                        f"is `{label}`",
                        path=f"{source}: spec.{side}.label",
                        line=yaml_line(spec_node, [side, "label"]),
                        hint=f"drop spec.{side}: the side's label is used",
                    )
                )
            spec_data[side] = {**(given if isinstance(given, Mapping) else {}), "label": label}
    try:
        spec = spec_from_dict(spec_data, source=_SPEC_SOURCE, node=spec_node)
    except SpecError as exc:
        return None, problems + [_in_spec(p, source) for p in exc.problems]
    return spec, problems


def _in_spec(problem: Problem, source: str) -> Problem:
    inner = (problem.path or "").removeprefix(f"{_SPEC_SOURCE}: ")
    inner = "" if inner == "(top level)" else inner
    return dataclasses.replace(problem, path=f"{source}: spec" + (f".{inner}" if inner else ""))


def _side_label(data: Mapping[str, Any], side: str) -> str | None:
    found = data.get(side)
    label = found.get("label") if isinstance(found, Mapping) else None
    return label if isinstance(label, str) and label else None


def _kind_problems(data: Mapping[str, Any], source: str, node: yaml.Node) -> list[Problem]:
    """What each side's source kind finds in its raw settings, located in the file."""
    problems = []
    for side in ("left", "right"):
        found = data.get(side)
        if not isinstance(found, Mapping):
            continue
        for kind, reader in SOURCE_KINDS.items():
            settings = found.get(kind)
            if not isinstance(settings, Mapping):
                continue
            for inner, message in reader.located_problems(settings):
                path = [side, kind, *inner]
                problems.append(
                    Problem(
                        message,
                        path=f"{source}: {'.'.join(map(str, path))}",
                        line=yaml_line(node, path),
                    )
                )
    return problems


def _problem(err: Mapping[str, Any], data: Any, source: str, node: yaml.Node) -> Problem:
    return located_problem(err, data, source, node, allowed_names=_allowed_names)


def _allowed_names(loc: Sequence[Any]) -> list[str]:
    """The settings the mapping at ``loc`` may hold (for did-you-mean hints)."""
    model: type[BaseModel] | None = DefinitionFields
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        model = inner_model(field.annotation) if field is not None else None
    return list(model.model_fields) if model is not None else []


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if k.value == key), None)
    return None


__all__ = ["listing", "parse_definition"]


def is_recon_definition(path: str | Path) -> bool:
    """Whether a YAML file is a recon definition rather than a spec, by its content: only a
    definition has a top-level ``schedule`` or ``spec`` (a file that cannot be read or parsed
    is left to the spec loader, whose message says why)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, Mapping) and bool({"schedule", "spec"} & set(data))


def load_recon_definition(
    path: str | Path, *, sql_dir: Path | None = None, shown: str | None = None
) -> ReconDefinition:
    """Read and validate a definition; ReconConfigError lists every mistake with its line.

    :param sql_dir: where query files are looked up (default ``include/sql``).
    :param shown: how messages name the file (default: ``path`` as given).
    """
    path = Path(path)
    source = shown or str(path)
    text = yaml_text(path, source, "recon definition", ReconConfigError)
    return parse_definition(text, stem=path.stem, source=source, sql_dir=sql_dir or SQL_DIR)
