"""From report to decision (报告与研判): record and alert the report, assess, wait for the HQ's
decision (restarted on a rise), remind and escalate when it is late, activate or dismiss.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import iso, parse_instant
from chalicelib.core.errors import Problem, ValidationError
from chalicelib.plan.defaults import more_severe, worst
from chalicelib.plan.models import HQ_GROUP, LEVELS
from chalicelib.workflow.logic.effects import (
    Effect,
    ExpireToken,
    KeepToken,
    Notify,
    Outcome,
    Record,
    StepContext,
    UpdateIncident,
)
from chalicelib.workflow.logic.reading import (
    AUTO_ACTIVATE,
    _add_breach,
    _at,
    _minutes_text,
    _overdue_notice,
    _setting,
    _short_time,
    _token,
    _vars,
    alert_groups,
    deadline_minutes,
    level_notice,
    seconds,
)
from chalicelib.workflow.logic.tasks import measures_for_level


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
            level_notice(
                ctx.incident,
                f"activated#{level}",
                groups,
                level,
                f"【启动{level}级响应】",
                f"指挥部已启动 {level} 级舆情应急响应。{note}\n各工作组请按任务要求行动。",
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
