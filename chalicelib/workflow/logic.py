"""What each step of the response workflow decides, as pure functions (no I/O, no clock).

A step gets a :class:`StepContext` — the state the state machine passes, the incident as stored,
the plan version it runs under, the time — and returns an :class:`Outcome`: the new state for the
state machine and a list of effects (timeline entries, alerts, tokens to keep, task and incident
updates) that :mod:`chalicelib.workflow.service` carries out. Every effect carries a key derived
from the logical event (step, round, task), so a retried Lambda repeats nothing.

Durations come from the plan (minutes) times the deployment's time scale, so local mode and tests
run the plan's real structure in seconds. The plan's fields read here are documented in the
README ("The plan"); ``workflow`` settings that a plan may omit have defaults below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import CHINA, iso, parse_instant
from chalicelib.core.errors import Problem, ValidationError
from chalicelib.plan.defaults import more_severe, worst
from chalicelib.plan.models import DEADLINE_LABELS, HQ_GROUP, LEVELS, publicity_group

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


# -- effects -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Record:
    """A timeline entry (信息共享); ``key`` makes it once-only."""

    key: str
    step: str
    title: str
    note: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notify:
    """An alert through the alert service; ``key`` (with the incident) deduplicates it."""

    key: str
    groups: tuple[str, ...]
    level: str | None
    template: str
    variables: Mapping[str, str]
    subject: str
    body: str
    # True: the alert service repeats and escalates it along the plan's policy until the
    # group acknowledges it (the API acknowledges when the group acts).
    requires_ack: bool = False


@dataclass(frozen=True)
class KeepToken:
    """Store a task token the API will answer.

    ``kind``: ``decision``, ``ack#<task>``, ``done#<task>`` or ``close``.
    """

    kind: str
    token: str
    deadline_at: str
    group: str | None = None
    # The level the wait's deadline was set for, and whether a rise above it may interrupt the
    # wait (the first 研判 wait of an execution that knows ``TriageRise``): see wait_outdated.
    level: str | None = None
    interruptible: bool = False


@dataclass(frozen=True)
class ExpireToken:
    """A wait that is over without an answer: the token may no longer be answered."""

    kind: str


@dataclass(frozen=True)
class UpdateIncident:
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class PutTask:
    task_id: str
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class UpdateTask:
    task_id: str
    changes: Mapping[str, Any]


Effect = Record | Notify | KeepToken | ExpireToken | UpdateIncident | PutTask | UpdateTask


@dataclass(frozen=True)
class StepContext:
    step: str
    state: Mapping[str, Any]
    execution: str
    now: datetime
    time_scale: float
    plan: Mapping[str, Any]
    plan_version: int
    incident: Mapping[str, Any]
    tasks: Sequence[Mapping[str, Any]] = ()
    statements: Sequence[Mapping[str, Any]] = ()
    cluster_level: str | None = None
    token: str | None = None


@dataclass
class Outcome:
    state: dict[str, Any]
    effects: list[Effect] = field(default_factory=list)


# -- plan reading ----------------------------------------------------------------------------
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


def rise_before_decision(
    incident: Mapping[str, Any],
    before: str | None,
    level: str | None = None,
    *,
    left: str = "尽快",
    due_at: str | None = None,
    overdue: bool = False,
) -> Notify:
    """The notice that pages the HQ when an incident's level rises while its 研判 is pending.

    Sent by ``assess`` and ``triage_rise`` for a rise they see, with the new deadline (``left``,
    ``due_at``), and by the incidents seam at the moment of a rise it could not hand to the
    workflow (no wait to interrupt); all use one key, so the HQ is told once.
    """
    level = level or str(incident.get("level") or "IV")
    if overdue:  # the new level's deadline, counted from the report, has already passed
        ask = f"按 {level} 级的研判时限（{_short_time(due_at)} 北京时间）已过，请立即"
    elif due_at:
        ask = f"请在{left}内（{_short_time(due_at)} 北京时间前）"
    else:
        ask = f"请{left}"
    return Notify(
        key=f"reported#{level}",
        groups=(HQ_GROUP,),
        level=level,
        template="incident_alert",
        variables=_vars(incident, level, deadline=left),
        subject=f"【级别上升至 {level}】{incident.get('title', '')}",
        body=(
            f"舆情级别由 {before or '-'} 上升至 {level}。\n{incident.get('summary', '')}\n"
            f"{ask}完成研判（启动或排除）。"
        ),
        requires_ack=True,
    )


def wait_outdated(incident: Mapping[str, Any], token: Mapping[str, Any]) -> bool:
    """Whether a wait must be interrupted and restarted (the HQ's decision wait, or the
    public-deadline timer): it is still waiting, it may be interrupted (kept as such by an
    execution whose definition catches :data:`LEVEL_ROSE`; older executions and the decision's
    reminder rounds are left alone, ``decision_overdue`` reads the worse level), and the
    incident now stands above the level the wait's deadline was counted at."""
    return (
        token.get("status") == "waiting"
        and token.get("interruptible") is True
        and more_severe(incident.get("level"), token.get("level"))
    )


