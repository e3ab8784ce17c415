"""What each step of the response workflow decides, as pure functions (no I/O, no clock).

A step gets a :class:`StepContext` — the state the state machine passes, the incident as stored,
the plan version it runs under, the time — and returns an :class:`Outcome`: the new state for the
state machine and a list of effects (timeline entries, alerts, tokens to keep, task and incident
updates) that :mod:`chalicelib.workflow.service` carries out. Every effect carries a key derived
from the logical event (step, round, task), so a retried Lambda repeats nothing.

Durations come from the plan (minutes) times the deployment's time scale, so local mode and tests
run the plan's real structure in seconds. The plan's fields read here are documented in the
README ("The plan"); ``workflow`` settings that a plan may omit have defaults below.

The steps live by family — :mod:`.triage`, :mod:`.tasks`, :mod:`.response`, :mod:`.closing` —
over :mod:`.effects` (what a step returns) and :mod:`.reading` (the plan as the steps read it);
:data:`STEPS` names every step the state machine may call and :func:`run` runs one.
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.workflow.logic.closing import (
    await_close,
    close,
    evaluate,
    failed,
)
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
    AUTO_ACTIVATE,
    LEVEL_ROSE,
    PUBLIC_DEADLINES,
    TIMER_PUBLIC,
    WORKFLOW_DEFAULTS,
    alert_groups,
    deadline_minutes,
    level_notice,
    seconds,
)
from chalicelib.workflow.logic.response import (
    await_deadline,
    deadline_due,
    monitor,
    next_deadline,
)
from chalicelib.workflow.logic.tasks import (
    ack_overdue,
    acked,
    await_ack,
    await_done,
    done_overdue,
    measures,
    measures_for_level,
)
from chalicelib.workflow.logic.triage import (
    assess,
    await_decision,
    decided,
    decision_overdue,
    dismiss,
    expire,
    report,
    rise_before_decision,
    triage_rise,
    wait_outdated,
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


__all__ = [
    "AUTO_ACTIVATE",
    "LEVEL_ROSE",
    "PUBLIC_DEADLINES",
    "STEPS",
    "TIMER_PUBLIC",
    "WORKFLOW_DEFAULTS",
    "Effect",
    "ExpireToken",
    "KeepToken",
    "Notify",
    "Outcome",
    "PutTask",
    "Record",
    "StepContext",
    "UpdateIncident",
    "UpdateTask",
    "ack_overdue",
    "acked",
    "alert_groups",
    "assess",
    "await_ack",
    "await_close",
    "await_deadline",
    "await_decision",
    "await_done",
    "close",
    "deadline_due",
    "deadline_minutes",
    "decided",
    "decision_overdue",
    "dismiss",
    "done_overdue",
    "evaluate",
    "expire",
    "failed",
    "level_notice",
    "measures",
    "measures_for_level",
    "monitor",
    "next_deadline",
    "report",
    "rise_before_decision",
    "run",
    "seconds",
    "triage_rise",
    "wait_outdated",
]
