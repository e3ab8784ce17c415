"""The response workflow's I/O (应对流程): the incident timeline and one execution per incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import NotFoundError, ValidationError
from chalicelib.core.settings import Settings
from chalicelib.workflow.service import WorkflowService
from chalicelib.workflow.steps import DEFAULT_COOLDOWN_SECONDS

INCIDENT = "INC-20260301-0001"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class StepClock:
    """A clock that moves one minute per reading, so retries happen 'later'."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        current = self.now
        self.now += timedelta(minutes=1)
        return current


@pytest.fixture
def service(clients: AwsClients, settings: Settings) -> WorkflowService:
    return WorkflowService(settings, clients, clock=StepClock())


def step_event(step: str, state: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "step": step,
        "state": state or {"incident_id": INCIDENT, "drill": True},
        "execution": f"incident-{INCIDENT}",
    }


def test_report_returns_the_state_with_scaled_timers(
    service: WorkflowService, settings: Settings
) -> None:
    # GIVEN the local stage's time scale
    # WHEN the state machine runs the report step
    state = service.run_step(step_event("report"))

    # THEN the state carries the cool-down the Wait state reads, scaled down
    expected = round(DEFAULT_COOLDOWN_SECONDS * settings.time_scale)
    assert state == {
        "incident_id": INCIDENT,
        "drill": True,
        "timers": {"cooldown_seconds": expected},
        "last_step": "report",
    }


def test_a_retried_step_is_recorded_once(service: WorkflowService) -> None:
    # GIVEN the report step ran
    first = service.run_step(step_event("report"))

    # WHEN Step Functions retries it (the Lambda timed out after writing)
    second = service.run_step(step_event("report"))

    # THEN it returns the same state and the timeline holds one entry, from the first run
    assert second == first
    entries = service.timeline.entries(INCIDENT)
    assert len(entries) == 1
    assert entries[0]["step"] == "report"
    assert entries[0]["title"] == "报告指挥部"
    assert entries[0]["at"] == T0.isoformat()
    assert entries[0]["drill"] is True
    assert entries[0]["execution"] == f"incident-{INCIDENT}"


def test_the_timeline_lists_steps_in_order(service: WorkflowService) -> None:
    # GIVEN the workflow advanced through three steps, passing its state along
    state = service.run_step(step_event("report"))
    state = service.run_step(step_event("triage", state))
    state = service.run_step(step_event("measures", state))

    # THEN the timeline reads in order, and another incident's timeline is separate
    assert [e["step"] for e in service.timeline.entries(INCIDENT)] == [
        "report",
        "triage",
        "measures",
    ]
    assert service.timeline.entries("INC-other") == []


def test_a_failure_is_recorded_with_its_cause(service: WorkflowService) -> None:
    caught = {"Error": "UnavailableError", "Cause": "AWS unreachable (system table)"}
    event = {**step_event("failed"), "error": caught}
    service.run_step(event)
    [entry] = service.timeline.entries(INCIDENT)
    assert entry["note"] == "UnavailableError: AWS unreachable (system table)"


def test_an_invalid_event_writes_nothing(service: WorkflowService, settings: Settings) -> None:
    # GIVEN a malformed event WHEN run THEN it is refused and the incidents table stays empty
    with pytest.raises(ValidationError):
        service.run_step({"step": "report", "state": {"incident_id": "bad id"}})
    table = boto3.resource("dynamodb").Table(settings.tables.incidents)
    assert table.scan()["Items"] == []


def test_start_twice_returns_the_same_execution(
    service: WorkflowService, moto: dict[str, str]
) -> None:
    # GIVEN the state machine exists (created, not executed)
    # WHEN the workflow is started twice for one incident
    first = service.start(INCIDENT)
    second = service.start(INCIDENT)

    # THEN both starts name the same execution, and only one exists
    machine = moto["ResponseStateMachine"]
    assert first == second
    assert first == machine.replace(":stateMachine:", ":execution:") + f":incident-{INCIDENT}"
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=machine)
    assert [e["name"] for e in executions["executions"]] == [f"incident-{INCIDENT}"]


def test_a_conflicting_start_returns_the_existing_execution(service: WorkflowService) -> None:
    # GIVEN an execution started for the incident
    first = service.start(INCIDENT, drill=False)

    # WHEN it is started again with different input (Step Functions refuses the name)
    again = service.start(INCIDENT, drill=True)

    # THEN the existing execution's ARN is returned rather than an error
    assert again == first


def test_start_without_the_state_machine_is_not_found(
    service: WorkflowService, moto: dict[str, str]
) -> None:
    boto3.client("stepfunctions").delete_state_machine(stateMachineArn=moto["ResponseStateMachine"])
    with pytest.raises(NotFoundError):
        service.start(INCIDENT)


def test_start_refuses_an_invalid_incident_id(service: WorkflowService) -> None:
    with pytest.raises(ValidationError):
        service.start("not valid!")


def test_the_workflow_step_function_runs_a_step(api_client: Client, settings: Settings) -> None:
    # GIVEN the payload the Report task sends
    # WHEN the Lambda function the state machine calls is invoked
    result = api_client.lambda_.invoke("workflow_step", step_event("report"))

    # THEN it answers with the new state and has written the timeline
    assert result.payload["last_step"] == "report"
    assert result.payload["timers"]["cooldown_seconds"] >= 1
    table = boto3.resource("dynamodb").Table(settings.tables.incidents)
    assert [i["sk"] for i in table.scan()["Items"]] == ["TL#report"]
