"""``make package``: the merged CloudFormation/SAM template is generated and passes cfn-lint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.deploy.template import PROJECT_DIR


@pytest.mark.package
def test_package_dev_produces_a_linted_template(tmp_path: Path) -> None:
    # GIVEN the dev stage (offline allowed: the template does not need the wheels)
    out = tmp_path / "dev"

    # WHEN it is packaged
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
