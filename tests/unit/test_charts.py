"""The chart renderer (Pillow + the shipped font subset): images that decode, Chinese that draws,
an explicit empty state, and nothing a crawled title carries can make it fail."""

from __future__ import annotations

import io

import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops

from chalicelib.briefings import charts
from chalicelib.briefings.models import Chart, Series

SIZE = (charts.WIDTH * charts.SCALE, charts.HEIGHT * charts.SCALE)
# Plane 15 private use: in no font subset, so both draw as the missing glyph.
MISSING = "\U000f0000\U000f0001"


def image(chart: Chart) -> Image.Image:
    picture = Image.open(io.BytesIO(charts.png(chart)))
    picture.load()
    return picture


def platforms(*labels: str) -> Chart:
    return Chart(
        caption="图2 平台分布（条）",
        labels=list(labels),
        bars=[Series("条数", [float(10 * (i + 1)) for i in range(len(labels))])],
        y_label="条数（条）",
        horizontal=True,
    )


def differs(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is not None


def test_a_day_of_hours_with_a_share_line_is_a_png_of_the_expected_size() -> None:
    # GIVEN 24 hours of posts with the negative share on a second axis
    chart = Chart(
        caption="图1",
        labels=[f"{h:02d}" for h in range(24)],
        bars=[Series("声量", [float(h * 7 % 50) for h in range(24)])],
        line=Series("负面占比", [float(h % 9) * 10 for h in range(24)]),
        y_label="声量（条）",
        y2_label="负面占比（%）",
    )

    # WHEN it is drawn twice
    first, second = charts.png(chart), charts.png(chart)

    # THEN it is a PNG of the documented size, and the same bytes both times
    picture = Image.open(io.BytesIO(first))
    assert picture.format == "PNG"
    assert picture.size == SIZE
    assert first == second


def test_grouped_bars_draw_one_colour_per_series() -> None:
    # GIVEN three drill incidents with four step outcomes each
    chart = Chart(
        caption="图1",
        labels=["#1", "#2", "#3"],
        bars=[Series(name, [3.0, 2.0, 1.0]) for name in ("按时", "超时完成", "未完成", "进行中")],
        y_label="环节（项）",
    )

    # WHEN it is drawn
    colours = {c for _, c in image(chart).convert("RGB").getcolors(maxcolors=1 << 20) or []}

    # THEN every series' colour is in the picture
    assert set(charts.PALETTE[:4]) <= colours


@pytest.mark.parametrize(
    "chart",
    [
        Chart("图2", ["-"], [Series("条数", [0.0])], y_label="条", horizontal=True),
        Chart("图1", [], [], y_label="条"),
        Chart("图1", ["00", "01"], [Series("声量", [0.0, 0.0])], Series("负面占比", [0.0, 0.0])),
    ],
    ids=["zero-bars", "no-labels", "zeros-with-a-line"],
)
def test_a_chart_without_data_says_so(chart: Chart) -> None:
    # GIVEN a chart whose values are all zero (or absent)
    # WHEN it is drawn
    picture = image(chart).convert("L")

    # THEN it is the right size and its middle carries text (无数据), not an empty plot
    assert picture.size == SIZE
    w, h = SIZE
    middle = picture.crop((w // 3, h // 3, 2 * w // 3, 2 * h // 3))
    assert sum(middle.histogram()[:160]) > 0  # some pixels darker than the light grid


def test_chinese_labels_draw_their_own_glyphs() -> None:
    # GIVEN the same chart labelled in Chinese and with two characters no font subset holds
    chinese = image(platforms("微博", "论坛"))
    boxes = image(platforms(MISSING, MISSING))

    # THEN the Chinese draws differently from two missing-glyph boxes: the font has its glyphs
    assert differs(chinese, boxes)
    # AND different Chinese draws differently
    assert differs(chinese, image(platforms("新闻", "论坛")))


@pytest.mark.parametrize(
    "label",
    [
        MISSING,
        "𠀀𪚥 emoji 😀 and 한국어",
        "control\x00\x07chars\ttab\nnewline\u200b\ufeff",
        "lone surrogate \ud800",
        "",
        "长" * 500,
    ],
    ids=["private-use", "rare-hanzi-emoji-hangul", "control", "surrogate", "empty", "very-long"],
)
def test_no_label_a_crawl_can_carry_breaks_the_chart(label: str) -> None:
    # GIVEN a label with characters outside the font, control characters, or none at all
    # WHEN it is drawn as a category, a series name and an axis title
    chart = Chart(
        caption="图",
        labels=[label, "微博"],
        bars=[Series(label, [1.0, 2.0]), Series("条数", [2.0, 1.0])],
        line=Series(label, [5.0, 6.0]),
        y_label=label,
        y2_label=label,
    )

    # THEN it is a PNG of the expected size
    assert image(chart).size == SIZE


def test_values_that_are_missing_or_not_finite_count_as_zero() -> None:
    # GIVEN a series shorter than its labels and one with NaN and infinity
    chart = Chart(
        caption="图",
        labels=["a", "b", "c"],
        bars=[Series("条数", [1.0]), Series("负", [float("nan"), float("inf"), 2.0])],
    )

    # THEN it still draws
    assert image(chart).size == SIZE


def test_a_long_title_is_cut_to_its_width_with_an_ellipsis() -> None:
    # GIVEN a cluster's story far wider than the room for a category label
    story = "滨江区居民反映小区供水中断超过十二小时，物业回应称正在抢修，居民质疑信息不透明"

    # WHEN it is fitted to 120 logical pixels
    cut = charts.fit(story, 120)

    # THEN it is a prefix ending in an ellipsis that fits, and a short title stays whole
    assert cut.endswith("…")
    assert story.startswith(cut[:-1])
    assert charts.text_width(cut) <= 120
    assert charts.fit("微博", 120) == "微博"


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 203, [0, 50, 100, 150, 200, 250]),
        (0, 3, [0, 1, 2, 3]),
        (0, 72.7, [0, 20, 40, 60, 80]),
        (0, 0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (-3, 9, [-5, -2.5, 0, 2.5, 5, 7.5, 10]),
        (0, 1_234_567, [0, 250_000, 500_000, 750_000, 1_000_000, 1_250_000]),
    ],
)
def test_ticks_are_round_numbers_covering_zero_and_the_values(
    low: float, high: float, expected: list[float]
) -> None:
    assert charts.nice_ticks(low, high) == expected


def test_the_font_subset_holds_every_gb2312_hanzi() -> None:
    # GIVEN the 6,763 hanzi of GB2312 (rows 16-87)
    hanzi = set()
    for row in range(0xB0, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                hanzi.add(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    assert len(hanzi) == 6763

    # WHEN the shipped font's character map is read
    cmap = TTFont(charts.FONT_FILE, lazy=True).getBestCmap()

    # THEN every one of them, the ellipsis, ASCII and the punctuation of our labels is there
    assert {ord(c) for c in hanzi} <= set(cmap)
    assert {ord(c) for c in "…（）%：、，。 AZaz09#-"} <= set(cmap)
    # AND it stays small enough for the one Lambda bundle
    assert charts.FONT_FILE.stat().st_size < 3_000_000
