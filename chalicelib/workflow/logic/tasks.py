"""The groups' tasks (任务): measures planned per level, each group's task handed out, acknowledged
and completed, and the breaches when either is late.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import iso
from chalicelib.plan.models import HQ_GROUP
from chalicelib.workflow.logic.effects import (
    Effect,
    ExpireToken,
    KeepToken,
    Notify,
    Outcome,
    PutTask,
    Record,
    StepContext,
    UpdateIncident,
    UpdateTask,
)
from chalicelib.workflow.logic.reading import (
    _add_breach,
    _at,
    _overdue_notice,
    _setting,
    _short_time,
    _task,
    _token,
    _vars,
    seconds,
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
