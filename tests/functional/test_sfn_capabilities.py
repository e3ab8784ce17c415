"""Regression: the Step Functions features the response workflow relies on, in moto's interpreter.

The response workflow (报告 → 研判 → 措施 → 实施 …) waits for people through task tokens with
deadlines read from the input, fans group tasks out with Map, runs public-response timers beside
them with Parallel, and waits until absolute deadlines. moto executes all of that in local mode
and tests; this test pins that it still does, so a moto upgrade that drops one fails here first
rather than deep inside a workflow test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice import Chalice

from chalicelib.local.functions import register_functions
from tests.moto_harness import executing_moto
from tests.waiting import wait_for

REGION = "us-east-1"
sample = Chalice(app_name="sfncaps")
tokens: dict[str, str] = {}


@sample.lambda_function(name="notify")
def notify(event: Any, context: Any) -> dict[str, Any]:
    tokens[event["key"]] = event["token"]
    return {"notified": event["key"]}


def _waiting_task(key: Any, on_timeout: str | None, **extra: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {
            "FunctionName": "FN",
            "Payload": {**key, "token.$": "$$.Task.Token"},
        },
        "TimeoutSecondsPath": "$.timeout",
        **extra,
    }
    if on_timeout:
        state["Catch"] = [
            {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timed_out", "Next": on_timeout}
        ]
    return state


DEFINITION: dict[str, Any] = {
    "StartAt": "Decide",
    "States": {
        "Decide": _waiting_task(
            {"key": "hq"}, "Escalate", ResultPath="$.decision", Next="Implement"
        ),
        "Escalate": {
            "Type": "Pass",
            "Result": "escalated",
            "ResultPath": "$.escalation",
            "Next": "Implement",
        },
        "Implement": {
            "Type": "Parallel",
            "ResultPath": "$.implemented",
            "Next": "Done",
            "Branches": [
                {
                    "StartAt": "Groups",
                    "States": {
                        "Groups": {
                            "Type": "Map",
                            "ItemsPath": "$.groups",
                            "ItemSelector": {
                                "group.$": "$$.Map.Item.Value",
                                "timeout.$": "$.timeout",
                            },
                            "ItemProcessor": {
                                "ProcessorConfig": {"Mode": "INLINE"},
                                "StartAt": "GroupTask",
                                "States": {
                                    "GroupTask": _waiting_task(
                                        {"key.$": "$.group"}, "Breach", End=True
                                    ),
                                    "Breach": {"Type": "Pass", "End": True},
                                },
                            },
                            "End": True,
                        }
                    },
                },
                {
                    "StartAt": "Deadline",
                    "States": {
                        "Deadline": {
                            "Type": "Wait",
                            "TimestampPath": "$.deadline",
                            "Next": "DeadlinePassed",
                        },
                        "DeadlinePassed": {
                            "Type": "Pass",
                            "Result": "deadline passed",
                            "End": True,
                        },
                    },
                },
            ],
        },
        "Done": {"Type": "Succeed"},
    },
}


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    tokens.clear()
    with executing_moto(monkeypatch) as world:
        registered = register_functions(sample, "test", world.client, world.registry, {})
        arn = registered.provisioned["Notify"].attributes["Arn"]
        definition = json.dumps(DEFINITION).replace('"FN"', json.dumps(arn))
        role = world.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        created = world.client("stepfunctions").create_state_machine(
            name="caps", definition=definition, roleArn=role["Role"]["Arn"]
        )
        yield world.client("stepfunctions"), created["stateMachineArn"]


def test_token_waits_time_out_map_fans_out_and_timers_fire(machine: tuple[Any, str]) -> None:
    sfn, arn = machine
    deadline = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    started = sfn.start_execution(
        stateMachineArn=arn,
        name="incident-caps",
        input=json.dumps({"timeout": 1, "groups": ["publicity", "tech"], "deadline": deadline}),
    )

    # WHEN nobody decides, the decision times out and the flow escalates; both group tasks wait.
    wait_for(lambda: {"publicity", "tech"} <= tokens.keys())
    # AND one group completes its task in time while the other lets it lapse.
    sfn.send_task_success(taskToken=tokens["publicity"], output=json.dumps({"done": True}))

    described = wait_for(
        lambda: (
            (d := sfn.describe_execution(executionArn=started["executionArn"]))["status"]
            != "RUNNING"
            and d
        )
    )
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["timed_out"]["Error"] == "States.Timeout"
    assert output["escalation"] == "escalated"
    groups, timer = output["implemented"]
    assert groups[0] == {"done": True}
    assert groups[1]["group"] == "tech"
    assert groups[1]["timed_out"]["Error"] == "States.Timeout"
    assert timer == "deadline passed"
    # A second start under the same name is refused by the service (idempotent incident start).
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=arn, name="incident-caps", input="{}")


INTERRUPTIBLE: dict[str, Any] = {
    "StartAt": "Wait",
    "States": {
        "Wait": _waiting_task(
            {"key": "hq"},
            "TimedOut",
            ResultPath="$.answer",
            Next="Answered",
        ),
        "Shorten": {"Type": "Pass", "Result": 1, "ResultPath": "$.timeout", "Next": "Wait"},
        "TimedOut": {"Type": "Pass", "End": True},
        "Answered": {"Type": "Pass", "End": True},
    },
}
INTERRUPTIBLE["States"]["Wait"]["Catch"].insert(
    0, {"ErrorEquals": ["yuqing.LevelRose"], "ResultPath": "$.rise", "Next": "Shorten"}
)


def test_a_failed_token_is_caught_by_its_error_name_and_the_wait_restarts_with_a_new_timeout(
    machine: tuple[Any, str],
) -> None:
    """GIVEN a wait on people with a long timeout WHEN something fails its token with a named
    error THEN the Catch for that name runs, and re-entering the wait hands out a new token and
    reads the timeout from the new input (a shorter deadline really applies)."""
    sfn, arn = machine
    caps = sfn.describe_state_machine(stateMachineArn=arn)
    function = json.loads(caps["definition"])["States"]["Decide"]["Parameters"]["FunctionName"]
    created = sfn.create_state_machine(
        name="interruptible",
        definition=json.dumps(INTERRUPTIBLE).replace('"FN"', json.dumps(function)),
        roleArn=caps["roleArn"],
    )
    started = sfn.start_execution(
        stateMachineArn=created["stateMachineArn"], input=json.dumps({"timeout": 3600})
    )
    first = wait_for(lambda: tokens.get("hq"))
    sfn.send_task_failure(taskToken=first, error="yuqing.LevelRose", cause="II")
    second = wait_for(lambda: tokens["hq"] != first and tokens["hq"])
    described = wait_for(
        lambda: (
            (d := sfn.describe_execution(executionArn=started["executionArn"]))["status"]
            != "RUNNING"
            and d
        ),
        10,
    )
    output = json.loads(described["output"])
    assert output["rise"]["Error"] == "yuqing.LevelRose"
    assert output["timed_out"]["Error"] == "States.Timeout"
    assert second != first
