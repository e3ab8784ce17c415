"""Drill scenarios: the bundled ones are valid and deployed as written, times scale, reposts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.core.errors import ValidationError
from chalicelib.drills.scenario import (
    BUNDLED_DIR,
    bundled_names,
    load_bundled,
    parse_request,
    post_texts,
)
from chalicelib.scoring.text import story_text

SUBJECTS = {"hospital", "integrity", "safety"}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "drills"


def test_the_bundled_scenarios_are_valid_and_the_examples_are_the_same_files() -> None:
    assert bundled_names() == ["repost-storm", "rumour-accident", "slow-complaint"]
    for name in bundled_names():
        scenario = load_bundled(name, SUBJECTS)
        assert scenario.bundled == name
        assert [e.at_minutes for e in scenario.events] == sorted(
            e.at_minutes for e in scenario.events
        )
        deployed = json.loads((BUNDLED_DIR / f"{name}.json").read_text(encoding="utf-8"))
        example = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
        assert deployed == example, f"examples/drills/{name}.json differs from the deployed copy"


def test_events_fall_due_at_scaled_plan_minutes_in_time_order() -> None:
    scenario, note = parse_request(
        {
            "scenario": {
                "name": "x",
                "events": [
                    {"at_minutes": 30, "kind": "post", "text": "b"},
                    {"at_minutes": 0, "kind": "post", "text": "a"},
                ],
            },
            "note": "季度演练",
        },
        SUBJECTS,
    )
    assert note == "季度演练"
    assert [e.index for e in scenario.events] == [1, 0]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert scenario.events[1].due_at(start, 0.01) == start + timedelta(seconds=18)


def test_copies_are_reposts_of_one_story() -> None:
    texts = post_texts({"text": "滨江一院门诊楼爆炸传言", "author": "甲", "copies": 3})
    assert len(texts) == 3
    assert texts[1].endswith("//@甲:滨江一院门诊楼爆炸传言")
    assert {story_text(t) for t in texts} == {story_text(texts[0])}


def test_a_report_event_is_checked_as_post_reports_checks_it() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_request(
            {
                "scenario": {
                    "name": "x",
                    "events": [
                        {
                            "at_minutes": 0,
                            "kind": "report",
                            "title": "t",
                            "content": "c",
                            "subject": "nosuch",
                        }
                    ],
                }
            },
            SUBJECTS,
        )
    assert [p.path for p in caught.value.problems] == ["/scenario/events/0/subject"]
