"""Schedules in local mode fire as EventBridge would: rate and cron (UTC)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from chalice import Cron, Rate

from chalicelib.local.scheduler import (
    FIRST_FIRE_DELAY,
    CronSpec,
    Schedule,
    Scheduler,
    scheduled_event,
)


def test_rate_objects_and_strings_parse_to_intervals() -> None:
    assert Schedule.parse(Rate(5, unit=Rate.MINUTES)).interval == timedelta(minutes=5)
    assert Schedule.parse(Rate(1, unit=Rate.HOURS)).interval == timedelta(hours=1)
    assert Schedule.parse("rate(2 days)").interval == timedelta(days=2)


def test_rate_fires_shortly_after_start_then_at_its_rate() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    schedule = Schedule.parse("rate(10 minutes)")
    assert schedule.first_after(start) == start + FIRST_FIRE_DELAY
    assert schedule.next_after(start) == start + timedelta(minutes=10)


def test_daily_briefing_cron_is_evaluated_in_utc() -> None:
    # 08:00 Asia/Shanghai is 00:00 UTC.
    schedule = Schedule.parse(Cron(0, 0, "*", "*", "?", "*"))
    after = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert schedule.next_after(after) == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


def test_cron_weekdays_count_from_sunday_and_accept_names() -> None:
    # 2026-11-25 is a Wednesday. MON-FRI at 09:15 → the same day 09:15 if still ahead.
    spec = CronSpec.parse("15 9 ? * MON-FRI *")
    assert spec.next_after(datetime(2026, 11, 25, 8, 0, tzinfo=UTC)) == datetime(
        2026, 11, 25, 9, 15, tzinfo=UTC
    )
    # Sunday only (1): from Wednesday the next is 2026-11-29.
    sunday = CronSpec.parse("0 12 ? * 1 *")
    assert sunday.next_after(datetime(2026, 11, 25, tzinfo=UTC)) == datetime(
        2026, 11, 29, 12, 0, tzinfo=UTC
    )


def test_cron_steps_lists_and_months() -> None:
    spec = CronSpec.parse("0/20 8,20 1 JAN-MAR ? *")
    at = spec.next_after(datetime(2026, 11, 25, tzinfo=UTC))
    assert at == datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
    assert spec.next_after(at) == datetime(2027, 1, 1, 8, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    "expression",
    ["rate(5 fortnights)", "cron(0 8 * *)", "cron(0 8 L * ? *)", "cron(61 8 * * ? *)", "every day"],
)
def test_unsupported_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(ValueError, match=r"cron|schedule"):
        Schedule.parse(expression)


def test_scheduled_event_has_eventbridge_shape() -> None:
    event = scheduled_event(
        "yuqing-local-x", "123456789012", "us-east-1", datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2026-01-01T00:00:00Z"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/yuqing-local-x-event"]


def test_scheduler_fires_repeatedly_and_never_overlaps_one_schedule() -> None:
    fired: list[str] = []
    running = threading.Semaphore(1)
    overlaps: list[str] = []

    def fire(name: str) -> None:
        if not running.acquire(blocking=False):
            overlaps.append(name)
            return
        try:
            fired.append(name)
            time.sleep(0.15)  # slower than the interval: ticks arriving meanwhile are skipped
        finally:
            running.release()

    scheduler = Scheduler({"fast": Schedule(interval=timedelta(milliseconds=100))}, fire)
    scheduler.start()
    deadline = time.monotonic() + 5
    while len(fired) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.stop()
    assert len(fired) >= 3
    assert overlaps == []


def test_a_failing_schedule_does_not_stop_the_others() -> None:
    fired: list[str] = []

    def fire(name: str) -> None:
        fired.append(name)
        if name == "bad":
            raise RuntimeError("boom")

    every = Schedule(interval=timedelta(milliseconds=100))
    scheduler = Scheduler({"bad": every, "good": every}, fire)
    scheduler.start()
    deadline = time.monotonic() + 5
    while fired.count("good") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.stop()
    assert fired.count("good") >= 2
    assert fired.count("bad") >= 2


def test_stopping_does_not_wait_for_a_schedule_still_running() -> None:
    # GIVEN a schedule whose function is stuck (held at local mode's gate during a stop)
    entered, release = threading.Event(), threading.Event()

    def fire(name: str) -> None:
        entered.set()
        release.wait(30)

    scheduler = Scheduler({"stuck": Schedule(interval=timedelta(milliseconds=50))}, fire)
    scheduler.start()
    assert entered.wait(5)
    # WHEN the scheduler stops THEN it returns without waiting for the function
    stopped = threading.Thread(target=scheduler.stop)
    stopped.start()
    stopped.join(10)
    try:
        assert not stopped.is_alive()
    finally:
        release.set()
