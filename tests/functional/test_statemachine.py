"""The one wrapper of Step Functions (workflow/statemachine.py), against moto."""

from __future__ import annotations

import pytest

from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import ValidationError
from chalicelib.core.settings import Settings
from chalicelib.workflow.statemachine import StateMachine


def test_an_incident_has_one_execution_named_after_it(
    clients: AwsClients, settings: Settings
) -> None:
    machine = StateMachine.of(settings, clients)

    # WHEN the incident's workflow is started twice
    first = machine.start("c-one")
    second = machine.start("c-one", drill=True)

    # THEN both starts name the one execution, which the wrapper describes
    assert first == second == machine.execution_arn("c-one")
    assert ":execution:" in first
    assert first.endswith(":incident-c-one")
    described = machine.describe("c-one")
    assert described is not None
    assert described["name"] == "incident-c-one"
    assert described["started_at"]
    # AND an incident without a workflow has none, and the machine itself is up
    assert machine.describe("c-none") is None
    assert machine.status() == "ACTIVE"


@pytest.mark.parametrize("incident_id", ["", "a b", "x" * 65, "c-1\n"])
def test_an_id_that_is_not_an_incident_id_starts_nothing(
    clients: AwsClients, settings: Settings, incident_id: str
) -> None:
    machine = StateMachine.of(settings, clients)
    with pytest.raises(ValidationError):
        machine.start(incident_id)
    sfn = clients.client("stepfunctions")
    assert sfn.list_executions(stateMachineArn=machine.arn)["executions"] == []
