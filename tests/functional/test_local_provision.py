"""Local mode provisions moto from the same rendered template production deploys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.deploy.template import render
from chalicelib.local.provision import Provisioned, TemplateProvisioner

REGION = "us-east-1"
ACCOUNT = "123456789012"
STEP_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:yuqing-local-workflow_step"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        yield session.client


def _provision(client: Any) -> TemplateProvisioner:
    provisioner = TemplateProvisioner(
        render("local"),
        client,
        ACCOUNT,
        REGION,
        external={
            "WorkflowStep": Provisioned(
                ref="yuqing-local-workflow_step", attributes={"Arn": STEP_ARN}
            )
        },
    )
    provisioner.provision_all()
    return provisioner


def test_every_table_is_created_with_its_keys_and_indexes(aws: Any) -> None:
    _provision(aws)
    template = render("local")["Resources"]
    for resource in template.values():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        name = props["TableName"]["Fn::Sub"].replace("${Stage}", "local")
        table = aws("dynamodb").describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == props["KeySchema"]
        expected_indexes = {i["IndexName"] for i in props.get("GlobalSecondaryIndexes", [])}
        assert {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])} == expected_indexes
        if "TimeToLiveSpecification" in props:
            ttl = aws("dynamodb").describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            assert ttl["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"]


def test_queue_redrives_to_its_dead_letter_queue(aws: Any) -> None:
    _provision(aws)
    url = aws("sqs").get_queue_url(QueueName="yuqing-local-crawl")["QueueUrl"]
    attributes = aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert (
        redrive["deadLetterTargetArn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:yuqing-local-crawl-dlq"
    )
    assert int(redrive["maxReceiveCount"]) == 5
    assert attributes["VisibilityTimeout"] == "360"


def test_topics_and_state_machine_with_substituted_function(aws: Any) -> None:
    provisioner = _provision(aws)
    topics = {t["TopicArn"].rsplit(":", 1)[-1] for t in aws("sns").list_topics()["Topics"]}
    assert {"yuqing-local-hq", "yuqing-local-ops"} <= topics
    machine_arn = provisioner.done["ResponseStateMachine"].ref
    definition = aws("stepfunctions").describe_state_machine(stateMachineArn=machine_arn)[
        "definition"
    ]
    assert "${" not in definition
    assert STEP_ARN in definition
    assert sorted(provisioner.skipped) == [
        "AlertBacklogAlarm",
        "ComponentsDownAlarm",
        "CrawlDeadLettersAlarm",
        "WorkflowFailuresAlarm",
    ]


def test_unknown_resource_type_fails_loudly(aws: Any) -> None:
    template = {"Resources": {"Thing": {"Type": "AWS::S3::Bucket", "Properties": {}}}}
    with pytest.raises(NotImplementedError, match="AWS::S3::Bucket"):
        TemplateProvisioner(template, aws, ACCOUNT, REGION).provision_all()


def test_intrinsics_resolve_parameters_pseudo_parameters_and_attributes(aws: Any) -> None:
    template = {
        "Parameters": {"Stage": {"Type": "String", "Default": "local"}},
        "Resources": {
            "Q": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": {"Fn::Sub": "q-${Stage}"}},
            },
        },
    }
    provisioner = TemplateProvisioner(template, aws, ACCOUNT, REGION)
    provisioner.provision_all()
    assert (
        provisioner.resolve({"Fn::Sub": "${AWS::AccountId}/${Q.QueueName}"}) == f"{ACCOUNT}/q-local"
    )
    assert provisioner.resolve({"Fn::GetAtt": ["Q", "Arn"]}).endswith(":q-local")
    assert provisioner.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-local"
    assert (
        provisioner.resolve({"Fn::Sub": ["${X}!", {"X": {"Ref": "AWS::Region"}}]}) == f"{REGION}!"
    )
