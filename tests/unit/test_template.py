"""Rendering infra/resources.yaml: one definition of our resources for every stage."""

from __future__ import annotations

import json

import pytest

from chalicelib.deploy.template import DEFINITION_KEY, INFRA_DIR, STAGES, load_source, render


def asl() -> dict[str, object]:
    with (INFRA_DIR / "statemachine" / "response.asl.json").open(encoding="utf-8") as handle:
        loaded: dict[str, object] = json.load(handle)
    return loaded


@pytest.mark.parametrize("stage", STAGES)
def test_render_sets_the_stage_default(stage: str) -> None:
    # GIVEN a known stage WHEN the template is rendered THEN the Stage parameter defaults to it
    template = render(stage)
    assert template["Parameters"]["Stage"]["Default"] == stage
    assert stage in template["Parameters"]["Stage"]["AllowedValues"]


@pytest.mark.parametrize("stage", STAGES)
def test_render_inlines_the_state_machine_definition(stage: str) -> None:
    # GIVEN the state machine names its ASL file in Metadata
    source = load_source()["Resources"]["ResponseStateMachine"]
    assert "Definition" not in source["Properties"]
    assert source["Metadata"][DEFINITION_KEY] == "statemachine/response.asl.json"

    # WHEN rendered
    machine = render(stage)["Resources"]["ResponseStateMachine"]["Properties"]

    # THEN the ASL is inlined as an object (not a string, not a DefinitionUri) and the
    # substitutions stay for CloudFormation to resolve
    assert machine["Definition"] == asl()
    assert "DefinitionUri" not in machine
    assert "DefinitionString" not in machine
    assert set(machine["DefinitionSubstitutions"]) == {"WorkflowStepArn"}
    assert "${WorkflowStepArn}" in json.dumps(machine["Definition"])


def test_render_does_not_leak_between_stages() -> None:
    # GIVEN two renders WHEN one is changed THEN the other and the source are untouched
    local = render("local")
    local["Resources"].clear()
    assert render("dev")["Parameters"]["Stage"]["Default"] == "dev"
    assert render("dev")["Resources"]
    assert load_source()["Parameters"]["Stage"]["Default"] == "dev"


@pytest.mark.parametrize("stage", ["staging", "", "LOCAL"])
def test_an_unknown_stage_is_refused(stage: str) -> None:
    with pytest.raises(ValueError, match="unknown stage"):
        render(stage)


def test_only_long_form_intrinsics_are_used() -> None:
    # GIVEN the source file THEN a plain YAML loader read it (no !Sub / !GetAtt tags)
    text = (INFRA_DIR / "resources.yaml").read_text(encoding="utf-8")
    assert "!Sub" not in text
    assert "!GetAtt" not in text
    assert "!Ref" not in text


def test_the_alert_backlog_alarm_watches_the_metric_the_dispatcher_emits() -> None:
    # GIVEN the metric names and namespace the code emits
    from chalicelib.core.observability import OLDEST_PENDING_ALERT_AGE, SERVICE, metrics

    # WHEN the template is rendered THEN the alarm watches that metric, in that namespace and
    # dimension, beyond the 2-minute retry cap plus a tick, and a dispatcher that stops
    # emitting (not running, outbox unreadable) counts as breaching
    alarm = render("prod")["Resources"]["AlertBacklogAlarm"]["Properties"]
    assert alarm["MetricName"] == OLDEST_PENDING_ALERT_AGE
    assert alarm["Namespace"] == metrics.namespace
    assert alarm["Dimensions"] == [{"Name": "service", "Value": SERVICE}]
    assert 120 + 60 <= alarm["Threshold"] <= 300
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["AlarmActions"] == [{"Ref": "OpsTopic"}]
