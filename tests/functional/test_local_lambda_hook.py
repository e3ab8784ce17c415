"""Regression: moto's private Lambda invoke path must reach our in-process handlers.

moto is pinned exactly because local mode replaces ``LambdaFunction._invoke_lambda``. If a moto
upgrade renames or bypasses it, these tests fail instead of local mode silently trying Docker.
Each event path Lambda has in AWS is exercised: direct invoke, a Step Functions Task, an SNS
delivery, a DynamoDB stream, and our SQS poller.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice import Chalice, Rate

from chalicelib.local import lambda_hook
from chalicelib.local.functions import register_functions, wire_event_sources
from chalicelib.local.gate import WorkGate
from chalicelib.local.scheduler import invoke_scheduled
from chalicelib.local.snapshot import Snapshot
from chalicelib.local.sqs_poller import QueuePoller
from tests.moto_harness import executing_moto
from tests.waiting import wait_for

REGION = "us-east-1"
ACCOUNT = "123456789012"
STREAM_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/hook-events/stream/2020-01-01T00:00:00.000"

sample = Chalice(app_name="hooktest")
calls: list[tuple[str, Any]] = []


@sample.route("/ping")
def ping() -> dict[str, str]:
    return {"pong": "yes"}


@sample.lambda_function(name="raw")
def raw(event: Any, context: Any) -> dict[str, Any]:
    return {"got": event}


@sample.lambda_function(name="echo")
def echo(event: Any, context: Any) -> dict[str, Any]:
    calls.append(("echo", event))
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"echo": event, "function": context.function_name}


@sample.schedule(Rate(1, unit=Rate.MINUTES), name="tick")
def tick(event: Any) -> dict[str, str]:
    calls.append(("tick", event.to_dict()))
    return {"ticked": event.source}


@sample.on_sns_message(topic="hook-topic", name="on_topic")
def on_topic(event: Any) -> None:
    calls.append(("sns", event.message))


@sample.on_sns_message(topic="no-such-topic", name="on_missing_topic")
def on_missing_topic(event: Any) -> None:
    calls.append(("missing", event.message))


@sample.on_sqs_message(queue="hook-queue", name="on_queue")
def on_queue(event: Any) -> None:
    for record in event:
        if record.body == "poison":
            raise RuntimeError("cannot handle this message")
        calls.append(("sqs", record.body))


@sample.on_dynamodb_record(stream_arn=STREAM_ARN, name="on_record")
def on_record(event: Any) -> None:
    for record in event:
        calls.append(("ddb", record.event_name))


@pytest.fixture
def hooked(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """GIVEN moto with Step Functions execution and the sample app's functions registered."""
    calls.clear()
    with executing_moto(monkeypatch) as world:
        client, registry = world.client, world.registry
        client("sns").create_topic(Name="hook-topic")
        client("sqs").create_queue(QueueName="hook-queue", Attributes={"VisibilityTimeout": "0"})
        client("dynamodb").create_table(
            TableName="hook-events",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        registered = register_functions(sample, "test", client, registry, {"X": "1"})
        wire_event_sources(registered, client)
        yield {"client": client, "registered": registered, "registry": registry}


def _invoke(client: Any, name: str, payload: dict[str, Any]) -> tuple[Any, str | None]:
    response = client("lambda").invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    return json.loads(response["Payload"].read()), response.get("FunctionError")


def test_functions_are_registered_under_their_deployed_names(hooked: dict[str, Any]) -> None:
    names = {f["FunctionName"] for f in hooked["client"]("lambda").list_functions()["Functions"]}
    assert names == {
        "hooktest-test",
        "hooktest-test-echo",
        "hooktest-test-raw",
        "hooktest-test-tick",
        "hooktest-test-on_topic",
        "hooktest-test-on_missing_topic",
        "hooktest-test-on_queue",
        "hooktest-test-on_record",
    }
    assert (
        hooked["registered"].provisioned["Echo"].attributes["Arn"].endswith(":hooktest-test-echo")
    )


def test_direct_invoke_runs_the_handler_in_process(hooked: dict[str, Any]) -> None:
    result, error = _invoke(hooked["client"], "hooktest-test-echo", {"n": 1})
    assert error is None
    assert result == {"echo": {"n": 1}, "function": "hooktest-test-echo"}
    assert hooked["registry"].count("hooktest-test-echo") == 1


@pytest.mark.parametrize("payload", [b'"a json string"', b"[1, 2]", b"", b"7"])
def test_any_json_payload_reaches_the_handler_as_lambda_would_pass_it(
    hooked: dict[str, Any], payload: bytes
) -> None:
    response = hooked["client"]("lambda").invoke(FunctionName="hooktest-test-raw", Payload=payload)
    assert response.get("FunctionError") is None
    expected = json.loads(payload) if payload else {}
    assert json.loads(response["Payload"].read()) == {"got": expected}


def test_a_subscription_to_a_missing_topic_is_reported_not_invented(
    hooked: dict[str, Any],
) -> None:
    assert hooked["registered"].unsupported == [
        "hooktest-test-on_missing_topic: topic no-such-topic does not exist"
    ]
    topics = [t["TopicArn"] for t in hooked["client"]("sns").list_topics()["Topics"]]
    assert not [t for t in topics if t.endswith(":no-such-topic")]


def test_a_raising_handler_returns_lambdas_error_shape(hooked: dict[str, Any]) -> None:
    result, error = _invoke(hooked["client"], "hooktest-test-echo", {"fail": True})
    assert error == "Handled"
    assert result["errorType"] == "ValueError"
    assert result["errorMessage"] == "asked to fail"


def test_scheduled_function_receives_an_eventbridge_event(hooked: dict[str, Any]) -> None:
    outcome = invoke_scheduled(hooked["client"]("lambda"), "hooktest-test-tick", ACCOUNT, REGION)
    assert outcome["error"] is None
    assert outcome["result"] == {"ticked": "aws.events"}
    assert calls[-1][1]["detail-type"] == "Scheduled Event"


def test_step_functions_task_reaches_the_handler(hooked: dict[str, Any]) -> None:
    client = hooked["client"]
    arn = hooked["registered"].provisioned["Echo"].attributes["Arn"]
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": arn, "Payload": {"from": "sfn", "x.$": "$.x"}},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    machine = client("stepfunctions").create_state_machine(
        name="hook-machine",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
    )["stateMachineArn"]
    execution = client("stepfunctions").start_execution(
        stateMachineArn=machine, name="hook-1", input=json.dumps({"x": 7})
    )["executionArn"]
    status: dict[str, Any] = {}
    for _ in range(100):
        status = client("stepfunctions").describe_execution(executionArn=execution)
        if status["status"] != "RUNNING":
            break
        time.sleep(0.05)
    assert status["status"] == "SUCCEEDED"
    assert json.loads(status["output"])["echo"] == {"from": "sfn", "x": 7}


