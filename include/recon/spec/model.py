"""The recon spec's model: sides, keys, normalisation, compare rules, aggregation, thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recon.errors import did_you_mean

FieldType = Literal["auto", "number", "string", "date"]
SIMPLE_RULES = ("strip", "upper", "lower", "collapse_spaces")
OPTION_RULES = ("date_formats", "number", "map")
TEXT_RULES = (*SIMPLE_RULES, "map")  # string-to-string rules (recon.engine.normalize.text_rules)
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
    # a column only one side has, or compared columns of different types, fail the run
    fail_on_schema_difference: bool = False

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
