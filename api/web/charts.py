"""Small charts drawn on the server as inline SVG (no script, no library): a column chart of a
series (stock at the end of each month) and a bar chart of shares (进村入户率 by area).

Each chart is an `<svg role="img">` with a <title> and a <desc> naming every value, a <title>
on each bar, and the values written beside the bars, so it reads without colour or a mouse. It
scales to its container (viewBox, width 100%): the sizes below are in the viewBox's units,
chosen so that the text stays legible at a phone's 390 px and at 1280 px. Colours come from
classes in app.css (the page's Content-Security-Policy allows no inline style)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

from markupsafe import Markup, escape

_ids = itertools.count(1)


class Column(NamedTuple):
    label: str  # under the column (a month: 2026-05)
    value: int
    text: str  # over the column (a short figure: 93万)
    title: str  # the column's tooltip and what a screen reader says


class Bar(NamedTuple):
    label: str  # left of the bar (an area's name)
    share: float  # 0..1
    text: str  # right of the bar (43.5%)
    title: str


def short_number(value: int) -> str:
    """A figure short enough to sit over a column: 9,876 · 12.3万 · 1.2亿."""
    magnitude = abs(value)
    if magnitude < 10_000:
        return f"{value:,}"
    if magnitude < 100_000_000:
        return f"{value / 10_000:.1f}".rstrip("0").rstrip(".") + "万"
    return f"{value / 100_000_000:.1f}".rstrip("0").rstrip(".") + "亿"


def _open(width: int, height: int, title: str, desc: str, css: str) -> tuple[str, list[str]]:
    ident = f"chart-{next(_ids)}"
    head = (
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
    )
    return ident, [head]


def column_chart(title: str, columns: Sequence[Column], width: int = 300) -> Markup:
    """Columns side by side, each with its figure above and its label below; a zero line."""
    height, top, bottom, side = 150, 18, 20, 4
    desc = "；".join(f"{column.label}：{column.title}" for column in columns)
    _, parts = _open(width, height, title, desc, "columns")
    peak = max((column.value for column in columns), default=0)
    floor = min(0, *(column.value for column in columns)) if columns else 0
    span = (peak - floor) or 1
    plot = height - top - bottom
    slot = (width - 2 * side) / max(len(columns), 1)
    zero_y = top + plot * peak / span
    for index, column in enumerate(columns):
        x = side + index * slot
        y_value = top + plot * (peak - column.value) / span
        y, bar_height = min(y_value, zero_y), abs(zero_y - y_value)
        middle = x + slot / 2
        parts.append(
            f'<g><rect class="bar" x="{x + slot * 0.15:.1f}" y="{y:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{max(bar_height, 0.5):.1f}">'
            f"<title>{escape(column.label)}：{escape(column.title)}</title></rect>"
            f'<text class="value" x="{middle:.1f}" y="{max(y - 4, 11):.1f}" '
            f'text-anchor="middle">{escape(column.text)}</text>'
            f'<text class="label" x="{middle:.1f}" y="{height - 6}" '
            f'text-anchor="middle">{escape(column.label)}</text></g>'
        )
    parts.append(
        f'<line class="axis" x1="{side}" x2="{width - side}" y1="{zero_y:.1f}" y2="{zero_y:.1f}"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(title: str, bars: Sequence[Bar], width: int = 360) -> Markup:
    """Horizontal bars of shares (0..1) on a full-width track: label left, figure right."""
    row, top, label_width, text_width = 22, 4, 92, 52
    height = top * 2 + row * max(len(bars), 1)
    desc = "；".join(f"{bar.label}：{bar.title}" for bar in bars)
    _, parts = _open(width, height, title, desc, "bars")
    track = width - label_width - text_width
    for index, bar in enumerate(bars):
        y = top + index * row
        share = min(max(bar.share, 0.0), 1.0)
        parts.append(
            f'<g><text class="label" x="{label_width - 6}" y="{y + 15}" '
            f'text-anchor="end">{escape(_fit(bar.label, 7))}</text>'
            f'<rect class="track" x="{label_width}" y="{y + 4}" width="{track}" height="14"/>'
            f'<rect class="bar" x="{label_width}" y="{y + 4}" '
            f'width="{max(track * share, 0.5):.1f}" height="14">'
            f"<title>{escape(bar.label)}：{escape(bar.title)}</title></rect>"
            f'<text class="value" x="{width - text_width + 6}" y="{y + 15}">'
            f"{escape(bar.text)}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _fit(text: str, most: int) -> str:
    """A label cut to `most` characters (the full name is in the bar's title)."""
    return text if len(text) <= most else text[: most - 1] + "…"
