"""``make package``: the merged CloudFormation/SAM template is generated and passes cfn-lint,
each function runs under a role of its own holding the policy docs/iam.md lists, and the API
stage is throttled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chalicelib.deploy.functions import function_specs
from chalicelib.deploy.iam import document_problems
from chalicelib.deploy.package import THROTTLED_BODY
from chalicelib.deploy.template import PROJECT_DIR
from tests.iam_audit import documented_permissions, policy_permissions


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """GIVEN the dev stage packaged once (offline allowed: the template needs no wheels)."""
    out = tmp_path_factory.mktemp("package") / "dev"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "chalicelib.deploy.package",
            "--stage",
            "dev",
            "--out",
            str(out),
            "--allow-offline",
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return result, out


@pytest.mark.package
def test_package_dev_produces_a_linted_template(packaged: tuple[Any, Path]) -> None:
    # WHEN the dev stage is packaged
    result, out = packaged

    # THEN it succeeds, cfn-lint found no errors, and the template holds the state machine
    # with its definition inline
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cfn-lint: no errors" in result.stdout
    sam = out / "sam.json"
    assert sam.exists()
    template = json.loads(sam.read_text(encoding="utf-8"))
    machine = template["Resources"]["ResponseStateMachine"]
    assert machine["Type"] == "AWS::StepFunctions::StateMachine"
    definition = machine["Properties"]["Definition"]
    assert isinstance(definition, dict)
    assert definition["StartAt"] == "Report"
    # AND every function is named as local mode names it, and the workflow role reaches only it
    names = {
        logical: resource["Properties"].get("FunctionName")
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert names == {
        "APIHandler": "yuqing-dev",
        "WorkflowStep": "yuqing-dev-workflow_step",
        "HealthProbe": "yuqing-dev-health_probe",
        "AlertDispatch": "yuqing-dev-alert_dispatch",
        "DrillTick": "yuqing-dev-drill_tick",
        "IncidentSweep": "yuqing-dev-incident_sweep",
        "BriefingTick": "yuqing-dev-briefing_tick",
        "CrawlDispatcher": "yuqing-dev-crawl_dispatcher",
        "CrawlWorker": "yuqing-dev-crawl_worker",
    }
    # AND the crawl worker consumes the dev stage's queue (the name Chalice read at import time)
    worker_events = template["Resources"]["CrawlWorker"]["Properties"]["Events"]
    queue_arn = json.dumps(next(iter(worker_events.values()))["Properties"]["Queue"])
    assert queue_arn.endswith(':yuqing-dev-crawl"}'), queue_arn
    role = template["Resources"]["ResponseStateMachineRole"]["Properties"]
    invoke = role["Policies"][0]["PolicyDocument"]["Statement"][0]
    assert invoke["Resource"] == [{"Fn::GetAtt": ["WorkflowStep", "Arn"]}]
    assert template["Parameters"]["Stage"]["Default"] == "dev"
    assert (out / "deployment.zip").exists()


def _template(packaged: tuple[Any, Path]) -> dict[str, Any]:
    result, out = packaged
    assert result.returncode == 0, result.stdout + result.stderr
    loaded: dict[str, Any] = json.loads((out / "sam.json").read_text(encoding="utf-8"))
    return loaded


def _role_policies(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Function logical id → the policy documents of the role it runs under."""
    resources = template["Resources"]
    found = {}
    for logical, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::Function":
            role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
            found[logical] = [
                p["PolicyDocument"] for p in resources[role]["Properties"]["Policies"]
            ]
    return found


@pytest.mark.package
def test_each_function_runs_with_the_policy_docs_iam_md_lists(packaged: tuple[Any, Path]) -> None:
    # GIVEN the packaged template and the table of docs/iam.md
    template = _template(packaged)
    documented = documented_permissions()
    from app import app

    logical = {spec.function: spec.logical_id for spec in function_specs(app, "dev")}
    policies = _role_policies(template)

    # THEN every function has one role of its own with one policy, pinned and scoped
    assert set(policies) == {logical[name] for name in documented}
    roles = [template["Resources"][f]["Properties"]["Role"]["Fn::GetAtt"][0] for f in policies]
    assert len(set(roles)) == len(roles)
    for name, documents in ((n, policies[logical[n]]) for n in documented):
        assert len(documents) == 1, name
        assert document_problems(documents[0]) == [], name
        # AND it grants exactly what docs/iam.md lists for the function: no more, no less
        assert policy_permissions(documents[0]) == documented[name], name


@pytest.mark.package
def test_the_api_stage_is_throttled_and_answers_429_in_our_error_shape(
    packaged: tuple[Any, Path],
) -> None:
    template = _template(packaged)
    api = template["Resources"]["RestAPI"]["Properties"]
    (settings,) = api["MethodSettings"]
    assert settings["ResourcePath"] == "/*"
    assert settings["HttpMethod"] == "*"
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRate"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurst"}
    parameters = template["Parameters"]
    assert 0 < parameters["ApiThrottleRate"]["Default"] <= parameters["ApiThrottleBurst"]["Default"]
    throttled = api["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]["THROTTLED"]
    assert throttled["statusCode"] == 429
    assert throttled["responseParameters"]["gatewayresponse.header.Retry-After"] == "'5'"
    body = json.loads(throttled["responseTemplates"]["application/json"])
    assert body == json.loads(THROTTLED_BODY)
    assert body["error"] == "throttled"
