"""Create the resources of ``infra/resources.yaml`` in moto, through the ordinary AWS APIs.

moto's own CloudFormation cannot be used: it does not run the SAM transform, and state machines
it creates do not execute. This module reads the same rendered template that production deploys
and makes the equivalent API calls for the resource types we use, resolving ``Ref``,
``Fn::GetAtt`` and ``Fn::Sub`` itself. Types that have no meaning locally (alarms) are skipped by
name; an unknown type fails loudly so a template change cannot silently go missing here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

SKIPPED_TYPES = frozenset({"AWS::CloudWatch::Alarm"})
_SUB = re.compile(r"\$\{([^}!]+)\}")


@dataclass
class Provisioned:
    """What a logical resource became: its ``Ref`` value and ``Fn::GetAtt`` attributes."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


class TemplateProvisioner:
    """Provision one rendered template. ``external`` maps logical ids defined elsewhere (the
    Chalice functions, e.g. ``WorkflowStep``) to their ``Provisioned`` values."""

    def __init__(
        self,
        template: Mapping[str, Any],
        client: Callable[[str], Any],
        account_id: str,
        region: str,
        external: Mapping[str, Provisioned] | None = None,
    ) -> None:
        self._resources: Mapping[str, Any] = template["Resources"]
        self._params = {
            name: str(spec.get("Default", ""))
            for name, spec in template.get("Parameters", {}).items()
        }
        self._client = client
        self._pseudo = {
            "AWS::AccountId": account_id,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::StackName": f"yuqing-{self._params.get('Stage', 'local')}",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.done: dict[str, Provisioned] = dict(external or {})
        self.skipped: list[str] = []

    # -- intrinsic functions ---------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.ensure(logical).attributes[attribute]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                separator, parts = arg
                return str(separator).join(str(p) for p in self.resolve(parts))
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        if name in self._params:
            return self._params[name]
        if name in self._pseudo:
            return self._pseudo[name]
        return self.ensure(name).ref

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return self.ensure(logical).attributes[attribute]
            return self._ref(name)

        return _SUB.sub(replace, text)

    # -- resources -------------------------------------------------------------------------
    def provision_all(self) -> dict[str, Provisioned]:
        for logical in self._resources:
            self.ensure(logical)
        return self.done

    def ensure(self, logical: str) -> Provisioned:
        if logical in self.done:
            return self.done[logical]
        if logical not in self._resources:
            raise KeyError(f"template refers to unknown resource {logical!r}")
        resource = self._resources[logical]
        kind = resource["Type"]
        if kind in SKIPPED_TYPES:
            self.skipped.append(logical)
            result = Provisioned(ref=logical)
        else:
            creator = _CREATORS.get(kind)
            if creator is None:
                raise NotImplementedError(f"local mode cannot provision {kind} ({logical})")
            properties = self.resolve(resource.get("Properties", {}))
            result = creator(self, logical, properties)
        self.done[logical] = result
        return result

    def _table(self, logical: str, props: dict[str, Any]) -> Provisioned:
        ddb = self._client("dynamodb")
        args: dict[str, Any] = {
            "TableName": props["TableName"],
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        description = ddb.create_table(**args)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            ddb.update_time_to_live(TableName=props["TableName"], TimeToLiveSpecification=ttl)
        attributes = {"Arn": description["TableArn"]}
        if description.get("LatestStreamArn"):
            attributes["StreamArn"] = description["LatestStreamArn"]
        return Provisioned(ref=props["TableName"], attributes=attributes)

    def _queue(self, logical: str, props: dict[str, Any]) -> Provisioned:
        sqs = self._client("sqs")
        skip = {"QueueName", "Tags"}
        attributes = {key: _attribute(value) for key, value in props.items() if key not in skip}
        url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return Provisioned(
            ref=url, attributes={"Arn": arn, "QueueName": props["QueueName"], "QueueUrl": url}
        )

    def _topic(self, logical: str, props: dict[str, Any]) -> Provisioned:
        attributes = {
            k: _attribute(v) for k, v in props.items() if k in {"DisplayName", "FifoTopic"}
        }
        arn = self._client("sns").create_topic(Name=props["TopicName"], Attributes=attributes)[
            "TopicArn"
        ]
        return Provisioned(ref=arn, attributes={"TopicArn": arn, "TopicName": props["TopicName"]})

    def _role(self, logical: str, props: dict[str, Any]) -> Provisioned:
        name = props.get("RoleName") or f"yuqing-local-{logical}"
        role = self._client("iam").create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"])
        )["Role"]
        return Provisioned(ref=name, attributes={"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def _state_machine(self, logical: str, props: dict[str, Any]) -> Provisioned:
        definition = json.dumps(props["Definition"], ensure_ascii=False)
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        arn = self._client("stepfunctions").create_state_machine(
            name=props["StateMachineName"],
            definition=definition,
            roleArn=props["RoleArn"],
            type=props.get("StateMachineType", "STANDARD"),
        )["stateMachineArn"]
        return Provisioned(ref=arn, attributes={"Arn": arn, "Name": props["StateMachineName"]})


def _attribute(value: Any) -> str:
    """A CloudFormation property as the string the SQS/SNS attribute APIs expect."""
    if isinstance(value, dict):
        return json.dumps(value)  # e.g. RedrivePolicy
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


_CREATORS: dict[str, Callable[[TemplateProvisioner, str, dict[str, Any]], Provisioned]] = {
    "AWS::DynamoDB::Table": TemplateProvisioner._table,
    "AWS::SQS::Queue": TemplateProvisioner._queue,
    "AWS::SNS::Topic": TemplateProvisioner._topic,
    "AWS::IAM::Role": TemplateProvisioner._role,
    "AWS::StepFunctions::StateMachine": TemplateProvisioner._state_machine,
}
