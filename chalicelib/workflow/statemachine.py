"""The response workflow's state machine (状态机) as the rest of the code sees it.

The only module of the product that calls the Step Functions API: start an incident's
execution, answer or fail a wait's task token, describe an execution, and the machine's own
status for ``/health``. Everything else holds a :class:`StateMachine` and never builds an ARN or
catches a Step Functions error by itself. Errors come out as the project's (``aws_errors``): a
stale token is a ``YuqingError`` whose ``details["aws_error"]`` names it, a missing execution a
``NotFoundError``, a start under a name already used a ``ConflictError`` (which :meth:`start`
turns into "already started").

One execution per incident, named after it: Step Functions itself refuses a second start.
(Local mode's snapshot and restart, which carry executions across a restart of the emulator,
keep their own calls: they move moto's state, not the workflow's.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chalicelib.core.aws import AwsClients
from chalicelib.core.clock import iso
from chalicelib.core.errors import (
    ConflictError,
    NotFoundError,
    Problem,
    ValidationError,
    aws_errors,
)
from chalicelib.core.settings import Settings
from chalicelib.incidents.models import INCIDENT_ID

WHAT = "state machine"


def execution_name(incident_id: str) -> str:
    """Execution name for an incident: Step Functions itself refuses a duplicate start."""
    if not INCIDENT_ID.match(incident_id):
        raise ValidationError("invalid incident id", [Problem("/incident_id", incident_id[:80])])
    return f"incident-{incident_id}"


class StateMachine:
    """One state machine, through one Step Functions client."""

    def __init__(self, client: Any, machine_arn: str) -> None:
        self._client = client
        self.arn = machine_arn

    @classmethod
    def of(cls, settings: Settings, clients: AwsClients) -> StateMachine:
        """The stage's response workflow."""
        arn = clients.state_machine_arn(settings.state_machine)
        return cls(clients.client("stepfunctions"), arn)

    def execution_arn(self, incident_id: str) -> str:
        return self.arn.replace(":stateMachine:", ":execution:") + ":" + execution_name(incident_id)

    def start(self, incident_id: str, drill: bool = False) -> str:
        """Start the incident's workflow; starting it twice returns the same execution ARN."""
        try:
            with aws_errors(WHAT):
                result = self._client.start_execution(
                    stateMachineArn=self.arn,
                    name=execution_name(incident_id),
                    input=json.dumps({"incident_id": incident_id, "drill": drill}),
                )
        except ConflictError:
            return self.execution_arn(incident_id)
        return str(result["executionArn"])

    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        """Answer a wait: the state machine goes on with ``output`` as the task's result."""
        with aws_errors(WHAT):
            self._client.send_task_success(
                taskToken=token, output=json.dumps(output, ensure_ascii=False)
            )

    def fail(self, token: str, error: str, cause: str) -> None:
        """Fail a wait with ``error``, which the state machine catches by name."""
        with aws_errors(WHAT):
            self._client.send_task_failure(taskToken=token, error=error, cause=cause)

    def describe(self, incident_id: str) -> dict[str, Any] | None:
        """The incident's execution (name, status, start and stop), or None if it has none."""
        try:
            with aws_errors(WHAT):
                described = self._client.describe_execution(
                    executionArn=self.execution_arn(incident_id)
                )
        except NotFoundError:
            return None
        return {
            "name": described["name"],
            "status": described["status"],
            "started_at": iso(described["startDate"]),
            "stopped_at": iso(described["stopDate"]) if described.get("stopDate") else None,
        }

    def status(self) -> str:
        """The machine's own status (ACTIVE, DELETING) for ``/health``."""
        with aws_errors(WHAT):
            return str(self._client.describe_state_machine(stateMachineArn=self.arn)["status"])
