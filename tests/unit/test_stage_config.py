"""Drift test: the names .chalice/config.json gives the code are the names infra/ creates.

For every stage, each resource variable (``*_TABLE``, ``*_QUEUE``, ``*_DLQ``, ``*_TOPIC``,
``RESPONSE_STATE_MACHINE``) must name a resource of the right type in the rendered template,
and every table, queue, topic and state machine in the template must be named by a variable.
"""

from __future__ import annotations

import pytest

from chalicelib.core.settings import TABLE_ENV, Settings
from chalicelib.deploy.template import STAGES, render
from tests.template_helpers import chalice_config, named_resources, stage_environment

CONFIG_STAGES = sorted(chalice_config()["stages"])


def expected_type(variable: str) -> str | None:
    """The resource type a variable names, or None if it names no resource."""
    if variable.endswith("_TABLE"):
        return "AWS::DynamoDB::Table"
    if variable.endswith(("_QUEUE", "_DLQ")):
        return "AWS::SQS::Queue"
    if variable.endswith("_TOPIC"):
        return "AWS::SNS::Topic"
    if variable == "RESPONSE_STATE_MACHINE":
        return "AWS::StepFunctions::StateMachine"
    return None


def resource_variables(stage: str) -> dict[str, tuple[str, str]]:
    """Variable → (resource type, name) for the stage's resource variables."""
    found: dict[str, tuple[str, str]] = {}
    for variable, value in stage_environment(stage).items():
        kind = expected_type(variable)
        if kind is not None:
            found[variable] = (kind, value)
    return found


def test_config_stages_are_the_template_stages() -> None:
    assert set(CONFIG_STAGES) == set(STAGES)


@pytest.mark.parametrize("stage", CONFIG_STAGES)
def test_every_variable_names_a_resource_of_the_template(stage: str) -> None:
    # GIVEN the stage's variables and the template rendered for the stage
    in_template = set(named_resources(render(stage), stage).values())

    # THEN each variable's value is the physical name of a resource of the matching type
    missing = {
        variable: value
        for variable, value in resource_variables(stage).items()
        if value not in in_template
    }
    assert missing == {}


@pytest.mark.parametrize("stage", CONFIG_STAGES)
def test_every_template_resource_is_named_by_a_variable(stage: str) -> None:
    # GIVEN every table, queue, topic and state machine the template creates for the stage
    named_by_config = set(resource_variables(stage).values())

    # THEN the code is told its name (otherwise nothing could use or health-check it)
    unnamed = {
        logical_id: name
        for logical_id, name in named_resources(render(stage), stage).items()
        if name not in named_by_config
    }
    assert unnamed == {}


@pytest.mark.parametrize("stage", CONFIG_STAGES)
def test_the_stage_environment_is_complete_for_settings(stage: str) -> None:
    # GIVEN the stage's environment WHEN settings are parsed THEN nothing is missing
    settings = Settings.from_env(stage_environment(stage))
    assert settings.stage == stage
    assert set(TABLE_ENV.values()) <= set(resource_variables(stage))


@pytest.mark.parametrize("stage", CONFIG_STAGES)
def test_names_follow_the_stage(stage: str) -> None:
    for variable, (_, name) in resource_variables(stage).items():
        assert name.startswith(f"yuqing-{stage}-"), variable
