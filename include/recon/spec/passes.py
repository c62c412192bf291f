"""A spec of ordered match passes: rows matched without (or beyond) a shared key.

```yaml
name: cash
left:  {label: ledger}
right: {label: bank}
ids: {left: entry_id, right: line_id}     # each side's row identity (unique, never null)
fields:                                   # every field a pass uses, once, with its columns
  amount:   {type: number}                # same column name on both sides
  date:     {left: value_date, right: booking_date, type: date}
  currency: {}
  ref:      {left: reference, right: description}
  payout:   {left: payout_id, only: left} # a field only one side has
normalize: {ref: [strip, upper]}
passes:
  - {name: exact, kind: keyed, keys: [ref], compare: {amount: {abs_tol: 0.01}}}
  - name: by_amount_and_date
    kind: rule
    equal: [currency]
    amount: {field: amount, abs_tol: 0.01}
    date: {field: date, before: 0, after: 3}      # right's date in [left - 0, left + 3] days
    reference: {field: ref, method: similarity, threshold: 85}
    confirm: false                                # matches are `suggested` for a person
  - name: payout_net
    kind: group                                   # one row of one side against a group
    many: left                                    # the side whose rows form the group
    group_by: [payout]                            # omitted: a bounded subset search
    amount: {field: amount, abs_tol: 0.01}
    date: {field: date, before: 3, after: 3}
  - {name: daily_totals, kind: many_to_many, group_by: [date, currency], amount: {field: amount}}
```

A field's ``left``/``right`` default to its name; ``only`` names the one side that has it. Pass rules
name fields, never columns, so one field serves every pass that uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from recon.errors import did_you_mean
from recon.spec.model import (
    CROSS_CHECK_SEPARATOR,
    CompareRule,
    Impact,
    KeySpec,
    NormalizeStep,
    SideSpec,
    Thresholds,
    _Model,
    _parse_steps,
)

Side = Literal["left", "right"]
PassName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]
SIMILARITY_MEASURES = ("ratio", "partial_ratio", "token_sort_ratio", "token_set_ratio")


class IdSpec(_Model):
    """The column that identifies a row on each side (a bank line id, a ledger entry id)."""

    left: str = Field(min_length=1)
    right: str = Field(min_length=1)


class PassField(_Model):
    """A field passes can use: its column on each side that has it, and its type."""

    left: str | None = None
    right: str | None = None
    type: Literal["auto", "number", "string", "date"] = "auto"
    only: Side | None = None  # the one side that has the field (default: both)

    def sides(self) -> tuple[Side, ...]:
        return ("left", "right") if self.only is None else (self.only,)


class AmountRule(_Model):
    """Amounts agree when |left - right| <= abs_tol + rel_tol * |right| (sums, for groups)."""

    field: str
    abs_tol: float = Field(default=0.0, ge=0)
    rel_tol: float = Field(default=0.0, ge=0)


class DateRule(_Model):
    """Right's date within [left - before, left + after] days (a group: each member's date)."""

    field: str
    before: int = Field(default=0, ge=0)
    after: int = Field(default=0, ge=0)


class ReferenceRule(_Model):
    """Reference agreement on a text field: equal, found inside the other side, or similar.

    ``contains``: left's value (normalised) appears inside right's text (a bank description);
    ``similarity``: rapidfuzz ``measure`` (0-100) of the normalised texts reaches ``threshold``.
    """

    field: str
    method: Literal["equal", "contains", "similarity"] = "equal"
    measure: Literal["ratio", "partial_ratio", "token_sort_ratio", "token_set_ratio"] = (
        "token_set_ratio"
    )
    threshold: float = Field(default=90.0, ge=0, le=100)
    min_length: int = Field(default=4, ge=1)  # shorter references never count as found


class SearchLimits(_Model):
    """Bounds on a group pass's subset search (no ``group_by``); past one: ``not_searched``."""

    max_candidates: int = Field(default=20, ge=2, le=64)
    max_size: int = Field(default=5, ge=2, le=20)
    time_limit_s: float = Field(default=2.0, gt=0)


class _PassBase(_Model):
    name: PassName
    confirm: bool = False  # True: the pass's matches are `confirmed`, else `suggested`


