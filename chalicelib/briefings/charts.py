"""Chart images (PNG) for the reports, drawn with Pillow and a Chinese font subset we ship.

Pillow is a few megabytes of well-kept imaging library; matplotlib with NumPy and fontTools was
over 100 MB of the one Lambda bundle every function shares (decision 45). The reports need only
grouped bars, horizontal bars and one line on a second axis, so this module is layout: nice
round ticks, gridlines, a legend, value labels where they fit, and an explicit 无数据 when there
is nothing to draw. Text is Chinese: the font is WenQuanYi Micro Hei cut to GB2312 and
punctuation (tools/subset_font.py); a character outside it draws as the font's missing-glyph
box, never an error. Labels too long for their room are cut with an ellipsis.

Pure: a :class:`Chart` in, PNG bytes out, the same bytes for the same chart (Pillow's basic
text layout, no timestamps in the PNG). Drawn at twice the logical size for sharp print.
"""

from __future__ import annotations

import functools
import io
import math
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from chalicelib.briefings.models import Chart

WIDTH, HEIGHT = 770, 330  # logical pixels; the PNG is SCALE times larger
SCALE = 2
FONT_FILE = Path(__file__).parent / "fonts" / "wqy-microhei-gb2312.ttf"
EMPTY_TEXT = "无数据"

BACKGROUND = (255, 255, 255)
INK = (51, 51, 51)
MUTED = (120, 120, 120)
GRID = (228, 228, 228)
AXIS = (150, 150, 150)
PALETTE = [(84, 112, 198), (145, 204, 117), (250, 200, 88), (154, 96, 180), (115, 192, 222)]
LINE = (238, 102, 102)

SMALL = 11  # label font size (logical px); value labels 10, the empty state 16
TOP = 34  # the row above the plot holds axis titles and the legend
_INVISIBLE = frozenset({"Cc", "Cf", "Cs"})
CATEGORY_LABEL_MAX = 170  # horizontal bars: the widest category label, then cut
# FreeType faces are not safe to share between threads; local mode serves requests in threads.
_LOCK = threading.Lock()


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILE), size * SCALE, layout_engine=ImageFont.Layout.BASIC)


def text_width(text: str, size: int = SMALL) -> float:
    return _font(size).getlength(text) / SCALE


def clean(text: str) -> str:
    """One line: whitespace folded; control, format and lone surrogate characters dropped (they
    have no glyph, and a surrogate cannot even be encoded). Anything else is kept: a character
    the font lacks draws as its missing-glyph box."""
    text = " ".join(str(text).split())
    return "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE)


def fit(text: str, width: float, size: int = SMALL) -> str:
    """``text`` cut with an ellipsis to at most ``width`` logical pixels."""
    text = clean(text)[:200]
    if text_width(text, size) <= width:
        return text
    lo, hi = 0, len(text)  # the longest prefix that fits with the ellipsis is text[:lo]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(text[:mid] + "…", size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…" if lo else ""


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [min(low, 0), max(high, 0)], about ``count`` intervals."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low <= 0:
        high = 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [round(i * step, 10) for i in range(first, last + 1)]


def number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:,.1f}"


def _values(values: list[float], n: int) -> list[float]:
    """Exactly ``n`` finite values: missing or non-finite ones are 0."""
    out = [v if isinstance(v, int | float) and math.isfinite(v) else 0.0 for v in values[:n]]
    return out + [0.0] * (n - len(out))


@dataclass(frozen=True)
class _Box:
    left: float
    top: float
    right: float
    bottom: float