# -- steps -----------------------------------------------------------------------------------
def report(ctx: StepContext) -> Outcome:
    """发现/报告: set the timers from the plan, record the report, alert the HQ."""
    incident = ctx.incident
    level = str(incident.get("level") or ctx.state.get("level") or "IV")
    scale = ctx.time_scale
    opened = datetime.fromisoformat(str(incident.get("opened_at") or iso(ctx.now)))
    report_minutes = deadline_minutes(ctx.plan, level, "report_hq")
    triage_minutes = deadline_minutes(ctx.plan, level, "triage") or 120
    escalation = ctx.plan.get("escalation", {})
    state = {
        **ctx.state,
        "level": level,
        "suggested_level": level,
        # The level the 研判 deadline was set for, and from when: a rise before the HQ decides
        # moves the deadline (``assess``, ``triage_rise``).
        "triage_level": level,
        # This execution's AwaitDecision catches LEVEL_ROSE (executions started by an older
        # definition do not, and their waits are never interrupted).
        "interruptible": True,
        "reported_at": iso(ctx.now),
        "plan_version": ctx.plan_version,
        "round": 0,
        "tasked": [],
        "measure_rounds": 0,
        "deadlines_done": [],
        "timers": {
            "decision_seconds": seconds(triage_minutes, scale),
            "reminder_seconds": seconds(
                float(escalation.get("repeat_interval_minutes", 10)), scale
            ),
            "monitor_seconds": seconds(_setting(ctx.plan, "monitor_interval_minutes"), scale),
            "cooldown_seconds": seconds(_setting(ctx.plan, "cooldown_minutes"), scale),
            "close_seconds": seconds(_setting(ctx.plan, "close_after_minutes"), scale),
        },
    }
    deadlines: dict[str, Any] = {
        "triage": {"due_at": iso(_at(ctx.now, triage_minutes, scale))},
    }
    met = True
    if report_minutes is not None:
        due = _at(opened, report_minutes, scale)
        met = ctx.now <= due
        deadlines["report_hq"] = {"due_at": iso(due), "done_at": iso(ctx.now), "met": met}
    return Outcome(
        state,
        [
            Record("report", "report", "报告指挥部", "" if met else "超过报告时限"),
            UpdateIncident(
                {
                    "status": "reported",
                    "step": "report",
                    "plan_version": ctx.plan_version,
                    "deadlines": deadlines,
                    "execution": ctx.execution,
                }
            ),
            Notify(
                key="reported",
                groups=(HQ_GROUP,),
                level=level,
                template="incident_alert",
                variables=_vars(incident, level, deadline=_minutes_text(triage_minutes)),
                subject=f"【{level}级舆情】{incident.get('title', '')}",
                body=(
                    f"新的舆情事件，建议级别 {level}。\n{incident.get('summary', '')}\n"
                    f"请在{_minutes_text(triage_minutes)}内完成研判（启动或排除）。"
                ),
                requires_ack=True,
            ),
        ],
    )


def assess(ctx: StepContext) -> Outcome:
    """初步研判 (automatic part): nature, scope, risk, suggested level and measures, evidence."""
    incident = ctx.incident
    # The incident may have been raised since ``report`` read it (a report joining the story).
    level = worst(ctx.state.get("suggested_level"), incident.get("level")) or "IV"
    measures = [m["id"] for m in measures_for_level(ctx.plan, level)]
    assessment = {
        "nature": incident.get("subjects") or [],
        "scope": {
            "posts": incident.get("post_count", 1),
            "platforms": incident.get("platforms") or [],
        },
        "risk": incident.get("risk"),
        "suggested_level": level,
        "suggested_measures": measures,
        "evidence": incident.get("reasons") or [],
    }
    state = {**ctx.state, "suggested_level": level, "suggested_measures": measures}
    return Outcome(
        state,
        [
            UpdateIncident({"assessment": assessment, "step": "triage"}),
            Record("assess", "triage", "初步研判（自动评估）", f"建议 {level} 级"),
            *_triage_follows_level(ctx, state),
        ],
    )