class KeyedPass(_PassBase):
    """Today's keyed semantics on the rows still open: duplicates and mismatches included."""

    kind: Literal["keyed"]
    keys: tuple[KeySpec, ...] = Field(min_length=1)  # field names (``left``/``right`` = field)
    compare: dict[str, CompareRule] = Field(default_factory=dict)
    confirm: bool = True

    @field_validator("keys", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"left": k, "right": k} if isinstance(k, str) else k for k in value]
        return value

    @field_validator("compare", mode="before")
    @classmethod
    def _compare(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {name: {} for name in value}
        if isinstance(value, Mapping):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    def fields_used(self) -> list[str]:
        return [k.name for k in self.keys] + list(self.compare)


class _RuleParts(_PassBase):
    equal: tuple[str, ...] = ()
    amount: AmountRule | None = None
    date: DateRule | None = None
    reference: ReferenceRule | None = None

    def fields_used(self) -> list[str]:
        parts = [r.field for r in (self.amount, self.date, self.reference) if r is not None]
        return [*self.equal, *parts]


class RulePass(_RuleParts):
    """One row to one row, no shared key: equal fields, amount, date window, reference."""

    kind: Literal["rule"]

    @model_validator(mode="after")
    def _something_to_match(self) -> RulePass:
        if not (self.equal or self.amount or self.date or self.reference):
            raise ValueError("a rule pass needs at least one of equal, amount, date, reference")
        return self


class GroupPass(_RuleParts):
    """One row of one side against a group of rows on the ``many`` side whose amounts sum."""

    kind: Literal["group"]
    many: Side
    amount: AmountRule  # a group is always balanced on an amount
    group_by: tuple[str, ...] = ()  # empty: bounded subset search among candidates
    search: SearchLimits = SearchLimits()

    def fields_used(self) -> list[str]:
        return [*super().fields_used(), *self.group_by]


class ManyToManyPass(_PassBase):
    """Groups on both sides by the same fields; a group pair matches when its sums agree."""

    kind: Literal["many_to_many"]
    group_by: tuple[str, ...] = Field(min_length=1)
    amount: AmountRule

    def fields_used(self) -> list[str]:
        return [*self.group_by, self.amount.field]


MatchPass = Annotated[
    KeyedPass | RulePass | GroupPass | ManyToManyPass, Field(discriminator="kind")
]
PASS_KINDS = ("keyed", "rule", "group", "many_to_many")


class PassSpec(_Model):
    """A recon matched in ordered passes; each pass sees only what earlier ones left open."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    left: SideSpec = SideSpec(label="left")
    right: SideSpec = SideSpec(label="right")
    ids: IdSpec
    fields: dict[str, PassField] = Field(default_factory=dict)
    normalize: dict[str, tuple[NormalizeStep, ...]] = Field(default_factory=dict)
    passes: tuple[MatchPass, ...] = Field(min_length=1)
    amount: str | None = None  # the money field of summaries (default: the first pass's)
    thresholds: Thresholds = Thresholds()
    impact: Impact = Impact()

    @field_validator("fields", mode="before")
    @classmethod
    def _fields(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    @field_validator("normalize", mode="before")
    @classmethod
    def _normalize(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        return {column: _parse_steps(steps) for column, steps in value.items()}

    @field_validator("passes", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        # name the unknown kind with a hint (the discriminated union's own error is cryptic)
        if isinstance(value, list):
            for item in value:
                kind = item.get("kind") if isinstance(item, Mapping) else None
                if kind is not None and kind not in PASS_KINDS:
                    hint = did_you_mean(str(kind), PASS_KINDS) or f"kinds: {', '.join(PASS_KINDS)}"
                    raise ValueError(f"unknown pass kind `{kind}` ({hint})")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> PassSpec:
        problems: list[str] = []
        if self.left.label == self.right.label:
            problems.append(f"left.label: left.label and right.label are both `{self.left.label}`")
        names = [p.name for p in self.passes]
        for i, name in enumerate(names):
            if name in names[:i]:
                problems.append(f"passes.{i}.name: pass name `{name}` is used twice")
        for i, match_pass in enumerate(self.passes):
            problems += [f"passes.{i}: {p}" for p in self._pass_problems(match_pass)]
        if self.amount is not None and self.amount not in self.fields:
            hint = did_you_mean(self.amount, self.fields) or "declare it under `fields`"
            problems.append(f"amount: `{self.amount}` is not a field ({hint})")
        for field in self.normalize:
            if field not in self.fields:
                hint = did_you_mean(field, self.fields) or "declare it under `fields`"
                problems.append(f"normalize.{field}: `{field}` is not a field ({hint})")
        if problems:
            raise ValueError(CROSS_CHECK_SEPARATOR.join(problems))
        return self

    def _pass_problems(self, match_pass: MatchPass) -> list[str]:
        undeclared = [f for f in match_pass.fields_used() if f not in self.fields]
        if undeclared:
            return [
                f"field `{f}` is not declared ({did_you_mean(f, self.fields) or 'declare it under `fields`'})"
                for f in undeclared
            ]
        problems = []
        grouped: tuple[str, ...] = ()
        if isinstance(match_pass, GroupPass):
            grouped = match_pass.group_by
            for field in grouped:
                if match_pass.many not in self.fields[field].sides():
                    problems.append(
                        f"group_by `{field}` is not on the many side ({match_pass.many})"
                    )
        for field in match_pass.fields_used():
            if field not in grouped and self.fields[field].only is not None:
                problems.append(
                    f"field `{field}` is only on the {self.fields[field].only} side: a "
                    f"{match_pass.kind} pass compares it across both"
                )
        return problems

    # -- helpers used by the engine -------------------------------------------------------
    def column(self, field: str, side: Side) -> str:
        """The input column of ``side`` behind a field."""
        spec = self.fields[field]
        return getattr(spec, side) or field

    def fields_on(self, side: Side) -> list[str]:
        return [name for name, spec in self.fields.items() if side in spec.sides()]

    def label(self, side: str) -> str:
        return str(getattr(self, side).label)

    def amount_field(self) -> str | None:
        if self.amount:
            return self.amount
        for match_pass in self.passes:
            rule = getattr(match_pass, "amount", None)
            if isinstance(rule, AmountRule):
                return rule.field
        return None
