"""A side read from a JSON HTTP API: ``HttpReader``, and how its answers become records.

``GET {path}`` with ``params`` on an Airflow ``http`` connection (host = base URL); ``{date}``
in the path and in the params' string values. ``records`` names where the list of records is
in the answer (keys joined by dots, ``data.items``; none: the answer is the list). Paging is
optional and one of:

- ``next_link``: where the next page's link is in the answer (keys joined by dots; a URL on
  the connection's own host, or a path); the link is requested as it is (it carries its own
  query) until an answer has none (absent, null or empty);
- ``page_param``: a page number parameter added to ``params``, 1, 2, ... until a page has no
  records.

A request that would need more than ``max_pages`` pages fails rather than stopping short. Each
record is one row; its values are staged as text for the spec to type (numbers exact, never
through float: ``100.10`` stays ``100.10``; true/false as ``true``/``false``); an object or an
array inside a record is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from pydantic import Field, field_validator, model_validator

from recon.definitions.patterns import (
    check_pattern,
    render_pattern,
    render_strings,
    string_problems,
)
from recon.definitions.sources import ConnId, Located, Name, SourceReader

_KEYS: Final = re.compile(r"^[^.\s]+(\.[^.\s]+)*$")


def _keys(value: str | None) -> str | None:
    if value is not None and not _KEYS.match(value):
        raise ValueError(f"`{value}` is not keys joined by dots (e.g. `data.items`)")
    return value


class HttpReader(SourceReader):
    """Records of a JSON API, page by page (the rules in the module docstring)."""

    operator = "http_json"
    planned = "request"
    conn_id: ConnId = "recon_http"
    path: Name
    params: dict[Name, Any] = Field(default_factory=dict)
    records: str | None = None
    next_link: str | None = None
    page_param: str | None = None
    max_pages: int = Field(default=1000, ge=1, le=100_000)

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        if not path.startswith("/") or "?" in path:
            raise ValueError(f"`{path}`: a path starts with `/` and has no query (use `params`)")
        return check_pattern(path)

    @field_validator("params")
    @classmethod
    def _scalars(cls, params: dict[str, Any]) -> dict[str, Any]:
        wrong = [f"`{name}`" for name, value in params.items() if not _scalar(value)]
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)}: a query parameter is a text, a number or true/false"
            )
        return params

    @field_validator("records", "next_link")
    @classmethod
    def _dotted(cls, value: str | None) -> str | None:
        return _keys(value)

    @model_validator(mode="after")
    def _paging(self) -> HttpReader:
        if self.next_link and self.page_param:
            raise ValueError("page by `next_link` or by `page_param`, not both")
        if self.next_link and not self.records:
            raise ValueError("with `next_link`, say where the records are (`records:`)")
        if self.page_param and self.page_param in self.params:
            raise ValueError(f"`{self.page_param}` is the page parameter: drop it from `params`")
        return self

    def plan(self, day: dt.date) -> dict[str, Any]:
        params: dict[str, Any] = render_strings(self.params, day)
        return {"path": render_pattern(self.path, day), "params": params}

    def describe(self) -> str:
        query = "&".join(f"{name}={value}" for name, value in self.params.items())
        described = f"`GET {self.path}{'?' + query if query else ''}` on `{self.conn_id}`"
        if self.records:
            described += f", records at `{self.records}`"
        if self.next_link or self.page_param:
            described += f", pages by `{self.next_link or self.page_param}`"
        return described

    @classmethod
    def located_problems(cls, settings: Mapping[str, Any]) -> Located:
        """Placeholders inside the params' string values, each at its own path."""
        return string_problems(settings.get("params"), ("params",))


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def page_records(answer: Any, records: str | None) -> list[Mapping[str, Any]]:
    """The records of one answer; ValueError says what is not where it should be."""
    found = at_keys(answer, records) if records else answer
    what = f"`{records}`" if records else "the answer"
    if not isinstance(found, list):
        raise ValueError(f"{what} is {_kind(found)}, not a list of records")
    for i, record in enumerate(found):
        if not isinstance(record, Mapping):
            raise ValueError(f"record {i + 1} of {what} is {_kind(record)}, not an object")
    return found


def page_link(answer: Any, next_link: str) -> str | None:
    """The next page's link in an answer, None when it has none (the last page)."""
    try:
        link = at_keys(answer, next_link)
    except ValueError:
        return None
    if link is None or link == "":
        return None
    if not isinstance(link, str):
        raise ValueError(f"the next link `{next_link}` is {_kind(link)}, not a URL")
    return link


def at_keys(answer: Any, dotted: str) -> Any:
    """``answer["a"]["b"]`` for ``a.b``; ValueError naming the first key that is not there."""
    value = answer
    for depth, key in enumerate(dotted.split(".")):
        if not isinstance(value, Mapping) or key not in value:
            within = ".".join(dotted.split(".")[:depth]) or "the answer"
            keys = ", ".join(map(str, value)) if isinstance(value, Mapping) else _kind(value)
            raise ValueError(f"no `{dotted}` in the answer: {within} has {keys or 'no keys'}")
        value = value[key]
    return value


def record_columns(
    records: Sequence[Mapping[str, Any]], first_row: int = 1
) -> dict[str, list[str | None]]:
    """Records as text columns, fields in first-seen order (a field a record lacks is null)."""
    names = list(dict.fromkeys(name for record in records for name in record))
    return {
        name: [_text(record.get(name), name, first_row + i) for i, record in enumerate(records)]
        for name in names
    }


def _text(value: Any, field: str, row: int) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    raise ValueError(
        f"record {row}, field `{field}` holds {_kind(value)}: the HTTP source stages one value "
        "per field (point `records` at the list of flat records)"
    )


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "null" if value is None else f"{type(value).__name__} {value!r}"[:60]


__all__ = ["HttpReader", "at_keys", "page_link", "page_records", "record_columns"]