def await_decision(ctx: StepContext) -> Outcome:
    """Keep the HQ's decision token until the 研判 deadline (or the next reminder).

    Step Functions ignores what a token wait's Lambda returns and reads the wait's timeout
    before calling it, so nothing here may change timers: ``assess`` and ``triage_rise`` set
    them. The token records the level its deadline is for; a rise above it, seen by the
    incidents seam, by the service right after this step, or by the minute sweep, interrupts
    the wait (:func:`wait_outdated`).
    """
    token = _token(ctx)
    state = dict(ctx.state)
    deadline = ctx.now + timedelta(seconds=int(state["timers"]["decision_seconds"]))
    keep = KeepToken(
        "decision",
        token,
        iso(deadline),
        group=HQ_GROUP,
        level=str(state.get("triage_level") or state.get("level") or "IV"),
        interruptible=bool(state.get("interruptible")) and _first_wait(state),
    )
    return Outcome(state, [keep, UpdateIncident({"status": "awaiting_decision", "step": "triage"})])


def triage_rise(ctx: StepContext) -> Outcome:
    """The level rose while the HQ was being waited on, and the wait's token was failed with
    :data:`LEVEL_ROSE` (see :func:`wait_outdated`). Before the first 研判 deadline the deadline
    becomes the new level's, counted from the report, and the wait resumes with what is left of
    it, never more. After it (a race: such waits are not interruptible), ``decision_overdue``
    already acts at the worse level on its next round; the wait resumes for one reminder
    interval."""
    state = {k: v for k, v in ctx.state.items() if k != "interrupt"}
    if _first_wait(state):
        return Outcome(state, _triage_follows_level(ctx, state))
    timers = dict(state["timers"])
    timers["decision_seconds"] = int(timers["reminder_seconds"])
    state["timers"] = timers
    return Outcome(state, [])


def _first_wait(state: Mapping[str, Any]) -> bool:
    """Before the first 研判 deadline (``decision_overdue`` counts its rounds from 1)."""
    return int(state.get("round", 0)) == 0


def _triage_follows_level(ctx: StepContext, state: dict[str, Any]) -> list[Effect]:
    """Set the decision wait's timer to what is left of the 研判 deadline stored on the incident.

    If the incident rose since the deadline was set (a report or the story raised it), the
    deadline becomes the new level's, counted from the report (never later than it was), and the
    HQ is alerted at the new level — members who follow only grave levels were not paged by the
    first alert. Updates ``state`` in place."""
    before = str(state.get("triage_level") or state.get("level") or "IV")
    level = worst(state.get("suggested_level"), ctx.incident.get("level")) or "IV"
    timers = dict(state["timers"])
    stored = (ctx.incident.get("deadlines") or {}).get("triage") or {}
    due = (
        parse_instant(str(stored["due_at"]))
        if stored.get("due_at")
        else ctx.now + timedelta(seconds=int(timers["decision_seconds"]))
    )
    rose = more_severe(level, before)
    if rose:
        minutes = deadline_minutes(ctx.plan, level, "triage") or 120
        reported = parse_instant(str(state.get("reported_at") or iso(ctx.now)))
        due = min(due, _at(reported, minutes, ctx.time_scale))
    # Never longer than the wait before (an unreadable stored deadline reads as far away).
    left_seconds = math.ceil((due - ctx.now).total_seconds())
    timers["decision_seconds"] = max(1, min(left_seconds, int(timers["decision_seconds"])))
    state["timers"] = timers
    if not rose:
        return []
    # Plan minutes left, for the SMS template's short "{deadline}内" (e.g. 27分钟).
    left = _minutes_text(max(1, math.ceil(timers["decision_seconds"] / 60 / ctx.time_scale)))
    state.update(level=level, suggested_level=level, triage_level=level)
    deadlines = dict(ctx.incident.get("deadlines") or {})
    deadlines["triage"] = {"due_at": iso(due)}
    return [
        UpdateIncident({"deadlines": deadlines}),
        Record(
            f"triage_rise#{level}",
            "triage",
            f"级别上升至 {level}",
            f"原级别 {before}，研判时限按 {level} 级计算",
        ),
        rise_before_decision(
            ctx.incident, before, level, left=left, due_at=iso(due), overdue=left_seconds <= 0
        ),
    ]


