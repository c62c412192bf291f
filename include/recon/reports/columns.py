"""The inputs' column differences (summary.json ``schema``) as lines a report shows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recon.reports.labels import Sides


def schema_lines(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(what, detail) per difference, in the sides' own labels; empty when the columns agree
    (or the summary predates the comparison)."""
    schema = summary.get("schema")
    if not isinstance(schema, Mapping) or schema.get("match", True):
        return []
    sides = Sides.from_summary(summary)
    lines = [
        (f"only in {label}", ", ".join(map(str, schema.get(f"{side}_only") or [])))
        for side, label in (("left", sides.left), ("right", sides.right))
        if schema.get(f"{side}_only")
    ]
    lines += [
        (
            f"`{d['column']}` types differ",
            f"{d['left']} in {sides.left}, {d['right']} in {sides.right}: "
            f"compared as {d['compared_as']}",
        )
        for d in schema.get("type_differences") or []
    ]
    return lines


__all__ = ["schema_lines"]
