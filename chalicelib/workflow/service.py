"""Workflow I/O: the incident timeline in DynamoDB and starting executions."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core.aws import AwsClients
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.errors import ConflictError, aws_errors
from chalicelib.core.settings import Settings
from chalicelib.workflow.steps import TimelineEntry, advance, execution_name, parse_step_event


class Timeline:
    """An incident's timeline: ``pk=<incident_id>``, ``sk=TL#<step>`` in the incidents table."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def record(self, entry: TimelineEntry) -> bool:
        """Write the entry once; a retried step finds it there and writes nothing. True if new."""
        item = {
            "pk": entry.incident_id,
            "sk": f"TL#{entry.step.value}",
            "step": entry.step.value,
            "title": entry.title,
            "at": entry.at.isoformat(),
            "execution": entry.execution,
            "drill": entry.drill,
            "note": entry.note,
        }
        try:
            with aws_errors("incidents table"):
                self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ConflictError:
            return False
        return True

    def entries(self, incident_id: str) -> list[dict[str, Any]]:
        with aws_errors("incidents table"):
            result = self._table.query(
                KeyConditionExpression="pk = :pk AND begins_with(sk, :tl)",
                ExpressionAttributeValues={":pk": incident_id, ":tl": "TL#"},
            )
        return sorted(result.get("Items", []), key=lambda i: str(i["at"]))


class WorkflowService:
    """Runs one workflow step for the state machine and starts executions for incidents."""

    def __init__(self, settings: Settings, clients: AwsClients, clock: Clock = utcnow) -> None:
        self._settings = settings
        self._clients = clients
        self._clock = clock
        self.timeline = Timeline(clients.table(settings.tables.incidents))

    def run_step(self, event: Any) -> dict[str, Any]:
        step = parse_step_event(event)
        state, entry = advance(step, self._clock(), self._settings.time_scale)
        self.timeline.record(entry)
        return state

    def start(self, incident_id: str, drill: bool = False) -> str:
        """Start the response workflow for an incident; starting it twice returns the same ARN."""
        name = execution_name(incident_id)
        arn = self._clients.state_machine_arn(self._settings.state_machine)
        sfn = self._clients.client("stepfunctions")
        try:
            with aws_errors("state machine"):
                result = sfn.start_execution(
                    stateMachineArn=arn,
                    name=name,
                    input=json.dumps({"incident_id": incident_id, "drill": drill}),
                )
        except ConflictError:
            return arn.replace(":stateMachine:", ":execution:") + f":{name}"
        return str(result["executionArn"])