def decision_overdue(ctx: StepContext) -> Outcome:
    """No decision by the 研判 deadline.

    The report alert needs an acknowledgement, so the alert service is already repeating it and
    escalating it along the plan's policy; this step records the breach, tells the HQ once, and
    waits until the policy's last escalation has had time to work. Then levels I–II are
    activated at the suggested level (the plan's rule for grave incidents); lower levels get
    ``max_repeats`` reminder intervals more and then expire.
    """
    state = dict(ctx.state)
    rounds = int(state.get("round", 0)) + 1
    state["round"] = rounds
    # The story may have grown while the HQ was silent: the incident's level counts too.
    level = worst(state.get("suggested_level"), ctx.incident.get("level")) or "IV"
    state["suggested_level"] = level
    policy = ctx.plan.get("escalation", {})
    repeat = float(policy.get("repeat_interval_minutes", 10))
    timers = dict(state["timers"])
    effects: list[Effect] = []
    if rounds == 1:
        triage = deadline_minutes(ctx.plan, level, "triage") or 0
        last = max((float(s.get("after_minutes", 0)) for s in policy.get("steps", [])), default=0)
        effects += [
            UpdateIncident({"breaches": _add_breach(ctx.incident, "triage", ctx.now)}),
            Record("breach#triage", "triage", "研判超时", "超过初步研判时限，按预案升级通知"),
            _overdue_notice(ctx, "overdue#triage", (HQ_GROUP,), level, "初步研判"),
        ]
        timers["decision_seconds"] = seconds(max(last - triage, 0) + repeat, ctx.time_scale)
        state.update(timers=timers, next="wait")
        return Outcome(state, effects)
    if level in AUTO_ACTIVATE:
        state["decision"] = {
            "action": "activate",
            "level": level,
            "by": "system",
            "auto": True,
            "note": "指挥部未在时限内研判，升级通知后仍无决定，按预案以建议级别自动启动",
        }
        state["next"] = "decided"
        effects.append(ExpireToken("decision"))
        return Outcome(state, effects)
    if rounds == 2:
        effects.append(_overdue_notice(ctx, "overdue#triage#2", (HQ_GROUP,), level, "初步研判"))
        repeats = max(int(policy.get("max_repeats", 3)), 1)
        timers["decision_seconds"] = seconds(repeat * repeats, ctx.time_scale)
        state.update(timers=timers, next="wait")
        return Outcome(state, effects)
    state["next"] = "expire"
    effects.append(ExpireToken("decision"))
    return Outcome(state, effects)


def expire(ctx: StepContext) -> Outcome:
    return Outcome(
        dict(ctx.state),
        [
            UpdateIncident({"status": "expired", "step": "close"}),
            Record("expire", "triage", "研判过期", "多次提醒后仍未研判，按预案结束"),
        ],
    )


def decided(ctx: StepContext) -> Outcome:
    """Record the HQ's decision (or the automatic one) and alert the level's groups."""
    state = dict(ctx.state)
    decision = state.get("decision")
    if not isinstance(decision, Mapping) or decision.get("action") not in {"activate", "dismiss"}:
        raise ValidationError("decision missing", [Problem("/decision", "activate or dismiss")])
    by = str(decision.get("by", ""))
    note = str(decision.get("note", ""))
    if decision["action"] == "dismiss":
        state["next"] = "dismiss"
        return Outcome(
            state,
            [
                UpdateIncident(
                    {"decision": dict(decision), "decided_at": iso(ctx.now), "step": "triage"}
                ),
                Record("decided", "triage", "指挥部研判：排除", note, {"by": by}),
            ],
        )
    level = str(decision.get("level") or state.get("suggested_level") or "IV")
    if level not in LEVELS:
        raise ValidationError("bad level", [Problem("/decision/level", "one of I, II, III, IV")])
    state.update(
        level=level,
        next="activate",
        activated_at=iso(ctx.now),
        cluster_baseline=ctx.cluster_level,
    )
    if decision.get("measures"):
        state["suggested_measures"] = list(decision["measures"])
    title = "自动启动" if decision.get("auto") else "指挥部研判：启动"
    groups = alert_groups(ctx.plan, level)
    return Outcome(
        state,
        [
            UpdateIncident(
                {
                    "status": "active",
                    "level": level,
                    "decision": dict(decision),
                    "decided_at": iso(ctx.now),
                    "activated_at": iso(ctx.now),
                    "step": "measures",
                }
            ),
            Record("decided", "triage", f"{title}（{level}级）", note, {"by": by}),
            Notify(
                key=f"activated#{level}",
                groups=groups,
                level=level,
                template="incident_alert",
                variables=_vars(ctx.incident, level, deadline="按任务"),
                subject=f"【启动{level}级响应】{ctx.incident.get('title', '')}",
                body=f"指挥部已启动 {level} 级舆情应急响应。{note}\n各工作组请按任务要求行动。",
            ),
        ],
    )


def dismiss(ctx: StepContext) -> Outcome:
    return Outcome(
        dict(ctx.state),
        [
            UpdateIncident({"status": "dismissed", "step": "close"}),
            Record("dismiss", "close", "排除：误报或不构成舆情"),
        ],
    )


def measures_for_level(plan: Mapping[str, Any], level: str) -> list[Mapping[str, Any]]:
    return [m for m in plan.get("measures", []) if m.get("deadline_minutes", {}).get(level)]


