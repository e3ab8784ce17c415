"""The drill report (演练评估): each step of each drill incident against its deadline. Pure.

Built from what the workflow already records on the incident — META ``deadlines`` (the report
step writes ``report_hq`` and ``triage``; each public deadline step writes its own), ``decided_at``
and ``decision``, the tasks' ``assigned_at``/``ack_by``/``acked_at``/``done_by``/``done_at`` and
``breaches`` — and from the outbox (how many alerts went out, and whether each was marked 【演练】).

Each step has a ``status``:

- ``met`` — done by its deadline; ``late`` — done after it;
- ``missed`` — not done and the deadline has passed (an automatic activation after an unanswered
  研判 counts as missed: nobody decided);
- ``pending`` — not done, deadline still ahead (or not yet set: the workflow has not got there).

``allowed_minutes`` and ``taken_minutes`` are plan minutes (real seconds ÷ 60 ÷ the drill's time
scale), so a drill run in local mode in seconds reads like the real thing. Drill incidents carry
``drill: true`` and are left out of statistics (``GET /incidents?drill=false``); the report says
so per incident and overall.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib.core.clock import iso
from chalicelib.plan.models import DEADLINE_LABELS, DRILL_PREFIX
from chalicelib.workflow.logic import PUBLIC_DEADLINES

DRILL_ID = re.compile(r"\Adr-[0-9a-f]{6,37}\Z")
STATUSES = ("met", "late", "missed", "pending")
TERMINAL = frozenset({"closed", "dismissed", "expired"})


def summary(drill: Mapping[str, Any], events: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
    """A drill as listed (and, with its events, as answered by ``POST /drills``)."""
    keys = (
        "drill_id",
        "name",
        "description",
        "bundled",
        "note",
        "by",
        "started_at",
        "state",
        "time_scale",
        "event_count",
        "post_count",
    )
    out: dict[str, Any] = {k: drill.get(k) for k in keys}
    out["incidents"] = sorted(str(i) for i in drill.get("incidents") or set())
    if events is not None:
        out["events"] = [
            {
                "index": e.get("index"),
                "at_minutes": e.get("at_minutes"),
                "kind": e.get("kind"),
                "due_at": e.get("due_at"),
                "injected_at": e.get("injected_at"),
                "incident_ids": list(e.get("incident_ids") or []),
                "posts": len(e.get("post_ids") or []),
            }
            for e in events
        ]
    return out


def build(
    drill: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    incidents: Mapping[str, Sequence[Mapping[str, Any]]],
    alerts: Mapping[str, Sequence[Mapping[str, Any]]],
    now: datetime,
) -> dict[str, Any]:
    scale = float(drill.get("time_scale") or 1.0)
    rows = []
    for incident_id, items in sorted(incidents.items()):
        meta = next((i for i in items if i.get("sk") == "META"), None)
        if meta is None:
            continue
        tasks = sorted(
            (i for i in items if str(i.get("sk", "")).startswith("TASK#")),
            key=lambda t: str(t.get("task_id", "")),
        )
        rows.append(
            incident_steps(incident_id, meta, tasks, alerts.get(incident_id, []), now, scale)
        )
    totals: dict[str, Any] = {s: 0 for s in STATUSES}
    totals["steps"] = sum(len(r["steps"]) for r in rows)
    for row in rows:
        for status in STATUSES:
            totals[status] += row["totals"][status]
    totals["breaches"] = sum(len(r["breaches"]) for r in rows)
    totals["alerts"] = sum(r["alerts"]["messages"] for r in rows)
    totals["alerts_marked_drill"] = sum(r["alerts"]["marked_drill"] for r in rows)
    return {
        **summary(drill, events),
        "built_at": iso(now),
        "incidents": rows,
        "totals": totals,
        "complete": bool(rows) and all(r["status"] in TERMINAL for r in rows),
        "excluded_from_statistics": all(r["excluded_from_statistics"] for r in rows),
    }


def incident_steps(
    incident_id: str,
    meta: Mapping[str, Any],
    tasks: Sequence[Mapping[str, Any]],
    alerts: Sequence[Mapping[str, Any]],
    now: datetime,
    scale: float,
) -> dict[str, Any]:
    """One incident's steps against their deadlines (shared with the 舆情评估 report)."""
    deadlines: Mapping[str, Any] = meta.get("deadlines") or {}
    opened = meta.get("opened_at")
    report_hq = deadlines.get("report_hq") or {}
    triage = deadlines.get("triage") or {}
    decision = meta.get("decision") or {}
    steps = [
        _step("report_hq", DEADLINE_LABELS["report_hq"], opened, report_hq, now, scale),
    ]
    decided = None if decision.get("auto") else meta.get("decided_at")
    triage_note = "指挥部未研判，系统自动启动" if decision.get("auto") else ""
    if meta.get("status") == "expired":
        triage_note = "多次提醒后仍未研判，已过期"
    elif decision.get("action") == "dismiss":
        triage_note = "研判：排除"
    elif decided:
        triage_note = f"研判：启动 {decision.get('level') or meta.get('level')} 级"
    steps.append(
        _step(
            "triage",
            DEADLINE_LABELS["triage"],
            report_hq.get("done_at") or opened,
            {"due_at": triage.get("due_at"), "done_at": decided},
            now,
            scale,
            note=triage_note,
        )
    )
    for task in tasks:
        task_id = str(task.get("task_id", ""))
        group = str(task.get("group", ""))
        names = "、".join(str(m.get("name", "")) for m in task.get("measures") or [])
        kinds = [str(b.get("kind")) for b in task.get("breaches") or []]
        dues = {"ack": task.get("ack_by"), "done": _done_due(task, scale)}
        for phase, title, done_key in (
            ("ack", "确认任务", "acked_at"),
            ("done", "完成任务", "done_at"),
        ):
            steps.append(
                _step(
                    f"task:{task_id}:{phase}",
                    f"{group} {title}" + (f"（{names}）" if phase == "done" and names else ""),
                    task.get("assigned_at"),
                    {"due_at": dues[phase], "done_at": task.get(done_key)},
                    now,
                    scale,
                    note="已记录违约" if phase in kinds else "",
                    group=group,
                )
            )
    for kind in PUBLIC_DEADLINES:
        if kind in deadlines:
            steps.append(
                _step(
                    kind,
                    DEADLINE_LABELS[kind],
                    meta.get("activated_at"),
                    deadlines[kind],
                    now,
                    scale,
                )
            )
    counts = {s: sum(1 for step in steps if step["status"] == s) for s in STATUSES}
    breaches = [dict(b) for b in meta.get("breaches") or []] + [
        {"kind": str(b.get("kind")), "at": b.get("at"), "task": t.get("task_id")}
        for t in tasks
        for b in t.get("breaches") or []
    ]
    marked = [
        a
        for a in alerts
        if a.get("drill")
        and str(a.get("sms", "")).startswith(DRILL_PREFIX)
        and str(a.get("email_subject", "")).startswith(DRILL_PREFIX)
    ]
    return {
        "incident_id": incident_id,
        "title": meta.get("title"),
        "level": meta.get("level"),
        "status": meta.get("status"),
        "opened_at": opened,
        "drill": bool(meta.get("drill")),
        "excluded_from_statistics": bool(meta.get("drill")),
        "steps": steps,
        "totals": counts,
        "breaches": breaches,
        "alerts": {
            "messages": len(alerts),
            "marked_drill": len(marked),
            "events": sorted({str(a.get("event")) for a in alerts}),
        },
    }


