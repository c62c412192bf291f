"""Inline SVG charts, built as pure functions of their data: no JavaScript, no network."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from markupsafe import Markup, escape

PALETTE: Final = ("#d9534f", "#f0ad4e", "#5b8def", "#8e6bd8", "#7a8699", "#3fb27f")
_LABEL_WIDTH: Final = 170
_VALUE_WIDTH: Final = 110
_BAR_HEIGHT: Final = 22
_BAR_GAP: Final = 8
_TITLE_HEIGHT: Final = 30
_LABEL_MAX_CHARS: Final = 24


def _finite(value: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_MAX_CHARS else label[: _LABEL_MAX_CHARS - 1] + "…"


def bar_chart(
    items: Sequence[tuple[str, float]],
    title: str,
    value_format: str = ",.0f",
    *,
    width: int = 600,
    colors: Sequence[str] = PALETTE,
) -> Markup:
    """A horizontal bar chart as an ``<svg>`` element; every label and the title are escaped.

    :param value_format: a format spec for the values shown beside the bars (``",.2f"``).
    """
    values = [_finite(value) for _, value in items]
    largest = max((value for value in values if value > 0), default=0.0)
    room = max(width - _LABEL_WIDTH - _VALUE_WIDTH, 10)
    height = _TITLE_HEIGHT + max(len(items), 1) * (_BAR_HEIGHT + _BAR_GAP) + _BAR_GAP
    safe_title = escape(title)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{safe_title}">',
        f"<title>{safe_title}</title>",
        f'<text x="0" y="18" class="chart-title">{safe_title}</text>',
    ]
    if not items:
        parts.append(
            f'<text x="0" y="{_TITLE_HEIGHT + 16}" class="chart-empty">nothing to show</text>'
        )
    for index, ((label, _), value) in enumerate(zip(items, values, strict=True)):
        top = _TITLE_HEIGHT + index * (_BAR_HEIGHT + _BAR_GAP)
        middle = top + _BAR_HEIGHT / 2 + 4
        bar = room * value / largest if largest and value > 0 else 0.0
        color = escape(colors[index % len(colors)]) if colors else "#5b8def"
        shown = escape(format(value, value_format))
        parts += [
            "<g>",
            f"<title>{escape(label)}: {shown}</title>",
            f'<text x="{_LABEL_WIDTH - 8}" y="{middle:.1f}" text-anchor="end" '
            f'class="chart-label">{escape(_short(label))}</text>',
            f'<rect x="{_LABEL_WIDTH}" y="{top}" width="{bar:.1f}" height="{_BAR_HEIGHT}" '
            f'rx="3" fill="{color}"></rect>',
            f'<text x="{_LABEL_WIDTH + bar + 6:.1f}" y="{middle:.1f}" '
            f'class="chart-value">{shown}</text>',
            "</g>",
        ]
    parts.append("</svg>")
    return Markup("".join(parts))
