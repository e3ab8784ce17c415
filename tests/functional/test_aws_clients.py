"""The one place that builds AWS clients: cached, pointed at the configured endpoint, swappable."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import boto3
import pytest

from chalicelib.core import aws
from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import NotFoundError
from chalicelib.core.settings import Settings


def test_clients_and_resources_are_built_once_per_service(clients: AwsClients) -> None:
    # GIVEN clients WHEN the same service is asked for twice THEN the same object is returned
    assert clients.client("sqs") is clients.client("sqs")
    assert clients.resource("dynamodb") is clients.resource("dynamodb")
    assert clients.client("sqs") is not clients.client("sns")


def test_tables_are_resources_by_physical_name(clients: AwsClients, settings: Settings) -> None:
    table = clients.table(settings.tables.system)
    assert table.name == "yuqing-local-system"
    assert table.table_status == "ACTIVE"


def test_tables_share_one_class_and_each_thread_keeps_its_own_client(
    clients: AwsClients, settings: Settings
) -> None:
    # GIVEN two tables asked for on this thread
    system = clients.table(settings.tables.system)
    tokens = clients.table(settings.tables.tokens)
    # THEN they are tables of one class on this thread's resource, each working on its own name
    assert type(system) is type(tokens)
    assert system.meta.client is tokens.meta.client is clients.resource("dynamodb").meta.client
    system.put_item(Item={"pk": "probe", "ok": True})
    assert system.get_item(Key={"pk": "probe"})["Item"]["ok"] is True
    assert "Item" not in tokens.get_item(Key={"pk": "probe"})
    with tokens.batch_writer() as batch:
        batch.put_item(Item={"pk": "batched"})
    assert tokens.get_item(Key={"pk": "batched"})["Item"] == {"pk": "batched"}

    # WHEN another thread asks THEN its table talks through that thread's own resource (boto3
    # resources are not thread-safe; a shared one would share expression builders)
    seen: dict[str, Any] = {}

    def other() -> None:
        table = clients.table(settings.tables.system)
        seen["client"] = table.meta.client
        seen["item"] = table.get_item(Key={"pk": "probe"})["Item"]

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen["client"] is not system.meta.client
    assert seen["item"]["ok"] is True


def test_the_endpoint_url_is_honoured(settings: Settings) -> None:
    # GIVEN settings pointing at a local endpoint (as local mode sets AWS_ENDPOINT_URL)
    local = AwsClients(dataclasses.replace(settings, endpoint_url="http://127.0.0.1:4599"))

    # WHEN clients and resources are built THEN they talk to that endpoint
    assert local.client("stepfunctions").meta.endpoint_url == "http://127.0.0.1:4599"
    assert local.resource("dynamodb").meta.client.meta.endpoint_url == "http://127.0.0.1:4599"


def test_without_an_endpoint_the_regional_one_is_used(settings: Settings) -> None:
    default = AwsClients(settings)
    assert default.client("sqs").meta.endpoint_url.endswith("amazonaws.com")
    assert default.client("sqs").meta.region_name == "us-east-1"


def test_queue_url_is_resolved_by_name_once(clients: AwsClients, settings: Settings) -> None:
    # GIVEN the crawl queue exists
    expected = boto3.client("sqs").get_queue_url(QueueName=settings.crawl_queue)["QueueUrl"]

    # WHEN its URL is resolved
    url = clients.queue_url(settings.crawl_queue)

    # THEN it is the queue's URL, and later lookups reuse it without asking SQS again
    assert url == expected
    boto3.client("sqs").delete_queue(QueueUrl=url)
    assert clients.queue_url(settings.crawl_queue) == url


def test_a_missing_queue_is_not_found(clients: AwsClients) -> None:
    with pytest.raises(NotFoundError, match="yuqing-local-nope"):
        clients.queue_url("yuqing-local-nope")


def test_topic_and_state_machine_arns_match_what_was_created(
    clients: AwsClients, settings: Settings, moto: dict[str, str]
) -> None:
    # GIVEN the topics and state machine moto created
    # WHEN their ARNs are resolved from the names in settings
    # THEN they are the created resources' ARNs (no call to SNS or Step Functions needed)
    assert clients.topic_arn(settings.hq_topic) == moto["HqTopic"]
    assert clients.topic_arn(settings.ops_topic) == moto["OpsTopic"]
    assert clients.state_machine_arn(settings.state_machine) == moto["ResponseStateMachine"]
    assert clients.account_id() == "123456789012"
    assert clients.lambda_arn("yuqing-local-workflow_step") == (
        "arn:aws:lambda:us-east-1:123456789012:function:yuqing-local-workflow_step"
    )


def test_set_clients_swaps_the_process_wide_instance(settings: Settings) -> None:
    # GIVEN a replacement instance (as local mode and tests install)
    replacement = AwsClients(settings)

    # WHEN it is set THEN everyone gets it
    aws.set_clients(replacement)
    assert aws.get_clients() is replacement

    # WHEN it is forgotten THEN a new instance is built from the settings, and then cached
    aws.set_clients(None)
    rebuilt = aws.get_clients()
    assert rebuilt is not replacement
    assert rebuilt.settings == settings
    assert aws.get_clients() is rebuilt
