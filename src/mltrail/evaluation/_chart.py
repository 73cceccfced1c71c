"""A small chart renderer for the evaluation plots: lines, markers, a heatmap, axes with
ticks, labels, a legend; drawn with Pillow (the ``plots`` extra) straight to PNG bytes.

Matplotlib draws the same figures, but importing it costs most of a first ``evaluate`` call
(about half a second of a second); Pillow loads in a twentieth of that.  Everything is drawn at
twice the size and scaled down, which smooths lines and text edges.  The look follows
matplotlib's defaults: its color cycle, 5% data margins, ticks at round steps.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mltrail._optional import require

__all__ = ["CYCLE", "Chart", "Heatmap", "nice_ticks"]

#: matplotlib's default color cycle (tab10)
CYCLE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_SCALE = 2  # drawn at twice the size, then scaled down (smooth edges)
_BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c")
_BLUES_END = "#08306b"


def nice_ticks(low: float, high: float, most: int = 8) -> list[float]:
    """Round tick values inside [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten,
    the smallest that gives at most *most* ticks."""
    span = high - low
    if not span > 0 or not math.isfinite(span):
        return [low]
    raw = span / most
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def _label(value: float, ticks: Sequence[float]) -> str:
    """A tick's text with as many decimals as the steps need (0.0, 0.2, ... or 1, 2, ...)."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    scaled = step * 10**decimals
    if abs(scaled - round(scaled)) > 1e-6:  # a step of 2.5 times a power of ten
        decimals += 1
    if all(float(t).is_integer() for t in ticks) and decimals == 0:
        return f"{value:.0f}"
    return f"{value:.{max(decimals, 1)}f}"


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def blues(fraction: float) -> tuple[int, int, int]:
    """matplotlib's ``Blues`` colormap (ColorBrewer's nine steps), interpolated."""
    stops = [_rgb(c) for c in (*_BLUES, _BLUES_END)]
    position = min(max(fraction, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(position), len(stops) - 2)
    t = position - i
    a, b = stops[i], stops[i + 1]
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


@dataclass
class _Series:
    x: Any
    y: Any
    color: str
    width: float
    dash: tuple[float, float] | None
    marker: str | None
    label: str | None
    marker_size: float


@dataclass
class Heatmap:
    """A matrix drawn as colored cells with their values written in, and a color bar."""

    values: Any
    labels: list[str]
    text_size: float


@dataclass
class Chart:
    """One plot: add series, set the labels, then :meth:`png`."""

    width: int = 600
    height: int = 400
    #: the plot area's edges as fractions of the figure (matplotlib's subplots_adjust)
    left: float = 0.11
    right: float = 0.97
    bottom: float = 0.12
    top: float = 0.92
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    title_size: float = 12.0
    label_size: float = 10.0
    tick_size: float = 8.0
    grid: bool = False
    #: ``lower right``, ``lower left``, ``upper right``, ``right`` (outside) or ``below``
    legend: str | None = None
    legend_columns: int = 1
    series: list[_Series] = field(default_factory=list)
    heatmap: Heatmap | None = None

    def line(
        self,
        x: Any,
        y: Any,
        *,
        color: str | None = None,
        width: float = 1.5,
        dash: tuple[float, float] | None = None,
        marker: str | None = None,
        marker_size: float = 6.0,
        label: str | None = None,
        step: bool = False,
    ) -> None:
        """A polyline (``step``: matplotlib's ``steps-post``), dashed or with markers
        (``s`` squares, ``o`` circles)."""
        import numpy as np

        xs = np.asarray(x, dtype=np.float64)
        ys = np.asarray(y, dtype=np.float64)
        if step and xs.size > 1:
            xs = np.repeat(xs, 2)[1:]
            ys = np.repeat(ys, 2)[:-1]
        if color is None:
            color = CYCLE[sum(1 for s in self.series if s.color in CYCLE) % len(CYCLE)]
        self.series.append(_Series(xs, ys, color, width, dash, marker, label, marker_size))

    # -- drawing -------------------------------------------------------------------------------
    def png(self) -> bytes:
        image_module = require("PIL.Image")
        draw_module = require("PIL.ImageDraw")
        image = image_module.new("RGB", (self.width * _SCALE, self.height * _SCALE), "white")
        canvas = _Canvas(image, draw_module.Draw(image))
        if self.heatmap is not None:
            self._draw_heatmap(canvas, self.heatmap)
        else:
            self._draw_lines(canvas)
        small = image.resize((self.width, self.height), image_module.Resampling.LANCZOS)
        buffer = io.BytesIO()
        small.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()

    def _box(self) -> tuple[float, float, float, float]:
        w, h = self.width * _SCALE, self.height * _SCALE
        return self.left * w, (1 - self.top) * h, self.right * w, (1 - self.bottom) * h

    def _limits(self) -> tuple[float, float, float, float]:
        import numpy as np

        xs = [s.x[np.isfinite(s.x)] for s in self.series]
        ys = [s.y[np.isfinite(s.y)] for s in self.series]
        x0, x1 = _span(xs)
        y0, y1 = _span(ys)
        return x0, x1, y0, y1

    def _draw_lines(self, canvas: _Canvas) -> None:
        box = self._box()
        x0, x1, y0, y1 = self._limits()
        xticks = nice_ticks(x0, x1)
        yticks = nice_ticks(y0, y1)
        scale = _Scale(box, (x0, x1, y0, y1))
        if self.grid:
            for t in xticks:
                px = scale.x(t)
                canvas.line([(px, box[1]), (px, box[3])], "#b0b0b0", 0.8)
            for t in yticks:
                py = scale.y(t)
                canvas.line([(box[0], py), (box[2], py)], "#b0b0b0", 0.8)
        canvas.clip(box)
        for s in self.series:
            points = list(zip(scale.xs(s.x), scale.ys(s.y), strict=True))
            if s.width > 0 and len(points) > 1:
                if s.dash is None:
                    canvas.line(points, s.color, s.width)
                else:
                    canvas.dashed(points, s.color, s.width, s.dash)
            if s.marker is not None:
                for px, py in points:
                    canvas.marker(px, py, s.marker, s.marker_size, s.color)
        canvas.unclip()
        canvas.rectangle(box, "black", 0.8)
        self._ticks(canvas, box, scale, xticks, yticks)
        self._labels(canvas, box, [_label(t, yticks) for t in yticks])
        if self.legend is not None:
            self._legend(canvas, box)

    def _ticks(
        self,
        canvas: _Canvas,
        box: tuple[float, float, float, float],
        scale: _Scale,
        xticks: list[float],
        yticks: list[float],
        xnames: list[str] | None = None,
        ynames: list[str] | None = None,
    ) -> None:
        length = 3.5 * _SCALE
        for i, t in enumerate(xticks):
            px = scale.x(t)
            canvas.line([(px, box[3]), (px, box[3] + length)], "black", 0.8)
            text = xnames[i] if xnames else _label(t, xticks)
            canvas.text(px, box[3] + length + 2 * _SCALE, text, self.tick_size, anchor="ma")
        for i, t in enumerate(yticks):
            py = scale.y(t)
            canvas.line([(box[0] - length, py), (box[0], py)], "black", 0.8)
            text = ynames[i] if ynames else _label(t, yticks)
            canvas.text(box[0] - length - 2 * _SCALE, py, text, self.tick_size, anchor="rm")

    def _labels(
        self, canvas: _Canvas, box: tuple[float, float, float, float], ytexts: list[str]
    ) -> None:
        middle_x = (box[0] + box[2]) / 2
        middle_y = (box[1] + box[3]) / 2
        if self.title:
            canvas.text(middle_x, box[1] - 6 * _SCALE, self.title, self.title_size, anchor="md")
        if self.xlabel:
            below = box[3] + (3.5 + 4) * _SCALE + canvas.height(self.tick_size)
            canvas.text(middle_x, below, self.xlabel, self.label_size, anchor="ma")
        if self.ylabel:
            widest = max((canvas.width(t, self.tick_size) for t in ytexts), default=0.0)
            beside = box[0] - (3.5 + 4) * _SCALE - widest - 4 * _SCALE
            canvas.vertical_text(beside, middle_y, self.ylabel, self.label_size)

    def _legend(self, canvas: _Canvas, box: tuple[float, float, float, float]) -> None:
        entries = [s for s in self.series if s.label]
        if not entries:
            return
        size = self.tick_size
        row = canvas.height(size) * 1.5
        sample = 20 * _SCALE
        columns = max(1, self.legend_columns)
        widths = [sample + 6 * _SCALE + canvas.width(s.label or "", size) for s in entries]
        column_width = max(widths) + 8 * _SCALE
        rows = math.ceil(len(entries) / columns)
        width = column_width * min(columns, len(entries)) + 4 * _SCALE
        height = row * rows + 6 * _SCALE
        pad = 6 * _SCALE
        left, top = {
            "lower right": (box[2] - pad - width, box[3] - pad - height),
            "lower left": (box[0] + pad, box[3] - pad - height),
            "upper right": (box[2] - pad - width, box[1] + pad),
            "right": (box[2] + pad, (box[1] + box[3] - height) / 2),
            "below": (
                (box[0] + box[2] - width) / 2,
                box[3] + 16 * _SCALE + 2 * canvas.height(self.label_size),
            ),
        }[self.legend or "lower right"]
        canvas.panel((left, top, left + width, top + height))
        for n, s in enumerate(entries):
            cx = left + 6 * _SCALE + (n % columns) * column_width
            cy = top + 3 * _SCALE + (n // columns) * row + row / 2
            segment = [(cx, cy), (cx + sample, cy)]
            if s.width > 0:
                if s.dash is None:
                    canvas.line(segment, s.color, s.width)
                else:
                    canvas.dashed(segment, s.color, s.width, s.dash)
            if s.marker is not None:
                canvas.marker(cx + sample / 2, cy, s.marker, s.marker_size, s.color)
            canvas.text(cx + sample + 6 * _SCALE, cy, s.label or "", size, anchor="lm")

    def _draw_heatmap(self, canvas: _Canvas, heat: Heatmap) -> None:
        import numpy as np

        box = self._box()
        k = len(heat.labels)
        values = np.asarray(heat.values, dtype=np.float64)
        side = min(box[2] - box[0] - 80 * _SCALE, box[3] - box[1])
        left = box[0] + (box[2] - box[0] - 80 * _SCALE - side) / 2
        square = (left, box[1], left + side, box[1] + side)
        cell = side / k
        high = float(values.max()) if values.size else 0.0
        middle = high / 2.0
        for i in range(k):
            for j in range(k):
                value = float(values[i, j])
                x, y = square[0] + j * cell, square[1] + i * cell
                canvas.fill((x, y, x + cell, y + cell), blues(value / high if high > 0 else 0.0))
                color = "white" if value > middle else "black"
                text = format(value, ".2g")
                canvas.text(x + cell / 2, y + cell / 2, text, heat.text_size, "mm", color)
        canvas.rectangle(square, "black", 0.8)
        centers = [i + 0.5 for i in range(k)]
        scale = _Scale(square, (0.0, float(k), float(k), 0.0))
        self._ticks(canvas, square, scale, centers, centers, heat.labels, heat.labels)
        self._labels(canvas, square, heat.labels)
        bar = (square[2] + 20 * _SCALE, square[1], square[2] + 32 * _SCALE, square[3])
        steps = int(bar[3] - bar[1])
        for n in range(steps):
            y = bar[3] - n - 1
            canvas.fill((bar[0], y, bar[2], y + 1), blues(n / max(steps - 1, 1)))
        canvas.rectangle(bar, "black", 0.8)
        ticks = nice_ticks(0.0, high, 6) if high > 0 else [0.0]
        bar_scale = _Scale(bar, (0.0, 1.0, 0.0, high if high > 0 else 1.0))
        for t in ticks:
            py = bar_scale.y(t)
            canvas.line([(bar[2], py), (bar[2] + 3.5 * _SCALE, py)], "black", 0.8)
            text = _label(t, ticks)
            canvas.text(bar[2] + 6 * _SCALE, py, text, self.tick_size, anchor="lm")


def _span(groups: list[Any]) -> tuple[float, float]:
    """matplotlib's view limits: the data's range with 5% margins on each side."""
    import numpy as np

    filled = [g for g in groups if g.size]
    if not filled:
        return 0.0, 1.0
    low = float(min(np.min(g) for g in filled))
    high = float(max(np.max(g) for g in filled))
    if high == low:
        return low - 0.5, high + 0.5
    margin = (high - low) * 0.05
    return low - margin, high + margin


class _Scale:
    """Data coordinates to pixels inside *box* (y grows upwards in the data)."""

    def __init__(
        self, box: tuple[float, float, float, float], limits: tuple[float, float, float, float]
    ) -> None:
        self.box = box
        x0, x1, y0, y1 = limits
        self.x0, self.y0 = x0, y0
        self.sx = (box[2] - box[0]) / (x1 - x0)
        self.sy = (box[3] - box[1]) / (y1 - y0)

    def x(self, value: float) -> float:
        return self.box[0] + (value - self.x0) * self.sx

    def y(self, value: float) -> float:
        return self.box[3] - (value - self.y0) * self.sy

    def xs(self, values: Any) -> list[float]:
        return list(self.box[0] + (values - self.x0) * self.sx)

    def ys(self, values: Any) -> list[float]:
        return list(self.box[3] - (values - self.y0) * self.sy)


class _Canvas:
    """Pillow's drawing calls in the units the chart uses (points scaled by _SCALE)."""

    def __init__(self, image: Any, draw: Any) -> None:
        self.image = image
        self.draw = draw
        self.fonts: dict[float, Any] = {}
        self.clipped: Any = None
        self.box = (0.0, 0.0, 0.0, 0.0)

    def font(self, size: float) -> Any:
        if size not in self.fonts:
            fonts = require("PIL.ImageFont")
            # points to pixels at the figures' 100 dots per inch
            self.fonts[size] = fonts.load_default(size=round(size * _SCALE * 100 / 72))
        return self.fonts[size]

    def width(self, text: str, size: float) -> float:
        return float(self.draw.textlength(text, font=self.font(size)))

    def height(self, size: float) -> float:
        _, top, _, bottom = self.font(size).getbbox("Ag")
        return float(bottom - top)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        anchor: str = "la",
        color: Any = "black",
    ) -> None:
        self.draw.text((x, y), text, fill=color, font=self.font(size), anchor=anchor)

    def vertical_text(self, x: float, y: float, text: str, size: float) -> None:
        """*text* turned a quarter left, its right edge at *x*, centred on *y*."""
        image_module = require("PIL.Image")
        draw_module = require("PIL.ImageDraw")
        font = self.font(size)
        left, top, right, bottom = font.getbbox(text)
        label = image_module.new("L", (int(right - left) + 4, int(bottom - top) + 4), 0)
        draw_module.Draw(label).text((2 - left, 2 - top), text, fill=255, font=font)
        turned = label.rotate(90, expand=True)
        spot = (int(x - turned.width), int(y - turned.height / 2))
        self.image.paste((0, 0, 0), spot, turned)

    def line(self, points: list[tuple[float, float]], color: Any, width: float) -> None:
        self.draw.line(points, fill=color, width=max(1, round(width * _SCALE)), joint="curve")

    def dashed(
        self,
        points: list[tuple[float, float]],
        color: Any,
        width: float,
        pattern: tuple[float, float],
    ) -> None:
        on, off = pattern[0] * _SCALE * width, pattern[1] * _SCALE * width
        for (ax, ay), (bx, by) in itertools.pairwise(points):
            length = math.hypot(bx - ax, by - ay)
            start = 0.0
            while start < length:
                end = min(start + on, length)
                t0, t1 = start / length, end / length
                segment = [
                    (ax + (bx - ax) * t0, ay + (by - ay) * t0),
                    (ax + (bx - ax) * t1, ay + (by - ay) * t1),
                ]
                self.line(segment, color, width)
                start = end + off

    def marker(self, x: float, y: float, kind: str, size: float, color: Any) -> None:
        r = size * _SCALE / 2
        if kind == "s":
            self.draw.rectangle((x - r, y - r, x + r, y + r), fill=color)
        else:
            self.draw.ellipse((x - r, y - r, x + r, y + r), fill=color)

    def rectangle(self, box: tuple[float, float, float, float], color: Any, width: float) -> None:
        self.draw.rectangle(box, outline=color, width=max(1, round(width * _SCALE)))

    def fill(self, box: tuple[float, float, float, float], color: Any) -> None:
        self.draw.rectangle(box, fill=color)

    def panel(self, box: tuple[float, float, float, float]) -> None:
        """A legend's frame: white, with a light gray edge and rounded corners."""
        self.draw.rounded_rectangle(
            box, radius=3 * _SCALE, fill="white", outline="#cccccc", width=_SCALE
        )

    def clip(self, box: tuple[float, float, float, float]) -> None:
        """Keep what is drawn next from spilling outside *box* (until :meth:`unclip`)."""
        self.clipped = self.image.copy()
        self.box = box

    def unclip(self) -> None:
        if self.clipped is None:
            return
        outside = self.clipped
        image_module = require("PIL.Image")
        mask = image_module.new("L", self.image.size, 255)
        x0, y0, x1, y1 = (int(v) for v in self.box)
        mask.paste(0, (x0, y0, x1 + 1, y1 + 1))
        self.image.paste(outside, (0, 0), mask)
        self.clipped = None