def measures(ctx: StepContext) -> Outcome:
    """制定措施: one task per owning group for the measures not yet tasked at this level (after a
    rise, every measure again, with the higher level's deadlines)."""
    state = dict(ctx.state)
    level = str(state.get("level") or "IV")
    chosen = set(state.get("suggested_measures") or [])
    tasked = list(state.get("tasked") or [])
    rounds = int(state.get("measure_rounds", 0)) + 1
    by_group: dict[str, list[Mapping[str, Any]]] = {}
    for measure in measures_for_level(ctx.plan, level):
        # Tasked per level: a rise re-plans every measure under the new level's deadlines.
        if f"{measure['id']}@{level}" in tasked or (
            chosen and measure["id"] not in chosen and rounds == 1
        ):
            continue
        by_group.setdefault(str(measure["owner"]), []).append(measure)
    ack_minutes = float(_setting(ctx.plan, "ack_minutes").get(level, 60))
    new_tasks = []
    effects: list[Effect] = []
    for group, items in by_group.items():
        task_id = f"{group}-{rounds}"
        done_minutes = min(float(m["deadline_minutes"][level]) for m in items)
        new_tasks.append(
            {
                "task_id": task_id,
                "group": group,
                "level": level,
                "ack_seconds": seconds(ack_minutes, ctx.time_scale),
                "done_seconds": seconds(done_minutes, ctx.time_scale),
                "reminder_seconds": state["timers"]["reminder_seconds"],
                "round": 0,
            }
        )
        effects.append(
            PutTask(
                task_id,
                {
                    "group": group,
                    "level": level,
                    "status": "assigned",
                    "measures": [
                        {
                            "id": m["id"],
                            "name": m.get("name", m["id"]),
                            "description": m.get("description", ""),
                        }
                        for m in items
                    ],
                    "assigned_at": iso(ctx.now),
                    "ack_by": iso(_at(ctx.now, ack_minutes, ctx.time_scale)),
                    "done_by": iso(_at(ctx.now, done_minutes, ctx.time_scale)),
                    "done_minutes": done_minutes,
                },
            )
        )
        tasked.extend(f"{m['id']}@{level}" for m in items)
    state.update(new_tasks=new_tasks, tasked=tasked, measure_rounds=rounds, measured_level=level)
    # The note names the groups by id; ``data`` carries them and the measures for a reader
    # (the dashboard) to show the plan's names.
    groups = [t["group"] for t in new_tasks]
    names = "、".join(groups) or "无新增任务"
    chosen_ids = [m["id"] for items in by_group.values() for m in items]
    data = {"groups": groups, "measures": chosen_ids, "level": level}
    effects.append(Record(f"measures#{rounds}", "measures", "制定措施", names, data))
    effects.append(UpdateIncident({"step": "implement"}))
    return Outcome(state, effects)


def await_ack(ctx: StepContext) -> Outcome:
    """Hand a group its task: keep the token, alert the group."""
    task = ctx.state["task"]
    token = _token(ctx)
    deadline = ctx.now + timedelta(seconds=int(task["ack_seconds"]))
    task_item = _task(ctx, task["task_id"])
    names = "、".join(m.get("name", "") for m in task_item.get("measures", [])) or "应对任务"
    effects: list[Effect] = [
        KeepToken(f"ack#{task['task_id']}", token, iso(deadline), group=task["group"]),
    ]
    if int(task.get("round", 0)) == 0:
        effects.append(
            Notify(
                key=f"task#{task['task_id']}",
                groups=(task["group"],),
                level=task.get("level"),
                template="task_assigned",
                variables=_vars(
                    ctx.incident,
                    task.get("level"),
                    task=names[:24],
                    deadline=_short_time(task_item.get("done_by")),
                ),
                subject=f"【{task.get('level')}级舆情任务】{names}",
                body=(
                    f"事件：{ctx.incident.get('title', '')}\n任务：{names}\n"
                    f"请先确认收到，并在 {_short_time(task_item.get('done_by'))}"
                    "（北京时间）前完成。"
                ),
                requires_ack=True,
            )
        )
    return Outcome(dict(ctx.state), effects)


def acked(ctx: StepContext) -> Outcome:
    """The group acknowledged: reminder rounds start again for completion, and the completion
    wait ends at the deadline the group was told (``done_by``), however late the ack came."""
    state = dict(ctx.state)
    task = {**state["task"], "round": 0}
    done_by = _task(ctx, task["task_id"]).get("done_by")
    if done_by:
        remaining = (datetime.fromisoformat(str(done_by)) - ctx.now).total_seconds()
        task["done_seconds"] = max(1, int(remaining))
    state["task"] = task
    return Outcome(state, [])


def await_done(ctx: StepContext) -> Outcome:
    task = ctx.state["task"]
    token = _token(ctx)
    deadline = ctx.now + timedelta(seconds=int(task["done_seconds"]))
    return Outcome(
        dict(ctx.state),
        [KeepToken(f"done#{task['task_id']}", token, iso(deadline), group=task["group"])],
    )


