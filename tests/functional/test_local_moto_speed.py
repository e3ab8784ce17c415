"""Local mode's speed-ups of moto answer exactly as moto does (:mod:`chalicelib.local.moto_speed`).

Each patch replaces a private moto path, so each is compared here with moto's own answer on the
same data: Query on tables and indexes (ranges, filters, projections, pagination, both
directions), the state machine parsed once, the shared Lambda client, the service lookup. A moto
upgrade that changes one of these paths fails here (and local mode refuses to start on another
moto version until the patches are checked again).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.parse.asl_parser import (
    AmazonStateLanguageParser,
    ASLParserException,
)

from chalicelib.deploy.template import PROJECT_DIR
from chalicelib.local import moto_speed

REGION = "us-east-1"


@pytest.fixture
def speed() -> Iterator[None]:
    """GIVEN nothing patched before; whatever a test installs is removed after it."""
    moto_speed.uninstall()
    yield
    moto_speed.uninstall()


# -- the guard ---------------------------------------------------------------------------------
def test_the_installed_moto_is_the_one_the_patches_were_made_for() -> None:
    # requirements-dev.txt pins moto; the patches name the same version
    moto_speed.check_version()
    pin = (PROJECT_DIR / "requirements-dev.txt").read_text(encoding="utf-8")
    assert f"moto[server]=={moto_speed.MOTO_VERSION}" in pin


def test_another_moto_version_stops_local_mode_before_anything_is_patched(speed: None) -> None:
    with pytest.raises(moto_speed.MotoVersionError, match=r"5\.3\.0"):
        moto_speed.check_version("5.3.0")
    original = Table.query
    moto_speed.install()
    assert moto_speed.installed()
    assert Table.query is not original
    moto_speed.uninstall()
    assert not moto_speed.installed()
    assert Table.query is original


# -- DynamoDB Query ------------------------------------------------------------------------------
def _world(ddb: Any) -> None:
    """A table with a range key, a GSI with and without a range key and an LSI; a hash-only
    table; items spread over partitions, some without the index attributes."""
    ddb.create_table(
        TableName="events",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": t}
            for n, t in (("pk", "S"), ("sk", "S"), ("group", "S"), ("at", "N"), ("kind", "S"))
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_group",
                "KeySchema": [
                    {"AttributeName": "group", "KeyType": "HASH"},
                    {"AttributeName": "at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by_kind",
                "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by_at",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.create_table(
        TableName="plain",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for p in range(6):
        for s in range(9):
            item: dict[str, Any] = {
                "pk": {"S": f"p{p}"},
                "sk": {"S": f"{'TL' if s % 2 else 'TASK'}#{s:02d}"},
                "at": {"N": str((s * 7 + p) % 11)},
                "note": {"S": f"n{s}"},
                "extra": {"M": {"n": {"N": str(s)}, "l": {"L": [{"S": "x"}, {"B": b"\x00\x01"}]}}},
            }
            if (p + s) % 3:
                item["group"] = {"S": f"g{(p + s) % 2}"}
            if s % 4 == 0:
                item["kind"] = {"S": "flag"}
            ddb.put_item(TableName="events", Item=item)
        ddb.put_item(TableName="plain", Item={"pk": {"S": f"p{p}"}, "n": {"N": str(p)}})


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p3"}}},
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "nobody"}}},
    {
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
        "ExpressionAttributeValues": {":p": {"S": "p2"}, ":s": {"S": "TL#"}},
        "ScanIndexForward": False,
    },
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {
            ":p": {"S": "p1"},
            ":a": {"S": "TASK#02"},
            ":b": {"S": "TL#07"},
        },
    },
    {
        "KeyConditionExpression": "pk = :p AND sk > :a",
        "FilterExpression": "#n <> :n AND attribute_exists(#g)",
        "ExpressionAttributeNames": {"#n": "note", "#g": "group"},
        "ExpressionAttributeValues": {":p": {"S": "p4"}, ":a": {"S": "TASK#00"}, ":n": {"S": "n5"}},
        "ProjectionExpression": "pk, sk, extra.l[1], #n",
    },
    {
        "IndexName": "by_group",
        "KeyConditionExpression": "#g = :g",
        "ExpressionAttributeNames": {"#g": "group"},
        "ExpressionAttributeValues": {":g": {"S": "g1"}},
    },
    {
        "IndexName": "by_group",
        "KeyConditionExpression": "#g = :g AND #a >= :a",
        "ExpressionAttributeNames": {"#g": "group", "#a": "at"},
        "ExpressionAttributeValues": {":g": {"S": "g0"}, ":a": {"N": "4"}},
        "ScanIndexForward": False,
        "FilterExpression": "begins_with(sk, :t)",
        "ExpressionAttributeValues_extra": {":t": {"S": "TL"}},
    },
    {
        "IndexName": "by_kind",
        "KeyConditionExpression": "kind = :k",
        "ExpressionAttributeValues": {":k": {"S": "flag"}},
    },
    {
        "IndexName": "by_at",
        "KeyConditionExpression": "pk = :p AND #a < :a",
        "ExpressionAttributeNames": {"#a": "at"},
        "ExpressionAttributeValues": {":p": {"S": "p5"}, ":a": {"N": "8"}},
    },
    {
        "IndexName": "by_group",
        "KeyConditionExpression": "#g = :g",
        "ExpressionAttributeNames": {"#g": "group"},
        "ExpressionAttributeValues": {":g": {"S": "g1"}},
        "Select": "COUNT",
    },
]


def _query_pages(ddb: Any, table: str, query: dict[str, Any], limit: int | None) -> list[Any]:
    """Every page of a query (all the response but the request metadata)."""
    request = {k: v for k, v in query.items() if not k.endswith("_extra")}
    extra = next((v for k, v in query.items() if k.endswith("_extra")), None)
    if extra:
        request["ExpressionAttributeValues"] = {**request["ExpressionAttributeValues"], **extra}
    pages: list[Any] = []
    start: dict[str, Any] | None = None
    while True:
        page = ddb.query(
            TableName=table,
            **request,
            **({"Limit": limit} if limit else {}),
            **({"ExclusiveStartKey": start} if start else {}),
        )
        page.pop("ResponseMetadata")
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start or len(pages) > 60:
            return pages


def _answers(ddb: Any) -> list[Any]:
    answers = [
        _query_pages(ddb, "events", query, limit) for query in QUERIES for limit in (None, 1, 4)
    ]
    answers.append(
        _query_pages(
            ddb,
            "plain",
            {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p2"}}},
            None,
        )
    )
    return answers


def test_query_answers_as_moto_does_on_tables_and_indexes(speed: None) -> None:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        _world(ddb)
        # GIVEN moto's own answers to every query, page by page
        expected = _answers(ddb)
        assert any(page.get("Items") for pages in expected for page in pages)
        assert any(len(pages) > 2 for pages in expected)  # pagination really happened
        # WHEN the partitioned Query is installed THEN every page is the same
        moto_speed.install()
        assert _answers(ddb) == expected
        # AND after writes (a new partition, a moved index key, a deleted item) too
        ddb.put_item(TableName="events", Item={"pk": {"S": "p9"}, "sk": {"S": "TL#00"}})
        ddb.update_item(
            TableName="events",
            Key={"pk": {"S": "p3"}, "sk": {"S": "TL#01"}},
            UpdateExpression="SET #g = :g",
            ExpressionAttributeNames={"#g": "group"},
            ExpressionAttributeValues={":g": {"S": "g0"}},
        )
        ddb.delete_item(TableName="events", Key={"pk": {"S": "p2"}, "sk": {"S": "TASK#04"}})
        after = _answers(ddb)
        moto_speed.uninstall()
        assert _answers(ddb) == after


def test_a_query_reads_only_its_partition(speed: None) -> None:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        _world(ddb)
        moto_speed.install()
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodb.models.dynamo_type import DynamoType

        table = dynamodb_backends["123456789012"][REGION].get_table("events")
        found = moto_speed.query_candidates(table, DynamoType({"S": "p1"}), None, None)
        assert found is not None
        assert {i.hash_key.value for i in found} == {"p1"}
        assert [i.range_key for i in found] == sorted(i.range_key for i in found)
        by_index = moto_speed.query_candidates(
            table, None, "by_group", [("group", DynamoType({"S": "g0"}))]
        )
        assert by_index is not None
        assert all(i.attrs["group"].value == "g0" for i in by_index)
        assert moto_speed.query_candidates(table, None, "by_group", []) is None


# -- Step Functions ------------------------------------------------------------------------------
def _definition() -> str:
    text = (PROJECT_DIR / "infra" / "statemachine" / "response.asl.json").read_text("utf-8")
    return text.replace("${WorkflowStepArn}", f"arn:aws:lambda:{REGION}:123456789012:function:f")


def _shape(component: Any) -> str:
    # A component prints all its fields; only object addresses differ between two parses.
    return re.sub(r" at 0x[0-9a-f]+", "", str(component))


def test_a_definition_parsed_once_gives_each_execution_the_components_moto_would(
    speed: None,
) -> None:
    definition = _definition()
    # GIVEN moto's own parse
    expected = _shape(AmazonStateLanguageParser.parse(definition)[0])
    # WHEN two executions take their program from the kept parse tree
    first, second = moto_speed.parse_program(definition), moto_speed.parse_program(definition)
    # THEN each is what moto would have built, and each execution has its own components
    assert _shape(first) == expected == _shape(second)
    assert first is not second


def test_a_definition_with_a_syntax_error_fails_every_time(speed: None) -> None:
    broken = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}'
    for _ in range(2):
        with pytest.raises(ASLParserException):
            moto_speed.parse_program(broken)
    with pytest.raises(ASLParserException):
        AmazonStateLanguageParser.parse(broken)


def test_lambda_tasks_share_one_client_per_region(speed: None) -> None:
    moto_speed.install()
    client_for: Any = getattr(lambda_eval_utils, "boto_client_for")  # noqa: B009 - not exported
    one = client_for(region=REGION, service="lambda", state_credentials={})
    again = client_for(region=REGION, service="lambda")
    other = client_for(region="eu-west-1", service="lambda")
    assert one is again
    assert other is not one
    assert other.meta.region_name == "eu-west-1"
    own = client_for.__wrapped__(region=REGION, service="lambda")  # moto's, as it builds them
    assert one.meta.endpoint_url == own.meta.endpoint_url
    assert one.meta.config.retries == own.meta.config.retries


# -- the server's service lookup ----------------------------------------------------------------
HOSTS = [
    "dynamodb",
    "lambda.us-east-1.amazonaws.com",
    "states.us-east-1.amazonaws.com",
    "sqs.us-east-1.amazonaws.com",
    "sns.eu-west-1.amazonaws.com",
    "moto_api",
    "nothing.example",
    None,
]


def test_the_service_of_a_host_is_what_moto_finds(speed: None) -> None:
    dispatcher = DomainDispatcherApplication(create_backend_app)
    expected = [dispatcher.get_backend_for_host(host) for host in HOSTS]
    assert expected[0] == "dynamodb"
    assert expected[1] == "awslambda"
    moto_speed.install()
    assert [dispatcher.get_backend_for_host(host) for host in HOSTS] == expected
    assert [dispatcher.get_backend_for_host(host) for host in HOSTS] == expected  # remembered