def test_sns_delivery_reaches_the_subscribed_handler(hooked: dict[str, Any]) -> None:
    client = hooked["client"]
    topic = client("sns").create_topic(Name="hook-topic")["TopicArn"]
    client("sns").publish(TopicArn=topic, Message="hello")
    assert ("sns", "hello") in calls


def test_dynamodb_stream_reaches_the_handler(hooked: dict[str, Any]) -> None:
    hooked["client"]("dynamodb").put_item(TableName="hook-events", Item={"pk": {"S": "a"}})
    assert ("ddb", "INSERT") in calls


def test_sqs_poller_delivers_and_deletes_only_on_success(hooked: dict[str, Any]) -> None:
    client = hooked["client"]
    url = client("sqs").get_queue_url(QueueName="hook-queue")["QueueUrl"]
    poller = QueuePoller(
        client("sqs"),
        client("lambda"),
        url,
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:hook-queue",
        "hooktest-test-on_queue",
        REGION,
    )
    client("sqs").send_message(QueueUrl=url, MessageBody="first")
    assert poller.poll_once() == 1
    assert ("sqs", "first") in calls

    # WHEN the handler fails THEN the message stays on the queue for redelivery
    client("sqs").send_message(QueueUrl=url, MessageBody="poison")
    assert poller.poll_once() == 0
    left = client("sqs").receive_message(QueueUrl=url).get("Messages", [])
    assert [m["Body"] for m in left] == ["poison"]


def test_a_batch_held_at_the_gate_during_a_stop_goes_back_to_the_queue_to_be_saved(
    hooked: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN a queue whose received messages stay invisible for minutes, and a stop under way:
    # the gate holds new invocations
    client = hooked["client"]
    sqs = client("sqs")
    url = sqs.create_queue(QueueName="held-queue", Attributes={"VisibilityTimeout": "300"})[
        "QueueUrl"
    ]
    gate = WorkGate()
    lambda_hook.install(hooked["registry"], gate)
    gate.hold()
    poller = QueuePoller(
        sqs,
        client("lambda"),
        url,
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:held-queue",
        "hooktest-test-on_queue",
        REGION,
    )
    sqs.send_message(QueueUrl=url, MessageBody="held")

    # WHEN the poller received it and its invocation waits at the gate
    worker = threading.Thread(target=poller.poll_once)
    worker.start()

    def invisible() -> int:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesNotVisible"])

    wait_for(lambda: invisible() == 1, timeout=10)
    poller.stop(timeout=0.2)

    # THEN releasing it puts it back, so the stop's drain saves it for the next start
    assert poller.release_unfinished() == 1
    assert Snapshot(tmp_path, client).drain_queues({"held-queue": url}) == 1
    gate.refuse()
    worker.join(10)
    assert ("sqs", "held") not in calls  # held, then refused: never half-handled


def test_a_function_without_handler_answers_an_error_not_docker(hooked: dict[str, Any]) -> None:
    client = hooked["client"]
    client("lambda").create_function(
        FunctionName="not-ours",
        Runtime="python3.11",
        Role=f"arn:aws:iam::{ACCOUNT}:role/hooktest-test-local-lambda",
        Handler="x.y",
        Code={"ZipFile": b"PK"},
    )
    result, error = _invoke(client, "not-ours", {})
    assert error == "Handled"
    assert result["errorType"] == "LocalHandlerNotFound"
