"""Injecting drill events on time, once, with a fake store, injector and clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.auth.models import Principal, Role
from chalicelib.drills.scenario import parse_scenario
from chalicelib.drills.service import DrillService

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
HQ = Principal("指挥部值班", Role.HQ)


class FakeStore:
    def __init__(self) -> None:
        self.drills: dict[str, dict[str, Any]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}

    def create(self, drill: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> bool:
        if drill["drill_id"] in self.drills:
            return False
        self.drills[drill["drill_id"]] = dict(drill)
        self.events[drill["drill_id"]] = [dict(e) for e in events]
        return True

    def items(self, drill_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        return self.drills.get(drill_id), sorted(
            self.events.get(drill_id, []), key=lambda e: e["index"]
        )

    def mark_injected(
        self, drill_id: str, index: int, at: str, incidents: list[str], posts: list[str]
    ) -> bool:
        event = next(e for e in self.events[drill_id] if e["index"] == index)
        if event.get("injected_at"):
            return False
        event.update(injected_at=at, incident_ids=incidents, post_ids=posts)
        return True

    def add_incidents(self, drill_id: str, ids: Iterable[str]) -> None:
        self.drills[drill_id].setdefault("incidents", set()).update(ids)

    def finish_injecting(self, drill_id: str, at: str) -> None:
        self.drills[drill_id]["state"] = "injected"

    def recent(self, limit: int = 50, *, running_only: bool = False) -> list[dict[str, Any]]:
        return [d for d in self.drills.values() if not running_only or d["state"] == "running"]


class Clock:
    def __init__(self) -> None:
        self.now = T0
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


class Injector:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def inject(
        self, drill: Mapping[str, Any], event: Mapping[str, Any]
    ) -> tuple[list[str], list[str]]:
        self.calls.append(int(event["index"]))
        return [f"c-{event['index']}"], []


SCENARIO = parse_scenario(
    {
        "name": "x",
        "events": [
            {"at_minutes": 0, "kind": "post", "text": "a"},
            {"at_minutes": 1, "kind": "post", "text": "b"},
            {"at_minutes": 10, "kind": "post", "text": "c"},
        ],
    },
    set(),
)


def service(clock: Clock, injector: Injector, store: FakeStore) -> DrillService:
    return DrillService(store, injector, None, None, 0.1, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]


def test_start_injects_what_is_due_and_advance_the_rest_once_each() -> None:
    clock, injector, store = Clock(), Injector(), FakeStore()
    drills = service(clock, injector, store)
    started = drills.start(HQ, SCENARIO, "", "dr-abcdef")
    assert injector.calls == [0]
    assert started["state"] == "running"
    assert drills.advance("dr-abcdef", T0 + timedelta(seconds=6)) == [1]  # 1 min × 0.1
    assert drills.advance("dr-abcdef", T0 + timedelta(seconds=6)) == []
    assert drills.advance("dr-abcdef", T0 + timedelta(seconds=60)) == [2]
    assert injector.calls == [0, 1, 2]
    assert store.drills["dr-abcdef"]["state"] == "injected"
    assert store.drills["dr-abcdef"]["incidents"] == {"c-0", "c-1", "c-2"}


def test_a_tick_injects_events_as_they_fall_due_within_its_window() -> None:
    clock, injector, store = Clock(), Injector(), FakeStore()
    drills = service(clock, injector, store)
    drills.start(HQ, SCENARIO, "", "dr-abcdef")
    # WHEN a tick with a 30 s window runs: the 6 s event is in it, the 60 s one is not
    assert drills.tick(30) == {"dr-abcdef": [1]}
    assert clock.now == T0 + timedelta(seconds=6)
    # AND the next tick, a minute later, injects the last one
    clock.now = T0 + timedelta(seconds=61)
    assert drills.tick(30) == {"dr-abcdef": [2]}
    assert drills.tick(30) == {}
