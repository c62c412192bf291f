"""How the two inputs' columns differ: every run says so (summary.json ``schema``, the reports).

A column only one side has is often the first sign that an export changed its meaning, and a
compared column whose types differ was compared through a common type, which the reader should
know. ``ReconSpec.fail_on_schema_difference`` turns any difference into an error instead.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from recon.engine.prepare import Plan
from recon.errors import Problem, SchemaError, listed


def compare_schemas(plan: Plan, left: pl.Schema, right: pl.Schema) -> dict[str, Any]:
    """``left_only`` / ``right_only`` columns, and the compared columns whose types differ with
    how they were compared; ``match`` when there is no difference at all."""
    spec = plan.spec
    paired: list[tuple[str, str, str, str]] = [  # (name, left column, right column, as)
        (k.name, k.left, k.right, _as_key(plan.key_dtypes[k.name])) for k in spec.keys
    ]
    paired += [
        (f.name, f.left, f.right, _as_field(f.kind, plan.field_dtypes[f.name])) for f in plan.fields
    ]
    used_left = {p[1] for p in paired}
    used_right = {p[2] for p in paired}
    shared = [c for c in left if c in right and c not in used_left and c not in used_right]
    paired += [(c, c, c, "not compared") for c in shared]
    differences = [
        {"column": name, "left": str(left[lc]), "right": str(right[rc]), "compared_as": how}
        for name, lc, rc, how in paired
        if left[lc] != right[rc]
    ]
    left_only = [c for c in left if c not in right and c not in used_left]
    right_only = [c for c in right if c not in left and c not in used_right]
    return {
        "left_only": left_only,
        "right_only": right_only,
        "type_differences": differences,
        "match": not (left_only or right_only or differences),
    }


def refuse_differences(schema: dict[str, Any], sources: tuple[str, str]) -> None:
    """SchemaError listing every difference (the spec asked to fail on any)."""
    if schema["match"]:
        return
    problems = []
    for side, source in zip(("left", "right"), sources, strict=True):
        if schema[f"{side}_only"]:
            names = listed(schema[f"{side}_only"])
            problems.append(Problem(f"columns only this side has: {names}", path=source))
    problems += [
        Problem(
            f"{d['left']} on the left, {d['right']} on the right (compared as {d['compared_as']})",
            column=d["column"],
        )
        for d in schema["type_differences"]
    ]
    raise SchemaError.from_problems(
        "the inputs' columns differ and the spec says fail_on_schema_difference", problems
    )


def _as_key(dtype: pl.DataType) -> str:
    return "text" if dtype == pl.String else f"key ({dtype})"


def _as_field(kind: str, dtype: pl.DataType) -> str:
    if kind == "number":
        return f"numbers ({dtype})"
    if kind == "date":
        return "dates (datetimes truncated)" if dtype == pl.Date else f"dates ({dtype})"
    return "text"


__all__ = ["compare_schemas", "refuse_differences"]