def _task_overdue(ctx: StepContext, phase: str) -> Outcome:
    """A task not acknowledged (``ack``) or not completed (``done``) by its deadline.

    The first lapse is a breach on the task and the timeline, and the group and the HQ are told.
    An unacknowledged task alert is also being repeated and escalated by the alert service, so
    later ``ack`` rounds only wait; later ``done`` rounds remind again (an acknowledged alert is
    no longer repeated). After the policy's steps and repeats, the wait is given up.
    """
    state = dict(ctx.state)
    task = dict(state["task"])
    rounds = int(task.get("round", 0)) + 1
    task["round"] = rounds
    key = f"{phase}#{task['task_id']}"
    title = "确认" if phase == "ack" else "完成"
    effects: list[Effect] = []
    if rounds == 1:
        task_item = _task(ctx, task["task_id"])
        breaches = _add_breach(task_item, phase, ctx.now)
        effects.append(UpdateTask(task["task_id"], {"breaches": breaches}))
        effects.append(
            Record(
                f"breach#{key}",
                "implement",
                f"任务{title}超时",
                str(task["group"]),
                {"task": task["task_id"], "group": str(task["group"])},
            )
        )
    policy = ctx.plan.get("escalation", {})
    limit = len(policy.get("steps", [])) + int(policy.get("max_repeats", 3))
    if rounds > limit:
        effects.append(UpdateTask(task["task_id"], {"status": "abandoned"}))
        effects.append(ExpireToken(f"{phase}#{task['task_id']}"))
        state.update(task=task, next="give_up")
        return Outcome(state, effects)
    if rounds == 1 or phase == "done":
        effects.append(
            _overdue_notice(
                ctx,
                f"overdue#{key}#{rounds}",
                (str(task["group"]), HQ_GROUP),
                str(task.get("level") or "IV"),
                f"任务{title}",
            )
        )
    task[f"{phase}_seconds"] = int(task.get("reminder_seconds", 60))
    state.update(task=task, next="wait")
    return Outcome(state, effects)


def ack_overdue(ctx: StepContext) -> Outcome:
    return _task_overdue(ctx, "ack")


def done_overdue(ctx: StepContext) -> Outcome:
    return _task_overdue(ctx, "done")


def monitor(ctx: StepContext) -> Outcome:
    """监测: a rise in level goes back to measures; quiet for the cool-down moves on.

    ``ctx.cluster_level`` is the story's level while it keeps growing, None once it is quiet.
    A rise is a level above both the incident's and the story's level when the HQ decided, so
    an HQ that chose a lower level than the score is not overruled by the same evidence.
    """
    state = dict(ctx.state)
    level = state.get("level")
    rounds = int(state.get("monitor_rounds", 0)) + 1
    state["monitor_rounds"] = rounds
    current = ctx.cluster_level
    # The story's level counts once above where it stood at the decision; so does the
    # incident's own level: raised by a report, or by the story through the incidents seam
    # while this branch was busy with tasks (next_deadline has alerted then).
    grown = current if more_severe(current, state.get("cluster_baseline")) else None
    rose = worst(grown, _response_level(ctx, state))
    if more_severe(rose, level):
        assert rose is not None
        state.update(level=rose, next="rise", calm_since=None)
        return Outcome(
            state, [UpdateIncident({"level": rose}), *_rise_notices(ctx, str(level), rose)]
        )
    effects: list[Effect] = [UpdateIncident({"step": "monitor"})]
    started = datetime.fromisoformat(str(state.get("activated_at") or iso(ctx.now)))
    limit = seconds(float(_setting(ctx.plan, "max_monitor_minutes")), ctx.time_scale)
    if (ctx.now - started).total_seconds() >= limit:
        state["next"] = "calm"
        effects.append(
            Record("calm", "monitor", "监测期满", "达到预案规定的最长监测时间，进入评估")
        )
        return Outcome(state, effects)
    if current is not None:  # still growing, whatever its level
        state.update(calm_since=None, next="watch")
        return Outcome(state, effects)
    calm_since = state.get("calm_since")
    if not calm_since:
        state.update(calm_since=iso(ctx.now), next="watch")
        return Outcome(state, effects)
    elapsed = (ctx.now - datetime.fromisoformat(str(calm_since))).total_seconds()
    if elapsed >= int(state["timers"]["cooldown_seconds"]):
        state["next"] = "calm"
        effects.append(Record("calm", "monitor", "监测降温", "持续低于阈值，进入评估"))
        return Outcome(state, effects)
    state["next"] = "watch"
    return Outcome(state, effects)


