"""Pure parts of the live picture: query parsing, feed cursors, hourly lines, board facts."""

from collections import Counter
from typing import Any

import pytest

from chalicelib.core.errors import ValidationError
from chalicelib.incidents.queries import board_facts, pending_public_deadline
from chalicelib.trends.models import HourCounts, hourly_series
from chalicelib.trends.service import (
    encode_cursor,
    parse_cluster_query,
    parse_feed_query,
    parse_trend_query,
    public_post,
)


def test_a_feed_query_reads_every_filter() -> None:
    query = parse_feed_query(
        {
            "subject": "hospital",
            "platform": "weibo",
            "level": "II",
            "negative": "true",
            "limit": "7",
        }
    )
    assert query.filter.subject == "hospital"
    assert query.filter.platform == "weibo"
    assert query.filter.level == "II"
    assert query.filter.negative_only is True
    assert query.filter.drill is False
    assert query.limit == 7
    assert query.day is None


def test_defaults_and_unknown_parameters_are_ignored() -> None:
    assert parse_feed_query({"utm": "x"}).limit == 50
    assert parse_cluster_query(None).by == "growth"
    assert parse_trend_query({}).hours == 24


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"limit": "201"}, "/limit"),
        ({"limit": "٣"}, "/limit"),  # a digit, but not an ASCII one
        ({"negative": "yes"}, "/negative"),
        ({"day": "2026-13-01"}, "/day"),
        ({"subject": "医院"}, "/subject"),
        ({"cursor": "e30"}, "/cursor"),  # {} — decodes, but is no key
    ],
)
def test_each_bad_feed_parameter_is_named(params: dict[str, str], path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_feed_query(params)
    assert [p.path for p in caught.value.problems] == [path]


def test_a_cursor_must_be_for_a_calendar_day_and_the_day_asked_for() -> None:
    """GIVEN cursors shaped like those given out WHEN one names 2026-99-99, or another day than
    ``day`` THEN the query is a 400 on /cursor; one for the day asked for is read."""
    key = {"pk": "p1", "day": "2026-11-25", "seen_at": "2026-11-25T08:00:00+00:00"}
    for params in (
        {"cursor": encode_cursor({**key, "day": "2026-99-99"})},
        {"cursor": encode_cursor(key), "day": "2026-11-24"},
    ):
        with pytest.raises(ValidationError) as caught:
            parse_feed_query(params)
        assert [p.path for p in caught.value.problems] == ["/cursor"]
    assert parse_feed_query({"cursor": encode_cursor(key), "day": "2026-11-25"}).cursor == key


def test_a_cursor_given_out_is_read_back() -> None:
    key = {"pk": "p" + "a" * 32, "day": "2026-11-25", "seen_at": "2026-11-25T08:00:00+00:00"}
    assert parse_feed_query({"cursor": encode_cursor(key)}).cursor == key


def test_a_served_post_has_an_id_and_no_table_keys() -> None:
    served = public_post({"pk": "p1", "day": "2026-11-25", "expires_at": 1, "title": "t"})
    assert served == {"post_id": "p1", "title": "t"}


def hour(
    day: str, hour_: int, platform: str, posts: int, negative: int, **subjects: int
) -> HourCounts:
    return HourCounts(
        day,
        hour_,
        platform,
        posts=posts,
        negative=negative,
        levels=Counter({"III": 1}),
        subjects=Counter(subjects),
        subjects_negative=Counter({k: 1 for k in subjects}),
    )


def test_hourly_lines_put_each_count_in_its_hour_and_zero_elsewhere() -> None:
    # GIVEN a three-hour window across midnight and counts inside and outside it
    slots = [("2026-11-24", 23), ("2026-11-25", 0), ("2026-11-25", 1)]
    counts = [
        hour("2026-11-24", 23, "weibo", 5, 2, hospital=3),
        hour("2026-11-25", 1, "weibo", 1, 0),
        hour("2026-11-25", 1, "news", 4, 4, hospital=2),
        hour("2026-11-24", 22, "news", 99, 99),  # before the window
    ]
    series = hourly_series(slots, counts)
    assert series.hours[0] == "2026-11-24T23:00:00+00:00"
    assert series.posts == [5, 0, 5]
    assert series.negative == [2, 0, 4]
    assert series.by_platform["weibo"] == ([5, 0, 1], [2, 0, 0])
    assert list(series.by_platform) == ["weibo", "news"]  # the bigger platform first
    assert series.by_subject["hospital"] == ([3, 0, 2], [1, 0, 1])
    assert series.levels == {"III": 3}


def test_the_board_shows_the_earliest_wait_and_counts_every_breach() -> None:
    items: list[dict[str, Any]] = [
        {
            "sk": "META",
            "breaches": [{"kind": "triage"}],
            "deadlines": {
                "report_hq": {"due_at": "x", "met": True},
                "authoritative_info": {"due_at": "y", "met": False},
            },
        },
        {"sk": "TASK#office-1", "breaches": [{"kind": "ack"}, {"kind": "done"}]},
        {"sk": "TASK#tech-1"},
        {
            "sk": "TOKEN#done#office-1",
            "status": "waiting",
            "deadline_at": "2026-11-25T10:00:00+00:00",
            "group": "office",
        },
        {
            "sk": "TOKEN#ack#tech-1",
            "status": "waiting",
            "deadline_at": "2026-11-25T09:00:00+00:00",
            "group": "tech",
        },
        {"sk": "TOKEN#decision", "status": "answered", "deadline_at": "2026-11-25T08:00:00+00:00"},
    ]
    facts = board_facts(items)
    assert facts["next_deadline"] == {
        "kind": "ack#tech-1",
        "due_at": "2026-11-25T09:00:00+00:00",
        "since": None,
        "group": "tech",
    }
    assert facts["breaches"] == 4  # triage, two on office's task, one public deadline missed


def test_the_board_counts_down_a_public_deadline_until_a_statement_is_released() -> None:
    """GIVEN an incident whose workflow recorded the 5 h 权威信息 deadline, earlier than any wait
    WHEN the board is built THEN it counts that down; AND once a statement is released it does
    not (the release meets it), and the next wait on people shows instead."""
    meta = {
        "sk": "META",
        "public_deadline": {
            "kind": "authoritative_info",
            "due_at": "2026-11-25T08:30:00.500000+00:00",
            "since": "2026-11-25T03:30:00+00:00",
            "group": "publicity",
        },
    }
    task = {
        "sk": "TOKEN#done#office-1",
        "status": "waiting",
        "deadline_at": "2026-11-25T09:00:00+00:00",
        "since": "2026-11-25T03:31:00+00:00",
        "group": "office",
    }
    facts = board_facts([meta, task])
    assert facts["next_deadline"] == {
        "kind": "public#authoritative_info",
        "due_at": "2026-11-25T08:30:00.500000+00:00",
        "since": "2026-11-25T03:30:00+00:00",
        "group": "publicity",
    }
    assert pending_public_deadline([meta]) == facts["next_deadline"]

    draft = {"sk": "STMT#s1", "status": "approved"}
    assert board_facts([meta, task, draft])["next_deadline"]["kind"] == "public#authoritative_info"
    released = {"sk": "STMT#s1", "status": "released", "released_at": "2026-11-25T05:00:00+00:00"}
    assert board_facts([meta, task, released])["next_deadline"]["kind"] == "done#office-1"
    assert pending_public_deadline([meta, released]) is None
    # the workflow clears it once no public deadline remains
    assert board_facts([{**meta, "public_deadline": None}])["next_deadline"] is None


def test_an_incident_waiting_for_nobody_has_no_next_deadline() -> None:
    assert board_facts([{"sk": "META"}]) == {"next_deadline": None, "breaches": 0}
