"""The search's window, cursor and searchable text (:mod:`chalicelib.search.models`): pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.core.errors import Problem
from chalicelib.search.models import (
    Position,
    SearchCursor,
    Window,
    decode_cursor,
    encode_cursor,
    fingerprint,
    parse_bound,
    searchable_text,
)


def utc(year: int, month: int, day: int, hour: int = 0, *rest: int) -> datetime:
    minute, second, micro = (*rest, 0, 0, 0)[:3]
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2026-03-09", False, utc(2026, 3, 8, 16)),  # a China day starts at 16:00 UTC
        ("2026-03-09", True, utc(2026, 3, 9, 16)),  # and `to` takes all of it
        ("2026-03-09T08:00Z", False, utc(2026, 3, 9, 8)),
        ("2026-03-09T08:00:00.5+08:00", True, utc(2026, 3, 9, 0, 0, 0, 500000)),
        ("2026-03-09T08:00-05:00", False, utc(2026, 3, 9, 13)),
    ],
)
def test_from_and_to_are_china_dates_or_instants_with_an_offset(
    text: str, end: bool, expected: datetime
) -> None:
    assert parse_bound(text, end=end) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-09T08:00",  # no offset: whose 08:00?
        "2026-3-9",
        "20260309",
        "2026-W10-1",
        "2026-02-30",
        "2026-03-09T24:00Z",
        "2026-03-09T08:00+25:00",
        "1999-12-31T23:59Z",
        "2100-01-02",
        "9999-12-31",
        "",
        "今天",
    ],
)
def test_anything_else_is_not_a_bound(text: str) -> None:
    assert parse_bound(text, end=True) is None
    assert parse_bound(text, end=False) is None


def test_a_window_reads_its_utc_days_newest_first_each_between_two_iso_strings() -> None:
    window = Window(utc(2026, 3, 8, 16), utc(2026, 3, 9, 16))  # 9 March, China time
    assert window.days() == ["2026-03-09", "2026-03-08"]
    assert window.bounds("2026-03-09") == (
        "2026-03-09T00:00:00+00:00",
        "2026-03-09T15:59:59.999999+00:00",
    )
    assert window.bounds("2026-03-08") == (
        "2026-03-08T16:00:00+00:00",
        "2026-03-08T23:59:59.999999+00:00",
    )
    assert Window(utc(2026, 3, 9), utc(2026, 3, 9)).days() == []
    assert Window(utc(2026, 3, 9), utc(2026, 3, 10)).days() == ["2026-03-09"]


def test_stored_times_sort_as_the_instants_they_name() -> None:
    # seen_at is iso() of a UTC time: six fraction digits, or none when they are all zero
    ordered = [
        "2026-03-09T09:59:59.999999+00:00",
        "2026-03-09T10:00:00+00:00",
        "2026-03-09T10:00:00.000001+00:00",
        "2026-03-09T10:00:00.500000+00:00",
        "2026-03-09T10:00:01+00:00",
    ]
    assert sorted(ordered) == ordered
    window = Window(utc(2026, 3, 9, 10), utc(2026, 3, 9, 10, 0, 1))
    inside = [window.contains("2026-03-09", t) for t in ordered]
    assert inside == [False, True, True, True, False]


def _cursor(key: bool = True) -> SearchCursor:
    window = Window(utc(2026, 2, 28, 16), utc(2026, 3, 10, 16))
    seen = "2026-03-09T03:00:00+00:00"
    position = Position("2026-03-09", {"pk": "p" + "a" * 32, "day": "2026-03-09", "seen_at": seen})
    return SearchCursor("0123456789abcdef", window, position if key else Position("2026-03-08"))


@pytest.mark.parametrize("key", [True, False])
def test_a_cursor_comes_back_as_it_was_made_and_fits_a_query_value(key: bool) -> None:
    cursor = _cursor(key)
    text = encode_cursor(cursor)
    assert len(text) <= 400
    assert decode_cursor(text) == cursor


def test_a_changed_cursor_is_refused() -> None:
    text = encode_cursor(_cursor())
    original = decode_cursor(text)
    for at in range(len(text)):
        for replacement in "AZa9-_":
            if text[at] == replacement:
                continue
            changed = decode_cursor(text[:at] + replacement + text[at + 1 :])
            # The last character's spare bits may not change the bytes: then it is the same cursor
            assert changed is None or changed == original, (at, replacement)


def test_a_cursor_whose_position_is_outside_its_window_is_refused() -> None:
    made = _cursor()
    late = {"pk": "p1", "day": "2026-03-09", "seen_at": "2026-03-10T01:00:00+00:00"}
    for position in (Position("2026-03-11"), Position("2026-03-09", late)):
        assert decode_cursor(encode_cursor(SearchCursor("f", made.window, position))) is None
    too_long = Window(utc(2026, 1, 1), utc(2026, 3, 1))
    assert decode_cursor(encode_cursor(SearchCursor("f", too_long, Position("2026-02-28")))) is None


def test_the_fingerprint_changes_with_the_rule_and_each_filter() -> None:
    base = ["医院 AND 投诉", None, None, None, False, False]
    variants = [
        ["医院 AND  投诉", None, None, None, False, False],
        ["医院 AND 投诉", "hospital", None, None, False, False],
        ["医院 AND 投诉", None, "weibo", None, False, False],
        ["医院 AND 投诉", None, None, "IV", False, False],
        ["医院 AND 投诉", None, None, None, True, False],
        ["医院 AND 投诉", None, None, None, False, True],
    ]
    assert len({fingerprint(base), *(fingerprint(v) for v in variants)}) == 7


def test_a_rule_reads_the_title_and_the_text_normalised() -> None:
    assert searchable_text({"title": "ＡＢＣ公司", "text": "回应质疑"}) == "abc公司\n回应质疑"
    # A text that starts with its title (a Weibo post) is read once
    assert searchable_text({"title": "停水", "text": "停水一整天"}) == "停水一整天"
    assert searchable_text({"title": "只有标题"}) == "只有标题"
    assert searchable_text({}) == ""


def test_a_problem_may_name_a_position_in_a_text() -> None:
    assert Problem("/q", "unexpected ')' (at position 3)", 3).as_dict() == {
        "path": "/q",
        "message": "unexpected ')' (at position 3)",
        "position": 3,
    }
    assert Problem("/q", "x").as_dict() == {"path": "/q", "message": "x"}
