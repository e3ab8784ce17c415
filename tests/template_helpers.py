"""Reading the rendered infra template the way CloudFormation would, for the few intrinsics we use.

Shared by the stage-config drift test and the moto fixture: both need the physical name a
resource gets for a stage (``{"Fn::Sub": "yuqing-${Stage}-plan"}`` → ``yuqing-local-plan``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from chalicelib.deploy.template import PROJECT_DIR

# Resource type → the property that holds its physical name.
NAME_PROPERTY: dict[str, str] = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
}

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def chalice_config() -> dict[str, Any]:
    with (PROJECT_DIR / ".chalice" / "config.json").open(encoding="utf-8") as handle:
        config: dict[str, Any] = json.load(handle)
    return config


def stage_environment(stage: str) -> dict[str, str]:
    """The environment Chalice gives a stage's functions: top-level variables, then the stage's."""
    config = chalice_config()
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def physical_name(value: Any, stage: str) -> str:
    """A name property's value with ``${Stage}`` substituted; any other intrinsic is an error."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        text: str = value["Fn::Sub"]
        unknown = [name for name in _PLACEHOLDER.findall(text) if name != "Stage"]
        if unknown:
            raise ValueError(f"cannot substitute {unknown} in {text!r}")
        return text.replace("${Stage}", stage)
    raise ValueError(f"unsupported name value {value!r}")


def named_resources(template: dict[str, Any], stage: str) -> dict[str, tuple[str, str]]:
    """Logical id → (resource type, physical name) for every resource whose name we set."""
    named: dict[str, tuple[str, str]] = {}
    for logical_id, resource in template["Resources"].items():
        prop = NAME_PROPERTY.get(resource["Type"])
        if prop is not None:
            named[logical_id] = (
                resource["Type"],
                physical_name(resource["Properties"][prop], stage),
            )
    return named
