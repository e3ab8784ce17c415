"""Reading the plan for the workflow (预案读取): deadlines and settings in plan minutes, scaled to
workflow seconds, the groups a level alerts, the variables of an alert, and the small helpers the
steps share (the task and token a step works on, breaches, overdue notices).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import CHINA, iso
from chalicelib.core.errors import Problem, ValidationError
from chalicelib.plan.models import HQ_GROUP
from chalicelib.workflow.logic.effects import Notify, StepContext

# The error a rise in level fails the HQ's decision wait with (caught by ``AwaitDecision``).
LEVEL_ROSE = "yuqing.LevelRose"


# The public-deadline timer's token kind: a wait on the clock, not on people.
TIMER_PUBLIC = "timer#public"


# Levels for which an unanswered 研判 ends in activation at the suggested level.
AUTO_ACTIVATE = frozenset({"I", "II"})


PUBLIC_DEADLINES = ("authoritative_info", "press_conference", "public_response")


# Workflow settings a plan may set under "workflow"; minutes.
WORKFLOW_DEFAULTS: dict[str, Any] = {
    "ack_minutes": {"I": 10, "II": 15, "III": 60, "IV": 120},
    "monitor_interval_minutes": 30,
    "cooldown_minutes": 360,
    # Monitoring ends after this long even if the story keeps trickling (a week by default), so
    # an execution never grows towards Step Functions' 25,000-event history limit.
    "max_monitor_minutes": 10080,
    "close_after_minutes": 4320,
}


def _level(plan: Mapping[str, Any], level: str) -> Mapping[str, Any]:
    for item in plan.get("levels", []):
        if item.get("id") == level:
            return dict(item)
    return {}


def _setting(plan: Mapping[str, Any], name: str) -> Any:
    return {**WORKFLOW_DEFAULTS, **plan.get("workflow", {})}[name]


def deadline_minutes(plan: Mapping[str, Any], level: str, kind: str) -> float | None:
    value = _level(plan, level).get("deadlines_minutes", {}).get(kind)
    return float(value) if value is not None else None


def seconds(minutes: float, time_scale: float) -> int:
    """Plan minutes as workflow seconds, scaled; never below 1 (Step Functions' minimum)."""
    return max(1, round(minutes * 60 * time_scale))


def _at(moment: datetime, minutes: float, time_scale: float) -> datetime:
    return moment + timedelta(seconds=seconds(minutes, time_scale))


def _timestamp(moment: datetime) -> str:
    """Step Functions' TimestampPath wants RFC 3339 with ``Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def alert_groups(plan: Mapping[str, Any], level: str) -> tuple[str, ...]:
    groups = [HQ_GROUP, *(_level(plan, level).get("alert_groups") or [])]
    return tuple(dict.fromkeys(groups))


def _vars(incident: Mapping[str, Any], level: str | None, **extra: str) -> dict[str, str]:
    return {
        "level": level or "-",
        "subject": str(incident.get("title", ""))[:40],
        "summary": str(incident.get("summary", ""))[:60],
        **extra,
    }


def _minutes_text(minutes: float | None) -> str:
    if minutes is None:
        return "尽快"
    if minutes >= 60 and minutes % 60 == 0:
        return f"{int(minutes // 60)}小时"
    return f"{int(minutes)}分钟"


def _token(ctx: StepContext) -> str:
    if not ctx.token:
        raise ValidationError(
            "task token missing", [Problem("/token", f"{ctx.step} waits on a token")]
        )
    return ctx.token


def _task(ctx: StepContext, task_id: str) -> Mapping[str, Any]:
    for task in ctx.tasks:
        if task.get("task_id") == task_id or task.get("sk") == f"TASK#{task_id}":
            return task
    return {}


def _add_breach(record: Mapping[str, Any], kind: str, now: datetime) -> list[dict[str, Any]]:
    """The record's breaches with ``kind`` added once: a retried step finds it already there."""
    breaches = list(record.get("breaches") or [])
    if not any(b.get("kind") == kind for b in breaches):
        breaches.append({"kind": kind, "at": iso(now)})
    return breaches


def _overdue_notice(
    ctx: StepContext, key: str, groups: tuple[str, ...], level: str, what: str
) -> Notify:
    title = str(ctx.incident.get("title", ""))
    return Notify(
        key=key,
        groups=tuple(dict.fromkeys(groups)),
        level=level,
        template="deadline_missed",
        variables={"level": level, "step": what[:12]},
        subject=f"【超时】{what}：{title}"[:90],
        body=f"事件“{title}”的{what}已超过预案时限，请立即处理。",
    )


def _short_time(value: Any) -> str:
    """``11-25 16:30`` in Beijing time, from an ISO timestamp; short enough for an SMS."""
    if not value:
        return ""
    return datetime.fromisoformat(str(value)).astimezone(CHINA).strftime("%m-%d %H:%M")


def level_notice(
    incident: Mapping[str, Any],
    key: str,
    groups: Sequence[str],
    level: str,
    headline: str,
    body: str,
) -> Notify:
    """The alert that a response runs at ``level`` (启动, 级别上升): its deadlines are the tasks'
    ("按任务"), its subject the headline and the incident's title."""
    return Notify(
        key=key,
        groups=tuple(groups),
        level=level,
        template="incident_alert",
        variables=_vars(incident, level, deadline="按任务"),
        subject=f"{headline}{incident.get('title', '')}",
        body=body,
    )
