"""Recon spec: YAML -> validated model, every mistake reported at once with its path and line."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from recon.errors import Problem, SpecError, did_you_mean

FieldType = Literal["auto", "number", "string", "date"]
SIMPLE_RULES = ("strip", "upper", "lower", "collapse_spaces")
OPTION_RULES = ("date_formats", "number", "map")
TEXT_RULES = (*SIMPLE_RULES, "map")  # string-to-string rules (recon.normalize.text_rules)
KNOWN_RULES = SIMPLE_RULES + OPTION_RULES
CROSS_CHECK_SEPARATOR = "\n"  # cross-field checks raise one error: "path: message" per line


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SideSpec(_Model):
    label: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\- ]+$")


class KeySpec(_Model):
    """A key column, possibly named differently on each side; ``name`` is its name in results."""

    left: str = Field(min_length=1)
    right: str = Field(min_length=1)
    name: str = ""

    @model_validator(mode="after")
    def _default_name(self) -> KeySpec:
        if not self.name:
            object.__setattr__(self, "name", self.left)
        return self


class NumberFormat(_Model):
    thousands: str = ","
    decimal: str = "."
    parens_negative: bool = True
    strip: str = ""  # characters such as currency symbols to drop before parsing

    @model_validator(mode="after")
    def _distinct(self) -> NumberFormat:
        if self.thousands and self.thousands == self.decimal:
            raise ValueError("thousands and decimal separators must differ")
        return self


class NormalizeStep(_Model):
    """One normalisation rule; ``rule`` is one of KNOWN_RULES."""

    rule: str
    date_formats: tuple[str, ...] = ()
    number: NumberFormat | None = None
    mapping: dict[str, str] = {}  # `map`: value -> replacement (other values are kept)

    @field_validator("rule")
    @classmethod
    def _known(cls, rule: str) -> str:
        if rule not in KNOWN_RULES:
            hint = did_you_mean(rule, KNOWN_RULES) or f"known rules: {', '.join(KNOWN_RULES)}"
            raise ValueError(f"unknown normalisation rule `{rule}` ({hint})")
        return rule

    @model_validator(mode="after")
    def _mapping_given(self) -> NormalizeStep:
        if self.rule == "map" and not self.mapping:
            raise ValueError("`map` needs the values to replace, e.g. {map: {paid: succeeded}}")
        return self


class CompareRule(_Model):
    left: str | None = None  # column names when they differ per side
    right: str | None = None
    type: FieldType = "auto"
    abs_tol: float = Field(default=0.0, ge=0)
    rel_tol: float = Field(default=0.0, ge=0)
    case: Literal["sensitive", "insensitive"] = "sensitive"
    window_days: int | None = Field(default=None, ge=0)
    null_equals_null: bool = True


class SignRule(_Model):
    """Signed sums: rows whose ``column`` is in ``negative`` count negatively (BUY minus SELL)."""

    column: str
    negative: tuple[str, ...] = Field(min_length=1)


class AggregateSide(_Model):
    group_by: tuple[str, ...] = Field(min_length=1)
    sum: tuple[str, ...] = Field(default=(), min_length=0)
    sign: SignRule | None = None


class Aggregate(_Model):
    left: AggregateSide | None = None
    right: AggregateSide | None = None


class RiskLevels(_Model):
    medium: float = Field(default=0.005, ge=0, le=1)
    high: float = Field(default=0.02, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> RiskLevels:
        if self.medium > self.high:
            raise ValueError(f"risk.medium ({self.medium}) must not exceed risk.high ({self.high})")
        return self


class Thresholds(_Model):
    max_break_rate: float = Field(default=0.001, ge=0, le=1)
    # money-weighted limit: discrepancy amount / volume (needs an amount field)
    max_discrepancy_rate: float | None = Field(default=None, ge=0, le=1)
    # a break whose money at stake (in the reporting currency) reaches this is "high value"
    high_value_amount: float | None = Field(default=None, ge=0)
    risk: RiskLevels = RiskLevels()


class Impact(_Model):
    """How money of several currencies adds up in the financial impact of a summary.

    ``fx_rates``: one unit of a currency in the reporting currency (indicative rates set by
    finance; a currency without a rate is reported on its own and left out of the totals).
    """

    reporting_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    fx_rates: dict[str, float] = {}

    @field_validator("fx_rates")
    @classmethod
    def _rates(cls, rates: dict[str, float]) -> dict[str, float]:
        wrong = [c for c, r in rates.items() if len(c) != 3 or not c.isupper() or not r > 0]
        if wrong:
            raise ValueError(f"fx_rates: {wrong} need ISO 4217 codes and rates above 0")
        return rates


class ReconSpec(_Model):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    left: SideSpec = SideSpec(label="left")
    right: SideSpec = SideSpec(label="right")
    keys: tuple[KeySpec, ...] = Field(min_length=1)
    normalize: dict[str, tuple[NormalizeStep, ...]] = {}
    compare: dict[str, CompareRule] = {}
    aggregate: Aggregate = Aggregate()
    amount: str | None = None  # compare field whose values are money in summaries
    thresholds: Thresholds = Thresholds()
    impact: Impact = Impact()

    @field_validator("keys", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"left": k, "right": k} if isinstance(k, str) else k for k in value]
        return value

    @field_validator("compare", mode="before")
    @classmethod
    def _compare(cls, value: Any) -> Any:
        if isinstance(value, list):  # `compare: [a, b]` means exact comparison of each
            return {name: {} for name in value}
        if isinstance(value, Mapping):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    @field_validator("normalize", mode="before")
    @classmethod
    def _normalize(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        return {column: _parse_steps(steps) for column, steps in value.items()}

    @model_validator(mode="after")
    def _cross_checks(self) -> ReconSpec:
        problems: list[str] = []
        if self.left.label == self.right.label:
            problems.append(f"left.label: left.label and right.label are both `{self.left.label}`")
        names = [k.name for k in self.keys]
        if len(set(names)) != len(names):
            problems.append(f"keys: repeated key name in {names}")
        overlap = set(names) & set(self.compare)
        if overlap:
            problems.append(f"compare: key column(s) {sorted(overlap)} cannot also be compared")
        if self.amount is not None and self.amount not in self.compare:
            hint = did_you_mean(self.amount, self.compare) or "it must be one of the compare fields"
            problems.append(f"amount: `{self.amount}` is not a compare field ({hint})")
        for field, rule in self.compare.items():
            if rule.type == "string" and (rule.abs_tol or rule.rel_tol):
                problems.append(f"compare.{field}: a tolerance needs a number field, not a string")
            if rule.window_days is not None and rule.type in ("number", "string"):
                problems.append(f"compare.{field}: window_days needs a date field")
        for side in ("left", "right"):
            agg: AggregateSide | None = getattr(self.aggregate, side)
            if agg is None:
                continue
            missing = [c for c in self.key_columns(side) if c not in agg.group_by]
            if missing:
                problems.append(
                    f"aggregate.{side}.group_by: must contain the key column(s) {missing} "
                    f"(keys are matched after aggregation)"
                )
            kept = set(agg.group_by) | set(agg.sum)
            for field in self.compare:
                column = self.column(field, side)
                if column not in kept:
                    problems.append(
                        f"aggregate.{side}: compare field `{field}` (column `{column}`) is "
                        f"neither grouped nor summed, so aggregation would drop it"
                    )
        if problems:
            raise ValueError(CROSS_CHECK_SEPARATOR.join(problems))
        return self

    # -- helpers used by the engine -------------------------------------------------------
    def key_columns(self, side: str) -> list[str]:
        return [getattr(k, side) for k in self.keys]

    def columns(self, side: str) -> list[str]:
        """Every input column ``side`` must have: its key columns, then its compared columns."""
        wanted = self.key_columns(side) + [self.column(f, side) for f in self.compare]
        return list(dict.fromkeys(wanted))

    def column(self, field: str, side: str) -> str:
        """The input column of ``side`` behind a compare field or key name."""
        for key in self.keys:
            if key.name == field:
                return str(getattr(key, side))
        rule = self.compare.get(field)
        if rule is not None and getattr(rule, side):
            return str(getattr(rule, side))
        return field

    def normalize_steps(self, name: str, column: str | None = None) -> tuple[NormalizeStep, ...]:
        """The rules for a field (by its name, else by its input column's name)."""
        return self.normalize.get(name) or (self.normalize.get(column) if column else None) or ()

    def label(self, side: str) -> str:
        return str(getattr(self, side).label)

    def amount_field(self) -> str | None:
        """The money field of summaries: ``amount`` if set, else the first field with a tolerance."""
        if self.amount:
            return self.amount
        for field, rule in self.compare.items():
            if rule.type == "number" or rule.abs_tol or rule.rel_tol:
                return field
        return None


def _parse_steps(steps: Any) -> Any:
    """Accept `[strip, upper]`, `{date_formats: [...]}` or a list mixing both."""
    if isinstance(steps, str):
        steps = [steps]
    if isinstance(steps, Mapping):
        steps = [{name: options} for name, options in steps.items()]
    if not isinstance(steps, list):
        return steps  # let pydantic report the type error
    parsed: list[Any] = []
    for step in steps:
        if isinstance(step, str):
            parsed.append({"rule": step})
        elif isinstance(step, Mapping) and len(step) == 1:
            name, options = next(iter(step.items()))
            if name == "date_formats":
                formats = [options] if isinstance(options, str) else options
                parsed.append({"rule": name, "date_formats": formats})
            elif name == "number":
                parsed.append({"rule": name, "number": options or {}})
            elif name == "map":
                parsed.append({"rule": name, "mapping": options})
            else:
                parsed.append({"rule": name})
        else:
            parsed.append(step)
    return parsed


# -- loading with every problem located -------------------------------------------------


def load_spec(path: str | os.PathLike[str]) -> ReconSpec:
    """Read and validate a spec file; raise SpecError listing every mistake with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: spec file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read spec file: {exc}") from None
    return parse_spec(text, source=str(path))


def parse_spec(text: str, *, source: str = "<spec>") -> ReconSpec:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"{source}:{line}: not valid YAML: {reason}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{source}: a spec must be a YAML mapping with at least `name` and `keys`")
    return spec_from_dict(data, source=source, node=node)


def spec_from_dict(
    data: Mapping[str, Any], *, source: str = "<spec>", node: yaml.Node | None = None
) -> ReconSpec:
    try:
        return ReconSpec.model_validate(data)
    except ValidationError as exc:
        problems = [p for err in exc.errors() for p in _problems(err, data, source, node)]
        raise SpecError.from_problems(f"invalid spec {source}", problems) from None


def _problems(
    err: Mapping[str, Any], data: Any, source: str, node: yaml.Node | None
) -> list[Problem]:
    """One pydantic error -> Problems; cross-field errors carry their own `path: message` lines."""
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] != "value_error" or err["loc"]:  # only ReconSpec._cross_checks is top-level
        return [_problem(err, data, source, node)]
    out = []
    for line in message.split(CROSS_CHECK_SEPARATOR):
        path, _, text = line.partition(": ")
        loc: list[Any] = [int(p) if p.isdigit() else p for p in path.split(".")]
        out.append(
            Problem(text, path=f"{source}: {'.'.join(map(str, loc))}", line=yaml_line(node, loc))
        )
    return out


def _problem(err: Mapping[str, Any], data: Any, source: str, node: yaml.Node | None) -> Problem:
    return located_problem(err, data, source, node)


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


def _model_at(loc: Sequence[Any]) -> type[BaseModel] | None:
    """Which model validates the mapping at ``loc`` (used for did-you-mean hints)."""
    model: type[BaseModel] | None = ReconSpec
    containers: dict[str, type[BaseModel]] = {"compare": CompareRule, "normalize": NormalizeStep}
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
