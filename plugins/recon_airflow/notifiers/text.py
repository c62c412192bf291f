"""Shared formatting of recon's alerts: Slack escaping and links, numbers for reading, templates.

Every value a message shows passes through here or through an autoescaping jinja2 template:
Slack text escapes ``&``, ``<`` and ``>`` as Slack asks, HTML is escaped by jinja2, so a hostile
value in a key can neither run in a mail client nor ping a channel.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

PREFIX: Final = "[recon]"
TEMPLATE_DIR: Final = Path(__file__).parent / "templates"
_SLACK_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_WEB_LINK: Final = re.compile(r"https?://\S+\Z", re.IGNORECASE)


# --- Slack text ---------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>``: the only characters Slack gives a meaning to in text."""
    return text.translate(_SLACK_ESCAPES)


def slack_link(target: str, label: str) -> str:
    """``<url|label>`` for a web link; a local path is shown as code, since Slack cannot open it."""
    if is_web_link(target):
        url = slack_escape(target.replace("|", "%7C"))
        return f"<{url}|{slack_escape(label.replace('|', '/'))}>"
    path = slack_escape(target.replace("`", "'"))
    return f"{slack_escape(label)}: `{path}`"


def is_web_link(target: str) -> bool:
    return bool(_WEB_LINK.match(target))


# --- values -------------------------------------------------------------------------------------


def as_int(value: Any) -> int:
    """A count from summary.json: a number as an int, anything else 0."""
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def count_text(value: Any) -> str:
    return "—" if value is None else f"{as_int(value):,}"


def percent_text(value: Any) -> str:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "—"
    if 0 < value < 0.0001:
        return "<0.01%"
    return f"{value:.2%}"


def amount_text(value: Any) -> str:
    if not isinstance(value, int | float | Decimal) or not math.isfinite(value):
        return "—"
    return f"{value:,.2f}"


def money_text(value: Any, currency: str | None) -> str:
    """``2,345.67 USD``: an amount with its currency (``—`` when not a number)."""
    text = amount_text(value)
    return f"{text} {currency}" if currency and text != "—" else text


def value_text(value: Any) -> str:
    """A data value for reading: numbers with separators and no float noise, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | Decimal):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.6f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(value_text(item) for item in value)
    return str(value)


def date_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10] if re.match(r"\d{4}-\d{2}-\d{2}", str(value)) else str(value)


def plural(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"


def cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def one_line(text: str) -> str:
    """A header value: no line breaks (a CR/LF in a subject would start a new header)."""
    return " ".join(text.split())


# --- templates ----------------------------------------------------------------------------------


@functools.cache
def template(name: str) -> Template:
    """``templates/<name>_email.html.j2``, read and compiled once; every value is HTML-escaped."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(f"{name}_email.html.j2")
