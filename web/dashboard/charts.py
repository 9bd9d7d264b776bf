"""Small charts drawn on the server as inline SVG: no JavaScript, nothing from a CDN.

Each function returns ``Markup`` for a template; every text that comes from data (unit
names) is escaped here. A chart keeps its natural size and shrinks to fit a narrow screen
(``viewBox`` with ``max-width: 100%``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

from web.format import percent

OK, BAD, WARN, MUTED, LINE = "#1e7a3c", "#b3261e", "#8a5a00", "#5b6575", "#d9dde3"


def _open(width: int, height: int, title: str) -> str:
    """The SVG element: drawn at its natural size, shrunk to fit a narrow screen (CSS)."""
    return (f'<svg class="chart" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">')


def lateness_trend(days: Sequence[tuple[date, float | None, int, int]], *, title: str,
                   empty: str) -> Markup:
    """Bars of the share of those present who came late, one per working day.

    ``days``: (day, rate or None, late, present), oldest first.
    """
    if not days:
        return Markup(f'<p class="muted">{escape(empty)}</p>')
    top = max((rate or 0) for _, rate, _, _ in days)
    scale = max(0.1, math.ceil(top * 20) / 20)  # at least 10%, in steps of 5%
    left, right, top_pad, bottom = 44, 8, 10, 34
    step = 22
    width = left + right + step * len(days)
    height = 190
    plot = height - top_pad - bottom
    parts = [_open(width, height, title)]
    for fraction in (0, 0.5, 1):
        y = top_pad + plot * (1 - fraction)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{LINE}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{MUTED}">{percent(scale * fraction)}</text>')
    for index, (day, rate, late, present) in enumerate(days):
        x = left + step * index + 4
        value = rate or 0
        bar = plot * min(value / scale, 1)
        y = top_pad + plot - bar
        color = BAD if value >= 0.1 else WARN if value > 0 else OK
        label = f"{day:%d/%m}: {percent(value)} ({late}/{present})" if rate is not None \
            else f"{day:%d/%m}: —"
        parts.append(f'<rect x="{x}" y="{y:.1f}" width="{step - 8}" height="{max(bar, 1):.1f}" '
                     f'fill="{color}"><title>{escape(label)}</title></rect>')
        if index % 5 == 0 or index == len(days) - 1:
            parts.append(f'<text x="{x + (step - 8) / 2:.1f}" y="{height - bottom + 16}" '
                         f'text-anchor="middle" font-size="11" fill="{MUTED}">'
                         f'{day:%d/%m}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def compliance_by_unit(units: Sequence[tuple[str, float]], *, title: str, empty: str,
                       label_width: int = 170) -> Markup:
    """Horizontal bars of badge compliance per unit, 0 to 100%, the 100% target marked."""
    if not units:
        return Markup(f'<p class="muted">{escape(empty)}</p>')
    row, bar_area, right = 24, 180, 52
    width = label_width + bar_area + right
    height = row * len(units) + 8
    parts = [_open(width, height, title)]
    for index, (name, rate) in enumerate(units):
        y = 4 + row * index
        shown = name if len(name) <= 26 else name[:25] + "…"
        length = bar_area * max(0.0, min(rate, 1.0))
        color = OK if rate >= 1 else BAD
        parts.append(f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" '
                     f'font-size="12" fill="#1d2430">{escape(shown)}'
                     f'<title>{escape(name)}</title></text>')
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{bar_area}" height="{row - 8}" '
                     f'fill="#eef0f3"/>')
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" '
                     f'height="{row - 8}" fill="{color}"><title>{escape(name)}: '
                     f'{percent(rate)}</title></rect>')
        parts.append(f'<text x="{label_width + bar_area + 6}" y="{y + 15}" font-size="12" '
                     f'fill="{color}">{percent(rate)}</text>')
    parts.append(f'<line x1="{label_width + bar_area}" x2="{label_width + bar_area}" y1="0" '
                 f'y2="{height}" stroke="{MUTED}" stroke-dasharray="3 3"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
