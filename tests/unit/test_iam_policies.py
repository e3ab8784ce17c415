"""Each function's IAM policy: its own, least privilege, pinned, and as docs/iam.md lists it.

The review that found one policy for all nine functions asked for three things these tests hold:
one policy per function that chalice really uses, no ARN open to any region or account, and a
table in docs/iam.md that matches the files action for action and resource for resource.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest
from chalice.config import Config

from chalicelib.deploy.functions import function_specs
from chalicelib.deploy.iam import (
    RESOURCELESS_ACTIONS,
    as_list,
    document_problems,
    policy_documents,
    policy_files,
    resolved_policies,
    template_problems,
)
from chalicelib.deploy.template import PROJECT_DIR
from tests.iam_audit import (
    allows,
    documented_permissions,
    documented_rows,
    policy_permissions,
)
from tests.template_helpers import chalice_config

ACCOUNT, REGION = "123456789012", "ap-east-1"


def app_functions() -> set[str]:
    from app import app

    return {spec.function for spec in function_specs(app, "dev")}


FUNCTIONS = sorted(app_functions())


def policy(function: str, stage: str = "dev") -> dict[str, Any]:
    return resolved_policies(stage=stage, account=ACCOUNT, region=REGION)[function]


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def test_every_function_has_a_policy_file_and_a_table() -> None:
    assert set(policy_files()) == set(FUNCTIONS)
    assert set(documented_permissions()) == set(FUNCTIONS)
    assert all(path.exists() for path in policy_files().values())


@pytest.mark.parametrize("stage", ["dev", "prod"])
@pytest.mark.parametrize("function", FUNCTIONS)
def test_chalice_gives_each_function_its_own_file(stage: str, function: str) -> None:
    # GIVEN config.json as chalice reads it for the stage and the function
    config = Config(chalice_stage=stage, config_from_disk=chalice_config()).scope(stage, function)
    # THEN no stage-wide setting overrides the function's own file, and nothing is generated
    assert config.iam_policy_file == f"policies/{function}.json"
    assert config.autogen_policy is False
    assert config.manage_iam_role is True


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_docs_table_lists_exactly_what_the_policy_grants(function: str) -> None:
    documented = documented_permissions()[function]
    granted = policy_permissions(policy_documents()[function])
    assert documented - granted == set(), "in docs/iam.md, not in the policy"
    assert granted - documented == set(), "in the policy, not in docs/iam.md"


def test_every_row_names_the_code_that_needs_it() -> None:
    common, functions = documented_rows()
    rows = common + [row for each in functions.values() for row in each]
    assert rows
    for row in rows:
        assert row.actions, row
        assert row.resources, row
        assert row.why, row
        paths = re.findall(r"`((?:chalicelib|\.chalice|infra)/[^`]+)`", row.why)
        assert paths, f"no code named for {row.actions}"
        for path in paths:
            assert (PROJECT_DIR / path).exists(), path


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_policy_is_pinned_and_scoped(function: str) -> None:
    assert document_problems(policy_documents()[function]) == []


def test_each_file_is_the_policy_chalice_embeds() -> None:
    # Valid JSON with a version, and Sids that say what each statement is for.
    for function, path in policy_files().items():
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["Version"] == "2012-10-17"
        sids = [s["Sid"] for s in document["Statement"]]
        assert len(sids) == len(set(sids)), function
        assert all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in sids), function


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        # the stage-wide policy of before: any region, any account
        (
            {"Action": "dynamodb:GetItem", "Resource": "arn:*:dynamodb:*:*:table/yuqing-dev-*"},
            "Fn::Sub",
        ),
        (
            {
                "Action": "dynamodb:GetItem",
                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:*:*:table/x"},
            },
            "not pinned",
        ),
        (
            {
                "Action": "sns:Publish",
                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:*:x"},
            },
            "not pinned",
        ),
        ({"Action": "sns:Publish", "Resource": "*"}, "Resource * for sns:Publish"),
        ({"Action": "dynamodb:*", "Resource": "*"}, "wildcard action"),
        ({"Action": "states:SendTaskSuccess", "Resource": "*", "Effect": "Deny"}, "only Allow"),
    ],
)
def test_the_checks_refuse_an_open_policy(document: dict[str, Any], problem: str) -> None:
    statement = {"Sid": "S", "Effect": "Allow", **document}
    problems = document_problems({"Version": "2012-10-17", "Statement": [statement]})
    assert any(problem in p for p in problems), problems


def _iam_reference() -> dict[str, Any]:
    """cfn-lint's copy of the Service Authorization Reference: actions and resource types."""
    text = resources.files("cfnlint.data.AdditionalSpecs").joinpath("Policies.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def test_every_action_exists_and_only_resourceless_ones_get_a_star() -> None:
    reference = _iam_reference()
    for function, document in policy_documents().items():
        for statement in document["Statement"]:
            for action in as_list(statement["Action"]):
                service, name = action.split(":")
                assert name.lower() in reference[service]["Actions"], (function, action)
    for action in RESOURCELESS_ACTIONS:
        service, name = action.split(":")
        assert not reference[service]["Actions"][name.lower()].get("Resources"), action


# What the review found each function could do, and must not.
@pytest.mark.parametrize(
    ("function", "action", "resource"),
    [
        ("crawl_worker", "dynamodb:PutItem", arn("dynamodb", "table/yuqing-dev-tokens")),
        ("crawl_worker", "dynamodb:GetItem", arn("dynamodb", "table/yuqing-dev-tokens")),
        ("api_handler", "dynamodb:PutItem", arn("dynamodb", "table/yuqing-dev-tokens")),
        ("crawl_worker", "sns:Subscribe", arn("sns", "yuqing-dev-hq")),
        ("crawl_worker", "sns:CreateTopic", arn("sns", "yuqing-dev-group-x")),
        ("crawl_worker", "states:SendTaskSuccess", "*"),
        ("api_handler", "sns:CreateTopic", arn("sns", "yuqing-dev-hq")),
        ("api_handler", "sqs:ReceiveMessage", arn("sqs", "yuqing-dev-crawl")),
        (
            "workflow_step",
            "states:StartExecution",
            arn("states", "stateMachine:yuqing-dev-response"),
        ),
        ("health_probe", "dynamodb:GetItem", arn("dynamodb", "table/yuqing-dev-tokens")),
        # another stage's resources
        ("api_handler", "dynamodb:GetItem", arn("dynamodb", "table/yuqing-prod-tokens")),
        ("crawl_worker", "sqs:ReceiveMessage", arn("sqs", "yuqing-prod-crawl")),
        # the same names in another region or account
        (
            "api_handler",
            "dynamodb:GetItem",
            arn("dynamodb", "table/yuqing-dev-tokens").replace(REGION, "us-east-1"),
        ),
        (
            "api_handler",
            "dynamodb:GetItem",
            arn("dynamodb", "table/yuqing-dev-tokens").replace(ACCOUNT, "210987654321"),
        ),
    ],
)
def test_a_function_cannot_do_what_it_does_not_need(
    function: str, action: str, resource: str
) -> None:
    assert not allows(policy(function), action, resource)


def test_no_function_may_stop_or_read_the_history_of_an_execution() -> None:
    execution = arn("states", "execution:yuqing-dev-response:incident-c-1")
    for function in FUNCTIONS:
        for action in ("states:StopExecution", "states:GetExecutionHistory"):
            assert not allows(policy(function), action, execution), (function, action)


@pytest.mark.parametrize(
    ("function", "action", "resource"),
    [
        ("api_handler", "dynamodb:GetItem", arn("dynamodb", "table/yuqing-dev-tokens")),
        ("crawl_worker", "sqs:ReceiveMessage", arn("sqs", "yuqing-dev-crawl")),
        ("crawl_worker", "sns:Publish", arn("sns", "yuqing-dev-group-tech")),
        ("workflow_step", "states:SendTaskFailure", "*"),
        ("alert_dispatch", "sns:CreateTopic", arn("sns", "yuqing-dev-group-tech")),
    ],
)
def test_the_evaluator_sees_what_is_granted(function: str, action: str, resource: str) -> None:
    # The negative cases above mean something only if the same evaluator sees grants.
    assert allows(policy(function), action, resource)


def _template(shared_role: bool = False, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A template shaped as chalice package writes it: each function and its role."""
    documents = policy_documents()
    template: dict[str, Any] = {"Resources": {}}
    for function in FUNCTIONS:
        role = "DefaultRole" if shared_role else f"{function}Role"
        template["Resources"][function] = {"Properties": {"Role": {"Fn::GetAtt": [role, "Arn"]}}}
        document = json.loads(json.dumps(documents[function]))
        if extra and function == "crawl_worker":
            document["Statement"].append(extra)
        template["Resources"][role] = {"Properties": {"Policies": [{"PolicyDocument": document}]}}
    return template


def test_make_package_accepts_roles_that_hold_their_files() -> None:
    assert template_problems(_template(), [(f, f) for f in FUNCTIONS]) == []


def test_make_package_refuses_a_shared_role_or_a_policy_that_is_not_the_file() -> None:
    functions = [(f, f) for f in FUNCTIONS]
    shared = template_problems(_template(shared_role=True), functions)
    assert any("shares role" in p for p in shared)
    extra = {"Sid": "All", "Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}
    widened = template_problems(_template(extra=extra), functions)
    assert widened == ["crawl_worker: role crawl_workerRole does not hold exactly its policy file"]
    missing = template_problems(_template(), [*functions, ("new_function", "new_function")])
    assert missing == ["new_function: no policy file in .chalice/config.json"]
