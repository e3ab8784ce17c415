"""The response under way (响应与监测): watching the story's level, the public deadlines (权威信息,
发布会, 公开回应) met or missed, and a rise acted on at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.core.clock import iso, parse_instant
from chalicelib.plan.defaults import more_severe, worst
from chalicelib.plan.models import DEADLINE_LABELS, HQ_GROUP, publicity_group
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
    PUBLIC_DEADLINES,
    TIMER_PUBLIC,
    _at,
    _setting,
    _timestamp,
    _token,
    alert_groups,
    deadline_minutes,
    level_notice,
    seconds,
)


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
        level_notice(
            ctx.incident,
            f"escalated#{level}",
            alert_groups(ctx.plan, level),
            level,
            f"【级别上升至 {level}】",
            f"舆情级别由 {before} 上升至 {level}，将追加措施和任务。",
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
