"""Small line charts drawn as inline SVG on the server: no script and no asset from
elsewhere, so the dashboard works offline and under a strict Content-Security-Policy."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from config.visible import visible

# The drawing's own size: the page stretches it to its column (width 100%), keeping the
# proportions, so its text grows with it.
WIDTH, HEIGHT = 560, 120
FONT = 12  # the labels, in the drawing's units
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 8, 18  # margins for the axis labels


@dataclass(frozen=True)
class Series:
    slug: str
    label: str
    color: str
    # One value per point, oldest first; None where nothing was reported.
    values: Sequence[float | None]

    @property
    def total(self) -> float:
        return sum(v for v in self.values if v is not None)

    @property
    def peak(self) -> float:
        return max((v for v in self.values if v is not None), default=0.0)


def nice_ceiling(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten, at or above `value` (1 at least)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Stretches of consecutive reported points: a gap is not drawn as a zero."""
    runs: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for index, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((index, value))
    if current:
        runs.append(current)
    return runs


def _label(value: float) -> str:
    return f"{value:g}" if value < 10_000 else f"{value / 1000:g}k"


def _axes(width: int, top: float) -> SafeString:
    """Both charts' frame: the x and y axes, the top value and the zero beside the y axis."""
    return format_html(
        '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#999"/>'
        '<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#999"/>'
        '<text x="{lt}" y="{ty}" font-size="{font}" text-anchor="end">{top_label}</text>'
        '<text x="{lt}" y="{b}" font-size="{font}" text-anchor="end">0</text>',
        l=LEFT,
        r=width - RIGHT,
        t=TOP,
        b=HEIGHT - BOTTOM,
        lt=LEFT - 4,
        ty=TOP + 8,
        top_label=_label(top),
        font=FONT,
    )


def _marks(series: Series, x: Callable[[int], float], y: Callable[[float], float]) -> SafeString:
    """A polyline per run of reported points, a dot for a lone one."""
    marks = []
    for run in _runs(series.values):
        if len(run) == 1:
            index, value = run[0]
            marks.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="2" fill="{}"/>',
                    f"{x(index):.1f}",
                    f"{y(value):.1f}",
                    series.color,
                )
            )
        else:
            marks.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="1.5"/>',
                    " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run),
                    series.color,
                )
            )
    return SafeString("".join(marks))


def line_chart(
    *, slug: str, title: str, series: Sequence[Series], start: str, end: str
) -> SafeString:
    """An SVG of the series on one axis from 0, with the window's start and end times."""
    count = max((len(s.values) for s in series), default=0)
    top = nice_ceiling(max((s.peak for s in series), default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(index: int) -> float:
        return LEFT + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    groups = format_html_join(
        "",
        '<g data-series="{}" data-total="{}" data-peak="{}">{}</g>',
        ((s.slug, f"{s.total:g}", f"{s.peak:g}", _marks(s, x, y)) for s in series),
    )
    return format_html(
        '<svg class="cp-chart" data-chart="{slug}" data-points="{count}" data-max="{top}" '
        'viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{title}">'
        "<title>{title}</title>{axes}"
        '<text x="{l}" y="{h2}" font-size="{font}">{start}</text>'
        '<text x="{r}" y="{h2}" font-size="{font}" text-anchor="end">{end}</text>'
        "{groups}</svg>",
        slug=slug,
        count=count,
        top=f"{top:g}",
        w=WIDTH,
        h=HEIGHT,
        title=title,
        axes=_axes(WIDTH, top),
        l=LEFT,
        r=WIDTH - RIGHT,
        font=FONT,
        h2=HEIGHT - 4,
        start=start,
        end=end,
        groups=groups,
    )


@dataclass(frozen=True)
class Bar:
    key: str  # what the bar is of (a partition number), as data-partition
    label: str  # under the bar
    value: float
    about: str  # the bar's tooltip, before its value


def bar_chart(
    *, slug: str, title: str, bars: Sequence[Bar], color: str, width: int = WIDTH
) -> SafeString:
    """Vertical bars from 0, one per key, labelled under it (every few when they are many);
    `width` as wide as the page gives it, for the text to keep its size."""
    top = nice_ceiling(max((b.value for b in bars), default=0.0))
    plot_w, plot_h = width - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    band = plot_w / max(len(bars), 1)
    every = max(1, math.ceil(16 / band))  # labels at least 16 units apart

    def mark(index: int, bar: Bar) -> SafeString:
        height = plot_h * bar.value / top
        x = LEFT + index * band
        label = (
            format_html(
                '<text x="{}" y="{}" font-size="{font}" text-anchor="middle">{}</text>',
                f"{x + band / 2:.1f}",
                HEIGHT - 4,
                visible(bar.label),
                font=FONT,
            )
            if index % every == 0
            else SafeString("")
        )
        return format_html(
            '<g data-partition="{}" data-value="{}"><title>{}: {}</title>'
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
            '<text x="{}" y="{}" font-size="{font}" text-anchor="middle">{}</text>{}</g>',
            visible(bar.key),
            f"{bar.value:g}",
            visible(bar.about),
            f"{bar.value:g}",
            f"{x + band * 0.15:.1f}",
            f"{TOP + plot_h - height:.1f}",
            f"{band * 0.7:.1f}",
            f"{height:.1f}",
            color,
            f"{x + band / 2:.1f}",
            f"{TOP + plot_h - height - 3:.1f}",
            _label(bar.value) if index % every == 0 else "",
            label,
            font=FONT,
        )

    return format_html(
        '<svg class="cp-chart" data-chart="{slug}" data-max="{top}" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" role="img" aria-label="{title}"><title>{title}</title>'
        "{axes}{bars}</svg>",
        slug=slug,
        top=f"{top:g}",
        w=width,
        h=HEIGHT,
        title=visible(title),
        axes=_axes(width, top),
        bars=SafeString("".join(mark(i, b) for i, b in enumerate(bars))),
    )