class _Canvas:
    """ImageDraw in logical pixels."""

    def __init__(self) -> None:
        self.image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)

    def rect(self, box: _Box, fill: tuple[int, int, int]) -> None:
        x0, x1 = sorted((box.left, box.right))
        y0, y1 = sorted((box.top, box.bottom))
        self.draw.rectangle(
            [round(x0 * SCALE), round(y0 * SCALE), round(x1 * SCALE), round(y1 * SCALE)],
            fill=fill,
        )

    def line(
        self, points: list[tuple[float, float]], colour: tuple[int, int, int], width: float = 1
    ) -> None:
        scaled = [(x * SCALE, y * SCALE) for x, y in points]
        self.draw.line(scaled, fill=colour, width=max(1, round(width * SCALE)), joint="curve")

    def dot(self, x: float, y: float, radius: float, colour: tuple[int, int, int]) -> None:
        r = radius * SCALE
        self.draw.ellipse([x * SCALE - r, y * SCALE - r, x * SCALE + r, y * SCALE + r], fill=colour)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        anchor: str,
        size: int = SMALL,
        colour: tuple[int, int, int] = INK,
    ) -> None:
        if text:
            self.draw.text(
                (x * SCALE, y * SCALE), text, font=_font(size), fill=colour, anchor=anchor
            )

    def png(self) -> bytes:
        out = io.BytesIO()
        self.image.save(out, format="PNG")
        return out.getvalue()


def png(chart: Chart) -> bytes:
    """The chart as PNG bytes (``WIDTH`` × ``HEIGHT`` logical pixels at ``SCALE``)."""
    with _LOCK:
        canvas = _Canvas()
        n = len(chart.labels)
        bars = [(clean(s.name), _values(s.values, n)) for s in chart.bars]
        line = (clean(chart.line.name), _values(chart.line.values, n)) if chart.line else None
        if not n or not any(v for _, vs in bars + ([line] if line else []) for v in vs):
            _empty(canvas, chart)
        elif chart.horizontal:
            _horizontal(canvas, chart, bars)
        else:
            _vertical(canvas, chart, bars, line)
        return canvas.png()


def _empty(canvas: _Canvas, chart: Chart) -> None:
    box = _Box(48, TOP, WIDTH - 16, HEIGHT - 28)
    canvas.text(box.left, TOP / 2, fit(chart.y_label, 200), anchor="lm", colour=MUTED)
    canvas.line([(box.left, box.bottom), (box.right, box.bottom)], AXIS)
    mid_x, mid_y = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    canvas.text(mid_x, mid_y, EMPTY_TEXT, anchor="mm", size=16, colour=MUTED)


def _legend(
    canvas: _Canvas, entries: list[tuple[str, tuple[int, int, int], bool]], centre: float
) -> None:
    """Swatches and names in the top row, centred on ``centre``; a line entry shows a line."""
    items = [(fit(name, 140), colour, is_line) for name, colour, is_line in entries]
    widths = [18 + text_width(name) for name, _, _ in items]
    x = centre - (sum(widths) + 14 * (len(items) - 1)) / 2
    y = TOP / 2
    for (name, colour, is_line), width in zip(items, widths, strict=True):
        if is_line:
            canvas.line([(x, y), (x + 14, y)], colour, 2)
            canvas.dot(x + 7, y, 2.5, colour)
        else:
            canvas.rect(_Box(x + 2, y - 5, x + 12, y + 5), colour)
        canvas.text(x + 18, y, name, anchor="lm")
        x += width + 14