def next_deadline(ctx: StepContext) -> Outcome:
    """The earliest public-response deadline of the current level not yet checked.

    It is also recorded on the incident (``public_deadline``: kind, due, since when, who
    answers), so the board counts it down with the waits on people; ``None`` once none remain.
    The step runs again after each deadline passes, so the record advances with the wait.
    """
    state = {k: v for k, v in ctx.state.items() if k != "interrupt"}
    # Parallel branches hold separate copies of the state: a rise reaches this branch through
    # the incident record, by the timer's interruption (LEVEL_ROSE) or found here between
    # two waits. Either way the new level's groups are alerted now, not when the measures
    # branch next monitors (its tasks may keep it busy for hours); that branch adds the new
    # level's measures then, under the same keys, so nothing is said twice.
    before = str(state.get("level") or "IV")
    level = worst(before, _response_level(ctx, state)) or "IV"
    state["level"] = level
    effects: list[Effect] = _rise_notices(ctx, before, level) if level != before else []
    done = set(state.get("deadlines_done") or [])
    start = datetime.fromisoformat(str(state.get("activated_at") or iso(ctx.now)))
    due: list[tuple[datetime, str]] = []
    for kind in PUBLIC_DEADLINES:
        minutes = deadline_minutes(ctx.plan, level, kind)
        if minutes is not None and kind not in done:
            due.append((_at(start, minutes, ctx.time_scale), kind))
    if not due:
        state["next"] = "done"
        return Outcome(state, [*effects, UpdateIncident({"public_deadline": None})])
    moment, kind = min(due)
    state.update(
        next="wait",
        deadline_at=_timestamp(moment),
        deadline_kind=kind,
        # The wait's timeout (a token wait, so that a rise can cut it short).
        deadline_seconds=max(1, math.ceil((moment - ctx.now).total_seconds())),
    )
    upcoming = {
        "kind": kind,
        "due_at": iso(moment),
        "since": iso(start),
        "group": publicity_group(ctx.plan),
    }
    return Outcome(state, [*effects, UpdateIncident({"public_deadline": upcoming})])


def await_deadline(ctx: StepContext) -> Outcome:
    """Keep the public-deadline timer's token, for the level the deadline was counted at, so
    that a rise can interrupt it (:func:`wait_outdated`). Nobody answers it: it times out."""
    state = dict(ctx.state)
    due = parse_instant(str(state["deadline_at"]))
    # Counted from the story's level at the decision too: only a rise above both may interrupt.
    level = worst(state.get("level"), state.get("cluster_baseline")) or "IV"
    keep = KeepToken(TIMER_PUBLIC, _token(ctx), iso(due), level=level, interruptible=True)
    return Outcome(state, [keep])


def _response_level(ctx: StepContext, state: Mapping[str, Any]) -> str | None:
    """The incident's own level if it counts as a rise during the response: above where the
    story stood when the HQ decided (``cluster_baseline``), so that an HQ that chose a lower
    level than the score is not overruled by the same evidence coming back through a report."""
    level = ctx.incident.get("level")
    return str(level) if more_severe(level, state.get("cluster_baseline")) else None


def _rise_notices(ctx: StepContext, before: str, level: str) -> list[Effect]:
    """The timeline entry and the alert for a rise during the response (monitor and
    next_deadline share the keys, so a group is alerted once)."""
    return [
        Record(f"rise#{level}", "monitor", f"级别上升至 {level}", f"原级别 {before}"),
        Notify(
            key=f"escalated#{level}",
            groups=alert_groups(ctx.plan, level),
            level=level,
            template="incident_alert",
            variables=_vars(ctx.incident, level, deadline="按任务"),
            subject=f"【级别上升至 {level}】{ctx.incident.get('title', '')}",
            body=f"舆情级别由 {before} 上升至 {level}，将追加措施和任务。",
        ),
    ]


def deadline_due(ctx: StepContext) -> Outcome:
    """A public deadline has come: met if a statement was released before it."""
    state = dict(ctx.state)
    closed: list[Effect] = [ExpireToken(TIMER_PUBLIC)]  # the timer has run out
    kind = str(state["deadline_kind"])
    due = datetime.fromisoformat(str(state["deadline_at"]).replace("Z", "+00:00"))
    released = sorted(str(s["released_at"]) for s in ctx.statements if s.get("released_at"))
    first = released[0] if released else None
    met = first is not None and datetime.fromisoformat(first) <= due
    state["deadlines_done"] = [*(state.get("deadlines_done") or []), kind]
    deadlines = dict(ctx.incident.get("deadlines") or {})
    deadlines[kind] = {"due_at": iso(due), "done_at": first, "met": met}
    title = DEADLINE_LABELS[kind]
    effects: list[Effect] = [
        *closed,
        UpdateIncident({"deadlines": deadlines}),
        Record(
            f"deadline#{kind}",
            "implement",
            f"{title}时限",
            "已按时发布" if met else "未按时发布口径",
        ),
    ]
    if not met:
        effects.append(
            Notify(
                key=f"deadline#{kind}",
                groups=tuple(g for g in (HQ_GROUP, publicity_group(ctx.plan)) if g),
                level=state.get("level"),
                template="deadline_missed",
                variables={"level": str(state.get("level", "-")), "step": title[:12]},
                subject=f"【时限已过】{title}：{ctx.incident.get('title', '')}",
                body=f"{title}时限已到，尚未发布经批准的口径。请指挥部和宣传组立即处理。",
            )
        )
    return Outcome(state, effects)


