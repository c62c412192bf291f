"""The API's one error: an HTTP status and a one-line reason a person can act on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

MAX_LISTED: Final = 10


class ApiProblem(Exception):
    """Answer ``status`` with ``{"detail": detail}`` (and ``headers``, e.g. WWW-Authenticate)."""

    def __init__(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = " ".join(detail.split())  # one line, whatever a message held
        self.headers = dict(headers or {})


def joined(problems: Sequence[str], limit: int = MAX_LISTED) -> str:
    """Several problems as one line: ``2 problems: a; b`` (``... and 3 more`` past ``limit``)."""
    if len(problems) == 1:
        return problems[0]
    shown = "; ".join(problems[:limit])
    more = f"; ... and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} problems: {shown}{more}"


__all__ = ["ApiProblem", "joined"]