def _vertical(
    canvas: _Canvas,
    chart: Chart,
    bars: list[tuple[str, list[float]]],
    line: tuple[str, list[float]] | None,
) -> None:
    n = len(chart.labels)
    values = [v for _, vs in bars for v in vs]
    ticks = nice_ticks(min(values, default=0), max(values, default=0))
    tick_texts = [number(t) for t in ticks]
    left = 12 + max(text_width(t) for t in tick_texts)
    right: float = WIDTH - 16
    line_ticks: list[float] = []
    if line is not None:
        line_ticks = nice_ticks(min(line[1]), max(line[1]))
        right = WIDTH - 12 - max(text_width(number(t)) for t in line_ticks)
    box = _Box(left, TOP + 6, right, HEIGHT - 26)

    def y_of(value: float, scale: list[float]) -> float:
        span = scale[-1] - scale[0]
        return box.bottom - (value - scale[0]) / span * (box.bottom - box.top)

    for tick, label in zip(ticks, tick_texts, strict=True):
        y = y_of(tick, ticks)
        canvas.line([(box.left, y), (box.right, y)], AXIS if tick == 0 else GRID)
        canvas.text(box.left - 6, y, label, anchor="rm", colour=MUTED)
    for tick in line_ticks:
        canvas.text(box.right + 6, y_of(tick, line_ticks), number(tick), anchor="lm", colour=LINE)

    slot = (box.right - box.left) / n
    bar_width = slot * 0.8 / max(len(bars), 1)
    zero = y_of(0, ticks)
    for k, (_, vs) in enumerate(bars):
        colour = PALETTE[k % len(PALETTE)]
        for i, v in enumerate(vs):
            if not v:
                continue
            x0 = box.left + slot * (i + 0.1) + bar_width * k
            canvas.rect(_Box(x0, y_of(v, ticks), x0 + bar_width, zero), colour)
            text = number(v)
            if text_width(text, 10) <= bar_width + 4:
                y = y_of(v, ticks)
                canvas.text(
                    x0 + bar_width / 2,
                    y - 2 if v > 0 else y + 2,
                    text,
                    anchor="md" if v > 0 else "ma",
                    size=10,
                    colour=MUTED,
                )
    if line is not None:
        points = [(box.left + slot * (i + 0.5), y_of(v, line_ticks)) for i, v in enumerate(line[1])]
        canvas.line(points, LINE, 2)
        for x, y in points:
            canvas.dot(x, y, 2.5, LINE)

    # Category labels: every k-th one when they would collide, each cut to its room.
    widest = max(text_width(clean(label)) for label in chart.labels)
    every = max(1, math.ceil((widest + 6) / slot))
    room = slot * every - 6
    for i in range(0, n, every):
        x = box.left + slot * (i + 0.5)
        canvas.text(x, box.bottom + 6, fit(chart.labels[i], room), anchor="ma")

    canvas.text(8, TOP / 2, fit(chart.y_label, 160), anchor="lm", colour=MUTED)
    if line is not None:
        canvas.text(WIDTH - 8, TOP / 2, fit(chart.y2_label, 160), anchor="rm", colour=LINE)
    entries = [(name, PALETTE[k % len(PALETTE)], False) for k, (name, _) in enumerate(bars)]
    if line is not None:
        entries.append((line[0], LINE, True))
    if len(entries) > 1:
        _legend(canvas, entries, WIDTH / 2)


def _horizontal(canvas: _Canvas, chart: Chart, bars: list[tuple[str, list[float]]]) -> None:
    """Categories down the left (first on top), values along the bottom, each bar labelled."""
    n = len(chart.labels)
    labels = [fit(label, CATEGORY_LABEL_MAX) for label in chart.labels]
    values = [v for _, vs in bars for v in vs]
    ticks = nice_ticks(min(values), max(values))
    value_room = 8 + max(text_width(number(v), 10) for v in values)
    box = _Box(
        16 + max(text_width(label) for label in labels), TOP, WIDTH - value_room, HEIGHT - 40
    )

    def x_of(value: float) -> float:
        return box.left + (value - ticks[0]) / (ticks[-1] - ticks[0]) * (box.right - box.left)

    for tick in ticks:
        x = x_of(tick)
        canvas.line([(x, box.top), (x, box.bottom)], AXIS if tick == 0 else GRID)
        canvas.text(x, box.bottom + 6, number(tick), anchor="ma", colour=MUTED)
    slot = (box.bottom - box.top) / n
    bar_height = min(slot * 0.7 / max(len(bars), 1), 28)
    group = bar_height * len(bars)
    for i, label in enumerate(labels):
        centre = box.top + slot * (i + 0.5)
        canvas.text(box.left - 8, centre, label, anchor="rm")
        for k, (_, vs) in enumerate(bars):
            y0 = centre - group / 2 + bar_height * k
            v = vs[i]
            if v:
                canvas.rect(_Box(x_of(0), y0, x_of(v), y0 + bar_height), PALETTE[k % len(PALETTE)])
                x = x_of(v)
                canvas.text(
                    x + 4 if v > 0 else x - 4,
                    y0 + bar_height / 2,
                    number(v),
                    anchor="lm" if v > 0 else "rm",
                    size=10,
                    colour=MUTED,
                )
    canvas.text(box.right, HEIGHT - 12, fit(chart.y_label, 240), anchor="rm", colour=MUTED)
    if len(bars) > 1:
        _legend(
            canvas,
            [(name, PALETTE[k % len(PALETTE)], False) for k, (name, _) in enumerate(bars)],
            WIDTH / 2,
        )