def _step(
    key: str,
    title: str,
    start: Any,
    deadline: Mapping[str, Any],
    now: datetime,
    scale: float,
    *,
    note: str = "",
    group: str | None = None,
) -> dict[str, Any]:
    due = _time(deadline.get("due_at"))
    done = _time(deadline.get("done_at"))
    begun = _time(start)
    if done is not None:
        status = "met" if due is None or done <= due else "late"
    elif deadline.get("met") is False or (due is not None and now > due):
        # The workflow's own verdict when it has checked (its Wait may end a moment early in
        # moto, which keeps timestamps to the second); otherwise the clock.
        status = "missed"
    else:
        status = "pending"
    step: dict[str, Any] = {
        "key": key,
        "title": title,
        "started_at": iso(begun) if begun else None,
        "due_at": iso(due) if due else None,
        "done_at": iso(done) if done else None,
        "allowed_minutes": _minutes(begun, due, scale),
        "taken_minutes": _minutes(begun, done, scale),
        "status": status,
        "note": note,
    }
    if group is not None:
        step["group"] = group
    return step


def _done_due(task: Mapping[str, Any], scale: float) -> str | None:
    """The task's completion deadline (``done_by``, set by the measures step)."""
    value = task.get("done_by")
    return str(value) if value else None


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _minutes(start: datetime | None, end: datetime | None, scale: float) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60 / scale, 1)
