"""Item sizes follow DynamoDB's documented rules; a post is cut to one write unit."""

from decimal import Decimal
from typing import Any

from chalicelib.posts.sizing import POST_BUDGET, fit_post, item_size, value_size, write_units


def test_sizes_follow_the_documented_rules() -> None:
    # Strings are UTF-8 bytes (a Chinese character is 3), names count too.
    assert item_size({"pk": "abc"}) == 2 + 3
    assert item_size({"t": "舆情"}) == 1 + 6
    # Numbers: one byte per two significant digits, plus one; zeros at either end trimmed.
    assert value_size(1700000000) == 2
    assert value_size(0.9992) == 3
    assert value_size(Decimal("0.05")) == 2
    assert value_size(0) == 2
    # Booleans and nulls: one byte. Lists and maps: 3 bytes + 1 per element + the elements.
    assert value_size(True) == 1
    assert value_size([]) == 3
    assert value_size(["a", "bc"]) == 3 + (1 + 1) + (2 + 1)
    assert value_size({"n": 1}) == 3 + (1 + 2 + 1)
    # None values are not stored at all.
    assert item_size({"pk": "a", "author": None}) == 3


def test_write_units_round_up_per_kilobyte() -> None:
    assert write_units(0) == 1
    assert write_units(1024) == 1
    assert write_units(1025) == 2


def test_a_small_post_is_left_as_it_is() -> None:
    record = {"pk": "p1", "text": "市一院门口发生爆炸", "reasons": ["危机词：爆炸"]}
    assert fit_post(record) == record


def test_a_long_post_is_cut_to_the_budget_and_says_how_long_it_was() -> None:
    text = "市第一人民医院发生医疗事故，" * 200
    record = {"pk": "p" + "0" * 32, "url": "https://weibo.com/1/abc", "text": text, "risk": 0.8}

    fitted = fit_post(record)

    assert item_size(fitted) <= POST_BUDGET
    assert fitted["text_cut"] == len(text)
    assert text.startswith(fitted["text"])
    assert len(fitted["text"]) > 100
    assert fitted["url"] == record["url"]
    assert fitted["risk"] == 0.8
    # Never half a character.
    fitted["text"].encode("utf-8").decode("utf-8")


def test_when_text_alone_is_not_enough_reasons_then_the_title_are_cut() -> None:
    record: dict[str, Any] = {
        "pk": "p1",
        "title": "标题" * 200,
        "text": "正文" * 10,
        "reasons": ["命中监测主体「市第一人民医院」：市一院" * 5] * 6,
    }

    fitted = fit_post(record, budget=600)

    assert item_size(fitted) <= 600
    assert "text" not in fitted
    assert fitted["title"]
    assert record["title"].startswith(fitted["title"])
