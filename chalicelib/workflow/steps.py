"""The payload the state machine sends to ``workflow_step``, validated.

Pure. Each Task of ``infra/statemachine/response.asl.json`` invokes the one ``workflow_step``
function with ``{"step": …, "state": {…}, "execution": …}`` (plus ``"token"`` for a wait on
people); :func:`parse_step_event` checks it before anything is read or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.core.errors import Problem, ValidationError
from chalicelib.incidents.models import INCIDENT_ID
from chalicelib.workflow.logic import STEPS

MAX_TOKEN = 4096


@dataclass(frozen=True)
class StepInput:
    step: str
    incident_id: str
    drill: bool
    execution: str
    state: dict[str, Any]
    token: str | None


def parse_step_event(event: Any) -> StepInput:
    """Validate the payload the state machine sends; every problem is listed with its path."""
    problems: list[Problem] = []
    if not isinstance(event, dict):
        raise ValidationError("workflow event must be an object", [Problem("", "not an object")])
    step = event.get("step")
    if step not in STEPS:
        problems.append(Problem("/step", f"unknown step {step!r}"))
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
    token = event.get("token")
    if token is not None and (not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN):
        problems.append(Problem("/token", "must be a non-empty string"))
    if problems:
        raise ValidationError("invalid workflow event", problems)
    return StepInput(
        step=str(step),
        incident_id=str(incident_id),
        drill=bool(drill),
        execution=str(execution),
        state=dict(state),
        token=token,
    )
