"""Chart geometry as plain data; templates draw it as inline SVG (no script, no remote library).

Pure functions: a chart is a list of shapes with coordinates and the text a screen reader gets,
so tests can check what is drawn without a browser.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: hidden from this caller
    x: float
    y: float
    width: float
    height: float
    text: str  # the value as shown


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    maximum: float
    title: str


def bar_chart(
    items: Sequence[tuple[str, float | None, str]],
    *,
    title: str,
    width: int = 460,
    row_height: int = 26,
    label_width: int = 120,
    value_width: int = 80,
) -> BarChart:
    """Horizontal bars, one per (label, value, shown text); hidden values get no bar, only their text."""
    shown = [v for _, v, _ in items if v is not None]
    maximum = max(shown, default=0.0) or 1.0
    room = width - label_width - value_width
    bars = tuple(
        Bar(
            label=label,
            value=value,
            x=label_width,
            y=i * row_height + 4,
            width=0.0 if value is None else max(1.0, room * value / maximum) if value > 0 else 0.0,
            height=row_height - 8,
            text=text,
        )
        for i, (label, value, text) in enumerate(items)
    )
    return BarChart(
        width=width, height=max(row_height, len(items) * row_height), bars=bars, maximum=maximum, title=title
    )


@dataclass(frozen=True)
class Tick:
    x: float
    height: float
    href: str
    label: str
    filtered: bool


@dataclass(frozen=True)
class Track:
    width: int
    height: int
    exons: tuple[tuple[float, float], ...]  # (x, width)
    axis_y: float
    ticks: tuple[Tick, ...]
    start: int
    end: int
    title: str


def gene_track(
    *,
    start: int,
    end: int,
    exons: Sequence[tuple[int, int]],
    variants: Sequence[tuple[int, float | None, str, str, bool]],  # (pos, af, href, label, filtered)
    title: str,
    width: int = 1000,
    height: int = 110,
) -> Track:
    """Exons as boxes on a line from `start` to `end`, and one tick per variant whose height grows
    with log10 of its frequency (a singleton is short, a common allele tall; hidden ones mid-height)."""
    span = max(1, end - start + 1)
    scale = (width - 20) / span
    axis_y = height - 30.0

    def x_of(pos: int) -> float:
        return 10 + (min(max(pos, start), end) - start) * scale

    boxes = tuple(
        (x_of(s), max(1.0, (min(e, end) - max(s, start) + 1) * scale)) for s, e in exons if e >= start and s <= end
    )
    ticks = []
    for pos, af, href, label, filtered in variants:
        if af is None:
            level = 0.5
        elif af <= 0:
            level = 0.1
        else:
            level = min(1.0, max(0.15, (math.log10(af) + 5) / 5))  # 1e-5 → short, 1 → full
        ticks.append(Tick(x_of(pos), level * (axis_y - 10), href, label, filtered))
    return Track(width, height, boxes, axis_y, tuple(ticks), start, end, title)