def evaluate(ctx: StepContext) -> Outcome:
    """舆情评估: deadlines met or missed, breaches, measures, questions for lessons learnt."""
    deadlines = dict(ctx.incident.get("deadlines") or {})
    missed = [k for k, d in deadlines.items() if isinstance(d, Mapping) and d.get("met") is False]
    breaches = [
        {
            "task": t.get("sk", ""),
            "group": t.get("group"),
            "kinds": [b["kind"] for b in t.get("breaches", [])],
        }
        for t in ctx.tasks
        if t.get("breaches")
    ]
    questions = [f"{DEADLINE_LABELS.get(k, k)}为何超时？" for k in missed]
    questions += [f"{b['group']} 的任务为何超时？" for b in breaches]
    evaluation = {
        "built_at": iso(ctx.now),
        "level": ctx.state.get("level"),
        "deadlines": deadlines,
        "missed": missed,
        "breaches": breaches,
        "measures": [m for t in ctx.tasks for m in t.get("measures", [])],
        "questions": questions or ["本次处置中哪些做法值得写入预案修订？"],
    }
    return Outcome(
        dict(ctx.state),
        [
            UpdateIncident({"status": "evaluating", "step": "evaluate", "evaluation": evaluation}),
            Record("evaluate", "evaluate", "舆情评估", f"{len(missed)} 项时限未达成"),
            Notify(
                key="evaluation",
                groups=(HQ_GROUP,),
                level=ctx.state.get("level"),
                template="notice",
                variables={"text": f"舆情评估已生成：{ctx.incident.get('title', '')}"[:50]},
                subject=f"【舆情评估】{ctx.incident.get('title', '')}",
                body="评估报告已生成，请指挥部审阅并结束事件。",
            ),
        ],
    )


def await_close(ctx: StepContext) -> Outcome:
    token = _token(ctx)
    deadline = ctx.now + timedelta(seconds=int(ctx.state["timers"]["close_seconds"]))
    return Outcome(dict(ctx.state), [KeepToken("close", token, iso(deadline), group=HQ_GROUP)])


def close(ctx: StepContext) -> Outcome:
    closing = ctx.state.get("closing") or {}
    note = str(closing.get("note", "")) if isinstance(closing, Mapping) else ""
    auto = "timeout" in ctx.state and not closing
    # A dismissed or expired incident keeps saying so; only the time it ended is added.
    ended = ctx.incident.get("status")
    status = ended if ended in ("dismissed", "expired") else "closed"
    return Outcome(
        dict(ctx.state),
        [
            ExpireToken("close"),
            UpdateIncident({"status": status, "step": "close", "closed_at": iso(ctx.now)}),
            Record("close", "close", "结束", "到期自动结束" if auto else note),
        ],
    )


def failed(ctx: StepContext) -> Outcome:
    error = ctx.state.get("error") or {}
    note = f"{error.get('Error', 'Error')}: {str(error.get('Cause', ''))[:500]}"
    return Outcome(
        dict(ctx.state),
        [
            # Nothing will check the public deadline any more: the board must not count it
            # down as if the workflow were still watching it.
            UpdateIncident({"workflow_error": note, "public_deadline": None}),
            Record("failed", "failed", "流程异常", note),
            Notify(
                key="failed",
                groups=(HQ_GROUP,),
                level=ctx.state.get("level"),
                template="notice",
                variables={
                    "text": f"舆情流程异常，请人工跟进：{ctx.incident.get('title', '')}"[:50]
                },
                subject=f"【流程异常】{ctx.incident.get('title', '')}",
                body=f"应对流程出现异常，已停止自动推进，请人工跟进。\n{note}",
            ),
        ],
    )


STEPS: dict[str, Callable[[StepContext], Outcome]] = {
    "report": report,
    "assess": assess,
    "await_decision": await_decision,
    "triage_rise": triage_rise,
    "decision_overdue": decision_overdue,
    "expire": expire,
    "decided": decided,
    "dismiss": dismiss,
    "measures": measures,
    "await_ack": await_ack,
    "acked": acked,
    "ack_overdue": ack_overdue,
    "await_done": await_done,
    "done_overdue": done_overdue,
    "monitor": monitor,
    "next_deadline": next_deadline,
    "await_deadline": await_deadline,
    "deadline_due": deadline_due,
    "evaluate": evaluate,
    "await_close": await_close,
    "close": close,
    "failed": failed,
}


def run(ctx: StepContext) -> Outcome:
    return STEPS[ctx.step](ctx)


# -- helpers ---------------------------------------------------------------------------------
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
