"""The briefing's pure parts: its period, the ≤ 200-character summary, the risk line, names."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from chalicelib.briefings import daily
from chalicelib.briefings.models import check_date, period_for
from chalicelib.core.errors import ValidationError
from chalicelib.incidents.names import wait_name


def test_the_period_is_the_24_hours_before_the_briefing_time_or_provisional_before_it() -> None:
    # GIVEN 08:00 China time (00:00 UTC) WHEN asked at 09:30 China time THEN the day before
    after = period_for(date(2026, 3, 2), time(8, 0), datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    assert (after.start, after.end, after.provisional) == (
        datetime(2026, 3, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 0, tzinfo=UTC),
        False,
    )
    # WHEN asked at 06:10 China time THEN the last 24 hours up to the current hour, provisional
    before = period_for(date(2026, 3, 2), time(8, 0), datetime(2026, 3, 1, 22, 10, tzinfo=UTC))
    assert before.end == datetime(2026, 3, 1, 23, tzinfo=UTC)
    assert before.provisional is True
    assert len(before.hours()) == 24


def _data(**over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "period": {"label": "2026-03-01 08:00 至 2026-03-02 08:00（北京时间）"},
        "volume": {"posts": 123456, "negative": 40000, "negative_share": 0.324},
        "platforms": [{"platform": "weibo-very-long-platform-name", "share": 0.9}],
        "top_clusters": [{"story": "很长的事件" * 80, "level": "III", "posts_in_period": 9999}],
        "incidents": [{"level": "IV"}] * 12,
        "sources": {"total": 60, "healthy": 51, "unhealthy": ["a"] * 9},
    }
    data.update(over)
    data["risk"] = daily.risk(data)
    return data


def test_the_summary_never_passes_200_characters_and_ends_in_the_risk_line() -> None:
    # GIVEN everything at its longest WHEN summarised
    text = daily.summary(_data())
    # THEN at most 200 characters, the last line the risk conclusion, kept whole
    assert len(text) <= 200
    assert text.split("\n")[-1] == daily.risk(_data())["conclusion"]
    assert text.split("\n")[-1].startswith("风险结论：较高")


@pytest.mark.parametrize(
    ("incidents", "clusters", "down", "grade"),
    [
        ([{"level": "II"}], [], [], "high"),
        ([], [{"level": "I"}], [], "high"),
        ([{"level": "III"}], [], [], "elevated"),
        ([{"level": "IV"}], [], [], "watch"),
        ([], [], ["forum"], "watch"),
        ([], [], [], "calm"),
    ],
)
def test_the_risk_grade_follows_levels_and_blind_spots(
    incidents: list[object], clusters: list[object], down: list[str], grade: str
) -> None:
    data = {
        "incidents": incidents,
        "top_clusters": clusters,
        "sources": {"unhealthy": down},
    }
    assert daily.risk(data)["grade"] == grade


@pytest.mark.parametrize("text", ["2026-02-30", "2026-2-3", "20260203", "２０２６-０１-０１"])
def test_a_bad_date_is_a_validation_error(text: str) -> None:
    with pytest.raises(ValidationError):
        check_date(text)


def test_the_summary_names_the_main_platform_in_chinese() -> None:
    # GIVEN most posts from Weibo WHEN summarised THEN the summary says 微博, not its code
    text = daily.summary(_data(platforms=[{"platform": "weibo", "share": 0.6}]))
    assert "主要来自微博（" in text
    assert "weibo" not in text


@pytest.mark.parametrize(
    ("kind", "group", "text"),
    [
        ("decision", "hq", "指挥部研判"),
        ("close", None, "结束响应"),
        ("ack#t1", "publicity", "宣传组 确认任务"),
        ("done#t1", "publicity", "宣传组 完成任务"),
        ("public#authoritative_info", "publicity", "宣传组 发布权威信息"),
        ("public#press_conference", None, "召开新闻发布会"),
    ],
)
def test_a_wait_is_named_as_the_board_names_it(kind: str, group: str | None, text: str) -> None:
    """GIVEN a wait of the board's kinds WHEN the briefing names it THEN as the dashboard does."""
    assert wait_name(kind, group, {"publicity": "宣传组", "hq": "指挥部"}.__getitem__) == text


def _incident(facts: dict[str, Any]) -> dict[str, Any]:
    meta = {
        "pk": "c-1",
        "level": "II",
        "status": "active",
        "deadlines": {"triage": {"due_at": "x"}},
    }
    data = daily.build(
        day=date(2026, 3, 2),
        period=period_for(date(2026, 3, 2), time(8), datetime(2026, 3, 2, 1, tzinfo=UTC)),
        now=datetime(2026, 3, 2, 1, tzinfo=UTC),
        organisation="滨江一院",
        plan_version=1,
        hours=[],
        top=[],
        clusters={},
        incidents=[(meta, facts)],
        sources=[],
    )
    incident: dict[str, Any] = data["incidents"][0]
    return incident


def test_an_incident_in_the_briefing_takes_its_deadline_and_breaches_from_the_board() -> None:
    """GIVEN the board's facts of an incident whose stored triage deadline never gets done_at
    WHEN briefed THEN the next deadline is the board's (or none), never that stale triage."""
    waiting = {
        "next_deadline": {"kind": "public#authoritative_info", "due_at": "2026-03-02T00:30:00Z"},
        "breaches": 2,
    }
    incident = _incident(waiting)
    assert incident["next_deadline"]["label"] == "发布权威信息"
    assert incident["next_deadline"]["overdue"] is True
    assert incident["breaches"] == 2
    assert _incident({"next_deadline": None, "breaches": 0})["next_deadline"] is None
    # An unreadable time is shown, never called overdue (and never a 500).
    odd = _incident({"next_deadline": {"kind": "close", "due_at": "soon"}, "breaches": 0})
    assert odd["next_deadline"]["overdue"] is False
