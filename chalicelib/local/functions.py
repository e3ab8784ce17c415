"""Register every function of the Chalice app in moto's Lambda, named as Chalice deploys it.

``yuqing-<stage>`` is the API handler; every ``@lambda_function``, ``@schedule``,
``@on_sqs_message``, ``@on_sns_message`` and ``@on_dynamodb_record`` becomes
``yuqing-<stage>-<name>``. The functions are real moto Lambda functions (so ``aws lambda
invoke``, Step Functions and SNS reach them); :mod:`.lambda_hook` runs their code in-process.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice import Chalice
from chalice.app import (
    DynamoDBEventConfig,
    ScheduledEventConfig,
    SNSEventConfig,
    SQSEventConfig,
)

from chalicelib.deploy.functions import FunctionSpec, function_specs
from chalicelib.local.lambda_hook import HandlerRegistry
from chalicelib.local.provision import Provisioned


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "README.txt", "local mode runs this function in-process; see lambda_hook.py\n"
        )
    return buffer.getvalue()


_PLACEHOLDER_ZIP = _placeholder_zip()
_STREAM_TABLE = re.compile(r":table/([^/]+)/stream/")


@dataclass
class RegisteredFunctions:
    specs: list[FunctionSpec]
    provisioned: dict[str, Provisioned]  # logical id → ARN, for template substitutions
    unsupported: list[str]

    def schedules(self) -> list[tuple[FunctionSpec, ScheduledEventConfig]]:
        return [(s, s.source) for s in self.specs if isinstance(s.source, ScheduledEventConfig)]

    def queue_consumers(self) -> list[tuple[FunctionSpec, SQSEventConfig]]:
        return [(s, s.source) for s in self.specs if isinstance(s.source, SQSEventConfig)]


def register_functions(
    app: Chalice,
    stage: str,
    client: Callable[[str], Any],
    registry: HandlerRegistry,
    environment: dict[str, str],
    memory_mb: int = 512,
    timeout_s: int = 60,
) -> RegisteredFunctions:
    """Create each function in moto and route it to its handler.

    Event sources are wired by :func:`wire_event_sources` once the template's resources exist;
    SQS consumers and schedules are run by :mod:`.sqs_poller` and :mod:`.scheduler`.
    """
    role_arn = client("iam").create_role(
        RoleName=f"{app.app_name}-{stage}-local-lambda",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}',
    )["Role"]["Arn"]
    lam = client("lambda")
    specs = function_specs(app, stage)
    provisioned: dict[str, Provisioned] = {}
    unsupported: list[str] = []
    for spec in specs:
        arn = lam.create_function(
            FunctionName=spec.name,
            Runtime="python3.11",
            Role=role_arn,
            Handler=spec.handler_string,
            Code={"ZipFile": _PLACEHOLDER_ZIP},
            Timeout=timeout_s,
            MemorySize=memory_mb,
            Environment={"Variables": environment},
        )["FunctionArn"]
        registry.register(spec.name, spec.handler)
        provisioned[spec.logical_id] = Provisioned(ref=spec.name, attributes={"Arn": arn})
    return RegisteredFunctions(specs, provisioned, unsupported)


def wire_event_sources(registered: RegisteredFunctions, client: Callable[[str], Any]) -> None:
    """Subscribe SNS-triggered functions and map DynamoDB streams, once the tables exist."""
    lam = client("lambda")
    for spec in registered.specs:
        arn = registered.provisioned[spec.logical_id].attributes["Arn"]
        source = spec.source
        if isinstance(source, SNSEventConfig):
            # As in AWS, the topic must exist already (infra/ or created by the plan's code):
            # a misspelt topic fails here rather than working only locally.
            topics = {t["TopicArn"] for t in client("sns").list_topics()["Topics"]}
            wanted = [t for t in topics if source.topic in (t, t.rsplit(":", 1)[-1])]
            if not wanted:
                registered.unsupported.append(f"{spec.name}: topic {source.topic} does not exist")
                continue
            client("sns").subscribe(TopicArn=wanted[0], Protocol="lambda", Endpoint=arn)
        elif isinstance(source, DynamoDBEventConfig):
            match = _STREAM_TABLE.search(source.stream_arn)
            if not match:
                registered.unsupported.append(f"{spec.name}: stream ARN without a table name")
                continue
            table = client("dynamodb").describe_table(TableName=match.group(1))["Table"]
            lam.create_event_source_mapping(
                EventSourceArn=table["LatestStreamArn"],
                FunctionName=spec.name,
                StartingPosition=source.starting_position,
                BatchSize=source.batch_size,
            )
        elif source is not None and not isinstance(source, ScheduledEventConfig | SQSEventConfig):
            registered.unsupported.append(
                f"{spec.name}: {type(source).__name__} has no local event source"
            )
