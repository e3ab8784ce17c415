"""Local mode saves its state and restores it after a restart: tables, executions, messages —
and the journal of every write since the last snapshot, so a kill loses no write either."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.local import moto_guard
from chalicelib.local.journal import Journal
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


@pytest.fixture
def journal(client: Any, tmp_path: Path) -> Iterator[Journal]:
    """GIVEN local mode's write guard handing every moto write to a journal."""
    journal = Journal(tmp_path / "journal")
    journal.open()
    moto_guard.install()
    moto_guard.journal_to(journal)
    yield journal
    moto_guard.uninstall()
    journal.close()


def _items(ddb: Any, table: str) -> dict[str, dict[str, Any]]:
    return {i["pk"]["S"]: i for i in ddb.scan(TableName=table)["Items"]}


def test_every_write_after_the_snapshot_is_journaled_and_replayed_onto_it(
    client: Any, tmp_path: Path, journal: Journal
) -> None:
    ddb = client("dynamodb")
    _create(client, "t1")
    ddb.put_item(
        TableName="t1",
        Item={"pk": {"S": "kept"}, "n": {"N": "1"}, "sig": {"B": b"\x02"}, "m": {"M": {}}},
    )
    ddb.put_item(TableName="t1", Item={"pk": {"S": "doomed"}})
    # GIVEN a snapshot, taken as local mode takes it: the tables read in-process at the instant
    # the journal moves to a new file, the older files dropped once it is written
    snapshot = Snapshot(tmp_path, client)
    items, since = moto_guard.snapshot_tables(["t1"])
    assert snapshot.save_tables(["t1"], items) == 2
    assert since is not None
    journal.drop_before(since)

    # WHEN every kind of write follows it
    ddb.put_item(
        TableName="t1",
        Item={
            "pk": {"S": "new"},
            "sig": {"B": b"\x00\xff"},
            "more": {"M": {"sig": {"B": b"\x01"}, "tags": {"SS": ["a", "b"]}}},
            "list": {"L": [{"N": "1"}, {"BS": [b"x"]}]},
        },
    )
    ddb.update_item(
        TableName="t1",
        Key={"pk": {"S": "kept"}},
        UpdateExpression="SET n = n + :one, note = :note",
        ExpressionAttributeValues={":one": {"N": "1"}, ":note": {"S": "更新"}},
    )
    ddb.delete_item(TableName="t1", Key={"pk": {"S": "doomed"}})
    ddb.batch_write_item(
        RequestItems={"t1": [{"PutRequest": {"Item": {"pk": {"S": f"b{i}"}}}} for i in range(3)]}
    )
    ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": "t1", "Item": {"pk": {"S": "in-tx"}}}}]
    )
    # ... and writes that did not happen: a refused condition, a cancelled transaction
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(
            TableName="t1",
            Item={"pk": {"S": "kept"}, "n": {"N": "99"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t1", "Item": {"pk": {"S": "cancelled"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "t1",
                        "Key": {"pk": {"S": "nowhere"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    expected = _items(ddb, "t1")
    assert "cancelled" not in expected

    # WHEN the process dies without saving, and a new one restores the snapshot and replays
    moto_guard.journal_to(None)  # as at a start: restoring is not journaled
    ddb.delete_table(TableName="t1")
    _create(client, "t1")
    snapshot.restore_tables(["t1"])
    assert snapshot.replay(Journal(tmp_path / "journal").entries(), ["t1"]) == 7

    # THEN the table is as it was at the moment of death
    assert _items(ddb, "t1") == expected


def test_a_journal_line_cut_short_by_a_kill_is_skipped(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.open()
    journal.append([{"table": "t", "key": {"pk": {"S": "a"}}, "item": {"pk": {"S": "a"}}}])
    journal.close()
    with next(tmp_path.glob("*.jsonl")).open("a", encoding="utf-8") as cut:
        cut.write('{"table": "t", "key": {"pk": {"S"')
    assert [e["key"] for e in Journal(tmp_path).entries()] == [{"pk": {"S": "a"}}]


def test_concurrent_writes_are_journaled_in_the_order_they_took_effect(
    client: Any, tmp_path: Path, journal: Journal
) -> None:
    # GIVEN one item that eight threads update at once, each its own attribute and a counter
    ddb = client("dynamodb")
    _create(client, "t1")
    ddb.put_item(TableName="t1", Item={"pk": {"S": "hot"}, "n": {"N": "0"}})

    def bump(worker: int) -> None:
        for i in range(15):
            ddb.update_item(
                TableName="t1",
                Key={"pk": {"S": "hot"}},
                UpdateExpression=f"SET n = n + :one, w{worker} = :i",
                ExpressionAttributeValues={":one": {"N": "1"}, ":i": {"N": str(i)}},
            )

    # WHEN they run (the journal's file is written after moto's write lock is released)
    workers = [threading.Thread(target=bump, args=(w,)) for w in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # THEN every write is in the file once each has returned, in the order it took effect: the
    # counter rises by one from line to line and the last line is the item as it stands
    lines = [e["item"] for e in Journal(tmp_path / "journal").entries() if e["table"] == "t1"]
    counts = [int(line["n"]["N"]) for line in lines]
    assert counts == list(range(121))
    assert lines[-1] == ddb.get_item(TableName="t1", Key={"pk": {"S": "hot"}})["Item"]


def test_lines_queued_before_a_rotation_stay_in_the_older_file(tmp_path: Path) -> None:
    # GIVEN a line queued (under moto's write lock) but not yet written
    journal = Journal(tmp_path)
    first = journal.open()
    journal.queue([{"table": "t", "key": {"pk": {"S": "a"}}, "item": {"pk": {"S": "a"}}}])
    # WHEN a snapshot rotates the journal before the writer writes it
    journal.rotate()
    journal.queue([{"table": "t", "key": {"pk": {"S": "b"}}, "item": None}])
    journal.write_queued()
    journal.close()
    # THEN the line of the write before the snapshot is in the file the snapshot supersedes
    journal.drop_before(first + 1)
    assert [e["key"] for e in Journal(tmp_path).entries()] == [{"pk": {"S": "b"}}]


def test_executions_not_yet_resumed_at_a_stop_are_saved_with_the_running_ones(
    client: Any, tmp_path: Path
) -> None:
    # GIVEN one execution running again and two saved ones not started yet (a stop came while
    # local mode was still resuming them after its API was up)
    sfn = client("stepfunctions")
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}
    arn = sfn.create_state_machine(
        name="m3", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
    sfn.start_execution(stateMachineArn=arn, name="incident-a", input='{"incident_id": "a"}')
    pending = [
        {"name": "incident-a", "input": '{"incident_id": "a"}'},
        {"name": "incident-b", "input": '{"incident_id": "b"}'},
    ]
    # WHEN it saves THEN each is listed once, so the next start resumes all of them
    snapshot = Snapshot(tmp_path, client)
    assert snapshot.save_executions(arn, pending) == 2
    assert {e["name"] for e in snapshot.saved_executions()} == {"incident-a", "incident-b"}
