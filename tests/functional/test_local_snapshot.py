"""Local mode saves its state and restores it after a restart: tables, executions, messages."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.local.snapshot import Snapshot, from_jsonable, to_jsonable

REGION = "us-east-1"


def _create(client: Any, name: str, hash_key: str = "pk") -> None:
    client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": hash_key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": hash_key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        made: dict[str, Any] = {}

        def build(service: str) -> Any:
            return made.setdefault(service, session.client(service))

        yield build


def test_bytes_round_trip_through_json() -> None:
    value = {"B": b"\x00\xff", "BS": [b"a", b"b"], "M": {"x": {"S": "text"}}, "n": 1}
    assert from_jsonable(json.loads(json.dumps(to_jsonable(value)))) == value


def test_items_survive_save_and_restore_into_fresh_tables(client: Any, tmp_path: Path) -> None:
    ddb = client("dynamodb")
    _create(client, "t1")
    for i in range(60):  # more than one BatchWriteItem
        ddb.put_item(
            TableName="t1",
            Item={"pk": {"S": f"k{i}"}, "n": {"N": str(i)}, "sig": {"B": bytes([i, 255])}},
        )
    snapshot = Snapshot(tmp_path, client)
    assert snapshot.save_tables(["t1"]) == 60

    ddb.delete_table(TableName="t1")
    _create(client, "t1")
    assert snapshot.restore_tables(["t1", "never-saved"]) == 60
    item = ddb.get_item(TableName="t1", Key={"pk": {"S": "k42"}})["Item"]
    assert item["n"] == {"N": "42"}
    assert item["sig"] == {"B": bytes([42, 255])}


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_text('{"table": "t2", "items": 5}'),  # wrong shape
        lambda path: path.write_text("{truncated"),  # not JSON
    ],
)
def test_a_snapshot_that_cannot_be_restored_is_set_aside(
    client: Any, tmp_path: Path, damage: Any
) -> None:
    _create(client, "t2")
    snapshot = Snapshot(tmp_path, client)
    snapshot.save_tables(["t2"])
    damage(tmp_path / "dynamodb" / "t2.json")
    assert snapshot.restore_tables(["t2"]) == 0
    assert not (tmp_path / "dynamodb" / "t2.json").exists()
    assert len(list((tmp_path / "dynamodb").glob("t2.json.unrestorable-*"))) == 1


def test_a_snapshot_from_an_older_schema_is_set_aside(client: Any, tmp_path: Path) -> None:
    _create(client, "t3")
    client("dynamodb").put_item(TableName="t3", Item={"pk": {"S": "x"}})
    snapshot = Snapshot(tmp_path, client)
    snapshot.save_tables(["t3"])
    # The table's key is now "id", so the saved items cannot be written.
    client("dynamodb").delete_table(TableName="t3")
    _create(client, "t3", hash_key="id")
    assert snapshot.restore_tables(["t3"]) == 0
    assert len(list((tmp_path / "dynamodb").glob("t3.json.unrestorable-*"))) == 1


def test_queued_messages_are_drained_at_stop_and_sent_again_once(
    client: Any, tmp_path: Path
) -> None:
    sqs = client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for body in ("one", "two"):
        sqs.send_message(
            QueueUrl=url,
            MessageBody=body,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "crawl"}},
        )
    snapshot = Snapshot(tmp_path, client)
    assert snapshot.drain_queues({"q": url}) == 2

    fresh = sqs.create_queue(QueueName="q-after-restart")["QueueUrl"]
    assert snapshot.restore_queues({"q": fresh}) == 2
    assert snapshot.restore_queues({"q": fresh}) == 0  # never sent twice
    received = sqs.receive_message(
        QueueUrl=fresh, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    assert sorted(m["Body"] for m in received) == ["one", "two"]
    assert received[0]["MessageAttributes"]["kind"]["StringValue"] == "crawl"


def test_running_executions_are_started_again_under_their_names(
    client: Any, tmp_path: Path
) -> None:
    sfn = client("stepfunctions")
    definition = {
        "StartAt": "Wait",
        "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}},
    }
    arn = sfn.create_state_machine(
        name="m", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
    sfn.start_execution(stateMachineArn=arn, name="incident-a", input='{"incident_id": "a"}')
    snapshot = Snapshot(tmp_path, client)
    assert snapshot.save_executions(arn) == 1

    sfn.delete_state_machine(stateMachineArn=arn)
    time.sleep(0.1)
    arn = sfn.create_state_machine(
        name="m2", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
    assert snapshot.restore_executions(arn) == 1
    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [e["name"] for e in executions] == ["incident-a"]
    described = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(described["input"]) == {"incident_id": "a"}
