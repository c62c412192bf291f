"""Recon spec loading: YAML -> ReconSpec, every mistake reported at once with its path and line."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from recon.errors import Problem, SpecError, did_you_mean
from recon.spec.model import (
    CROSS_CHECK_SEPARATOR,
    KNOWN_RULES,
    CompareRule,
    NormalizeStep,
    ReconSpec,
)
from recon.spec.passes import (
    GroupPass,
    KeyedPass,
    ManyToManyPass,
    PassField,
    PassSpec,
    RulePass,
)
from recon.yaml_file import load_yaml, yaml_problem, yaml_text

AnySpec = ReconSpec | PassSpec

# -- loading with every problem located -------------------------------------------------


def load_spec(path: str | os.PathLike[str]) -> ReconSpec:
    """Read and validate a spec file; raise SpecError listing every mistake with its line."""
    path = Path(path)
    return parse_spec(yaml_text(path, str(path), "spec file", SpecError), source=str(path))


def load_any_spec(path: str | os.PathLike[str]) -> AnySpec:
    """``load_spec``, or a ``PassSpec`` when the spec declares ``passes:`` (same errors)."""
    path = Path(path)
    return parse_any_spec(yaml_text(path, str(path), "spec file", SpecError), source=str(path))


def parse_any_spec(text: str, *, source: str = "<spec>") -> AnySpec:
    data, node = _spec_yaml(text, source)
    if "passes" in data:
        return pass_spec_from_dict(data, source=source, node=node)
    return spec_from_dict(data, source=source, node=node)


def pass_spec_from_dict(
    data: Mapping[str, Any], *, source: str = "<spec>", node: yaml.Node | None = None
) -> PassSpec:
    """A spec of ordered passes, every mistake located as ``spec_from_dict`` locates them."""
    try:
        return PassSpec.model_validate(data)
    except ValidationError as exc:
        allowed = _pass_names(data)
        problems = [p for err in exc.errors() for p in _problems(err, data, source, node, allowed)]
        raise SpecError.from_problems(f"invalid spec {source}", problems) from None


def parse_spec(text: str, *, source: str = "<spec>") -> ReconSpec:
    data, node = _spec_yaml(text, source)
    return spec_from_dict(data, source=source, node=node)


def _spec_yaml(text: str, source: str) -> tuple[dict[str, Any], yaml.Node | None]:
    try:
        data, node = load_yaml(text)
    except yaml.YAMLError as exc:
        number, reason = yaml_problem(exc)
        line = f" line {number}" if number is not None else ""
        raise SpecError(f"{source}:{line}: not valid YAML: {reason}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{source}: a spec must be a YAML mapping with at least `name` and `keys`")
    return data, node


def spec_from_dict(
    data: Mapping[str, Any], *, source: str = "<spec>", node: yaml.Node | None = None
) -> ReconSpec:
    try:
        return ReconSpec.model_validate(data)
    except ValidationError as exc:
        problems = [p for err in exc.errors() for p in _problems(err, data, source, node)]
        raise SpecError.from_problems(f"invalid spec {source}", problems) from None


def _problems(
    err: Mapping[str, Any],
    data: Any,
    source: str,
    node: yaml.Node | None,
    allowed_names: Callable[[Sequence[Any]], list[str]] | None = None,
) -> list[Problem]:
    """One pydantic error -> Problems; cross-field errors carry their own `path: message` lines."""
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] != "value_error" or err["loc"]:  # only the cross checks are top-level
        return [located_problem(err, data, source, node, allowed_names=allowed_names)]
    out = []
    for line in message.split(CROSS_CHECK_SEPARATOR):
        path, _, text = line.partition(": ")
        loc: list[Any] = [int(p) if p.isdigit() else p for p in path.split(".")]
        out.append(
            Problem(text, path=f"{source}: {'.'.join(map(str, loc))}", line=yaml_line(node, loc))
        )
    return out


def located_problem(
    err: Mapping[str, Any],
    data: Any,
    source: str,
    node: yaml.Node | None,
    *,
    allowed_names: Callable[[Sequence[Any]], list[str]] | None = None,
) -> Problem:
    """One pydantic error as a Problem at its YAML path and line, with a did-you-mean hint.

    :param allowed_names: the settings the mapping at a location may hold (default: the
        spec's models); shared by every YAML file validated this way.
    """
    loc = _yaml_loc(err["loc"], data)
    path = ".".join(str(p) for p in loc) or "(top level)"
    message = str(err["msg"]).removeprefix("Value error, ")
    hint = None
    line = None
    if err["type"] == "extra_forbidden" and loc:
        allowed = (allowed_names or _allowed_names)(loc[:-1])
        name = str(loc[-1])
        hint = did_you_mean(name, allowed) or (
            f"allowed: {', '.join(allowed)}" if allowed else None
        )
        message = f"unknown setting `{name}`"
        line = key_line(node, loc)
    elif err["type"] == "missing":
        message = "required setting is missing"
    return Problem(message, path=f"{source}: {path}", line=line or yaml_line(node, loc), hint=hint)


def key_line(node: yaml.Node | None, loc: Sequence[Any]) -> int | None:
    """The line of the key at ``loc`` itself (``yaml_line`` gives a mapping value's first)."""
    current: yaml.Node | None = node
    for part in loc[:-1]:
        if isinstance(current, yaml.MappingNode):
            current = next((v for k, v in current.value if k.value == str(part)), None)
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            current = current.value[part] if part < len(current.value) else None
        else:
            return None
    if not isinstance(current, yaml.MappingNode):
        return None
    key = next((k for k, _ in current.value if k.value == str(loc[-1])), None)
    return key.start_mark.line + 1 if key is not None else None


def _yaml_loc(loc: Sequence[Any], data: Any) -> list[Any]:
    """Map pydantic's location onto the YAML document (drop model-internal parts)."""
    out: list[Any] = []
    cursor = data
    for part in loc:
        if isinstance(cursor, Mapping) and part not in cursor and cursor.get("kind") == part:
            continue  # a pass's kind, as pydantic names the member of a tagged union
        if isinstance(cursor, Mapping) and part in cursor:
            out.append(part)
            cursor = cursor[part]
        elif isinstance(cursor, list) and isinstance(part, int) and part < len(cursor):
            out.append(part)
            cursor = cursor[part]
            if isinstance(cursor, str):  # shorthand (`keys: [a]`, `[strip]`) stops here
                break
        elif part == "rule" or (isinstance(part, str) and part.startswith(("function-", "str"))):
            continue
        elif isinstance(cursor, Mapping | list):
            out.append(part)
            cursor = None
        else:
            break
    return out


def _allowed_names(loc: Sequence[Any]) -> list[str]:
    model = _model_at(loc)
    if model is None:
        return []
    if model is NormalizeStep:
        return list(KNOWN_RULES)
    return list(model.model_fields)


def _pass_names(data: Mapping[str, Any]) -> Callable[[Sequence[Any]], list[str]]:
    """The settings allowed at a location of a passes spec (a pass's by its ``kind``)."""
    kinds: dict[str, type[BaseModel]] = {
        "keyed": KeyedPass,
        "rule": RulePass,
        "group": GroupPass,
        "many_to_many": ManyToManyPass,
    }
    passes = data.get("passes")

    def allowed(loc: Sequence[Any]) -> list[str]:
        root: type[BaseModel] = PassSpec
        if len(loc) >= 2 and loc[0] == "passes" and isinstance(loc[1], int):
            item = passes[loc[1]] if isinstance(passes, list) and loc[1] < len(passes) else None
            kind = item.get("kind") if isinstance(item, Mapping) else None
            if kind not in kinds:
                return []
            root, loc = kinds[kind], loc[2:]
        model = _model_at(loc, root, {"fields": PassField, "normalize": NormalizeStep})
        if model is NormalizeStep:
            return list(KNOWN_RULES)
        return list(model.model_fields) if model is not None else []

    return allowed


def _model_at(
    loc: Sequence[Any],
    root: type[BaseModel] = ReconSpec,
    containers: Mapping[str, type[BaseModel]] | None = None,
) -> type[BaseModel] | None:
    """Which model validates the mapping at ``loc`` (used for did-you-mean hints).

    :param containers: top-level mappings of name -> model (``compare.<field>``).
    """
    model: type[BaseModel] | None = root
    if containers is None:
        containers = {"compare": CompareRule, "normalize": NormalizeStep}
    skip_next = False
    for i, part in enumerate(loc):
        if skip_next or model is None:
            skip_next = False
            continue
        if isinstance(part, int):
            continue
        if i == 0 and part in containers:
            model = containers[part]
            skip_next = True
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        model = inner_model(field.annotation)
    return model


def inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = inner_model(arg)
        if found is not None:
            return found
    return None


def yaml_line(node: yaml.Node | None, loc: Sequence[Any]) -> int | None:
    if node is None:
        return None
    current = node
    for part in loc:
        if isinstance(current, yaml.MappingNode):
            child = next((v for k, v in current.value if k.value == str(part)), None)
            key = next((k for k, _ in current.value if k.value == str(part)), None)
            if child is None:
                break
            current = child if not isinstance(child, yaml.ScalarNode) else key or child
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(current.value):
                break
            current = current.value[part]
        else:
            break
    return current.start_mark.line + 1
