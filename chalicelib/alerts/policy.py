"""When an alert is tried again, repeated or escalated (重试、提醒、升级): the timing, pure.

Two clocks run on an outbox message. A publish that fails is tried again after a backoff (30 s
doubling to at most 2 minutes, every level, decision 72). An alert that needs an ack and has not
had one is repeated to its group every ``repeat_interval_minutes`` (at most ``max_repeats``) and
escalated to the groups of each escalation step once its ``after_minutes`` have passed since it
was sent. Every plan duration is × the stage's ``time_scale`` and at least one second. The
sending and follow-up code reads the times from here; nothing here reads a clock or a table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

BACKOFF_BASE_S = 30.0
# The longest wait between two attempts at one message, for every level (decision 72): after SNS
# comes back, every alert is out within this (plus one schedule tick for those the outage
# breaker held back, which are due all along).
BACKOFF_MAX_S = 120.0


def backoff(attempts: int, time_scale: float) -> timedelta:
    """30 s, 60 s, then 120 s for every further attempt, × the time scale (at least 1 s)."""
    seconds = min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S) * time_scale
    return timedelta(seconds=max(seconds, 1.0))


def plan_delay(minutes: Any, time_scale: float) -> timedelta:
    """A duration of the escalation policy (minutes) at the stage's time scale, at least 1 s."""
    return timedelta(seconds=max(float(minutes) * 60 * time_scale, 1.0))


def next_follow_up(
    policy: Mapping[str, Any], item: Mapping[str, Any], sent_at: datetime, time_scale: float
) -> datetime | None:
    """When the alert sent at ``sent_at`` is next repeated or escalated, having had
    ``item["repeats"]`` repeats and ``item["escalation_step"]`` steps; None: nothing is left."""
    times = []
    repeats = int(item.get("repeats", 0))
    if repeats < int(policy.get("max_repeats", 0)):
        interval = plan_delay(policy["repeat_interval_minutes"], time_scale)
        times.append(sent_at + interval * (repeats + 1))
    steps = policy.get("steps", [])
    step = int(item.get("escalation_step", 0))
    if step < len(steps):
        times.append(sent_at + plan_delay(steps[step]["after_minutes"], time_scale))
    return min(times) if times else None


def progress(
    policy: Mapping[str, Any], root: Mapping[str, Any], elapsed: timedelta, time_scale: float
) -> tuple[int, int]:
    """How many repeats and escalation steps are due ``elapsed`` after the alert was sent (never
    fewer than it already had): ``(repeats, escalation_step)``."""
    interval = plan_delay(policy["repeat_interval_minutes"], time_scale)
    repeats, step = int(root.get("repeats", 0)), int(root.get("escalation_step", 0))
    due_repeats = max(repeats, min(int(policy.get("max_repeats", 0)), elapsed // interval))
    due_step = max(
        step,
        sum(
            1
            for s in policy.get("steps", [])
            if plan_delay(s["after_minutes"], time_scale) <= elapsed
        ),
    )
    return due_repeats, due_step
