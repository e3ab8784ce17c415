"""The steps of the plan's 应对流程 and what each placeholder step does to the workflow state.

Pure: no I/O, no clock of its own. The state machine (infra/statemachine/response.asl.json)
calls the ``workflow_step`` function once per step with ``{"step": …, "state": {…}}`` and
continues with the state it returns. Waits are data: the report step computes
``timers.cooldown_seconds`` from the plan's duration times the deployment's time scale, and the
Wait state reads it through ``SecondsPath`` — so local mode and tests run the same definition
with shorter waits instead of a patched interpreter.

Until the workflow issue lands each step records that it was reached; the feature work replaces
the bodies, not the shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib.core.errors import Problem, ValidationError


class Step(StrEnum):
    REPORT = "report"  # 发现 / 报告指挥部
    TRIAGE = "triage"  # 初步研判
    MEASURES = "measures"  # 制定措施
    IMPLEMENT = "implement"  # 实施
    MONITOR = "monitor"  # 监测降温
    EVALUATE = "evaluate"  # 评估
    CLOSE = "close"  # 结束
    FAILED = "failed"  # a Task failed after its retries; the HQ must be told


TITLES: dict[Step, str] = {
    Step.REPORT: "报告指挥部",
    Step.TRIAGE: "初步研判",
    Step.MEASURES: "制定措施",
    Step.IMPLEMENT: "实施应对措施",
    Step.MONITOR: "监测降温",
    Step.EVALUATE: "舆情评估",
    Step.CLOSE: "结束",
    Step.FAILED: "流程异常",
}

# Default cool-down before evaluation (plan setting once the plan issue lands).
DEFAULT_COOLDOWN_SECONDS = 6 * 3600
INCIDENT_ID = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")  # \Z: "$" would accept a trailing newline


@dataclass(frozen=True)
class StepInput:
    step: Step
    incident_id: str
    drill: bool
    execution: str
    state: dict[str, Any]
    error: dict[str, Any] | None


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an incident's shared timeline (信息共享)."""

    incident_id: str
    step: Step
    at: datetime
    execution: str
    drill: bool
    note: str = ""

    @property
    def title(self) -> str:
        return TITLES[self.step]


def parse_step_event(event: Any) -> StepInput:
    """Validate the payload the state machine sends; every problem is listed with its path."""
    problems: list[Problem] = []
    if not isinstance(event, dict):
        raise ValidationError("workflow event must be an object", [Problem("", "not an object")])
    step_text = event.get("step")
    if step_text not in {s.value for s in Step}:
        problems.append(Problem("/step", f"unknown step {step_text!r}"))
    state = event.get("state")
    if not isinstance(state, dict):
        problems.append(Problem("/state", "must be an object"))
        state = {}
    incident_id = state.get("incident_id")
    if not isinstance(incident_id, str) or not INCIDENT_ID.match(incident_id):
        problems.append(Problem("/state/incident_id", "must match [A-Za-z0-9_-]{1,64}"))
    drill = state.get("drill", False)
    if not isinstance(drill, bool):
        problems.append(Problem("/state/drill", "must be true or false"))
    execution = event.get("execution", "")
    if not isinstance(execution, str):
        problems.append(Problem("/execution", "must be a string"))
    error = event.get("error")
    if error is not None and not isinstance(error, dict):
        problems.append(Problem("/error", "must be an object"))
    if problems:
        raise ValidationError("invalid workflow event", problems)
    return StepInput(
        step=Step(str(step_text)),
        incident_id=str(incident_id),
        drill=bool(drill),
        execution=str(execution),
        state=dict(state),
        error=error,
    )


def advance(
    step: StepInput, now: datetime, time_scale: float
) -> tuple[dict[str, Any], TimelineEntry]:
    """The state after ``step`` and the timeline entry that records it."""
    state = dict(step.state)
    note = ""
    if step.step is Step.REPORT:
        state["timers"] = {"cooldown_seconds": max(1, round(DEFAULT_COOLDOWN_SECONDS * time_scale))}
    if step.step is Step.FAILED and step.error:
        note = f"{step.error.get('Error', 'Error')}: {str(step.error.get('Cause', ''))[:500]}"
    state["last_step"] = step.step.value
    entry = TimelineEntry(step.incident_id, step.step, now, step.execution, step.drill, note)
    return state, entry


def execution_name(incident_id: str) -> str:
    """Execution name for an incident: Step Functions itself refuses a duplicate start."""
    if not INCIDENT_ID.match(incident_id):
        raise ValidationError("invalid incident id", [Problem("/incident_id", incident_id[:80])])
    return f"incident-{incident_id}"
