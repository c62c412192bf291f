"""Business-date placeholders in names: ``exports/orders/{date}.csv``, ``/out/o_{date:%Y%m%d}.csv``.

``{date}`` is the ISO date (2026-11-20); ``{date:<strftime>}`` formats it (``{date:%Y%m%d}``:
20261120). Literal braces are doubled (``{{`` and ``}}``). Checked when a definition is loaded
(so a typo fails the file, not the 6 a.m. run) and rendered when a run knows its date.
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any, Final

from recon.errors import did_you_mean

PLACEHOLDER: Final = "date"
FORMS: Final = "{date} (2026-11-20) or {date:<strftime>} such as {date:%Y%m%d}"
_SAMPLE: Final = dt.date(2026, 11, 20)


def pattern_problem(text: str) -> str | None:
    """What is wrong with the placeholders of ``text``, or None."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:  # a lone `{` or `}`
        return f"`{text}`: {exc} (placeholders: {FORMS}; write {{{{ and }}}} for literal braces)"
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field != PLACEHOLDER:
            hint = did_you_mean(field, [PLACEHOLDER]) or f"placeholders: {FORMS}"
            return (
                f"`{text}`: unknown placeholder `{{{field}}}` ({hint}; "
                "write {{ and }} for literal braces)"
            )
        if conversion or (spec and ("%" not in spec or "{" in spec)):
            return f"`{text}`: `{{{field}{'!' + conversion if conversion else ''}:{spec}}}` is not {FORMS}"
    try:
        render_pattern(text, _SAMPLE)
    except ValueError as exc:
        return f"`{text}`: {exc}"
    return None


def check_pattern(text: str) -> str:
    """``text`` if its placeholders are right; ValueError (for pydantic) otherwise."""
    problem = pattern_problem(text)
    if problem:
        raise ValueError(problem)
    return text


def render_pattern(text: str, day: dt.date) -> str:
    return text.format(**{PLACEHOLDER: day})


def render_strings(value: Any, day: dt.date) -> Any:
    """``value`` with the placeholders of every string inside it rendered (mapping keys kept)."""
    if isinstance(value, str):
        return render_pattern(value, day)
    if isinstance(value, dict):
        return {key: render_strings(item, day) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render_strings(item, day) for item in value]
    return value


def string_problems(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """(path, problem) for every string inside ``value`` whose placeholders are wrong."""
    if isinstance(value, str):
        problem = pattern_problem(value)
        return [(path, problem)] if problem else []
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list | tuple):
        items = list(enumerate(value))
    else:
        return []
    return [found for key, item in items for found in string_problems(item, (*path, key))]


__all__ = [
    "FORMS",
    "check_pattern",
    "pattern_problem",
    "render_pattern",
    "render_strings",
    "string_problems",
]
