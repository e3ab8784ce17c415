"""Each function's own IAM policy (least privilege, 最小权限): where it is and what it allows.

``.chalice/config.json`` names one policy file per function
(``lambda_functions.<function>.iam_policy_file``, ``.chalice/policies/<function>.json``), and
``chalice package`` gives every function a role of its own with that file as its only policy.
The files are CloudFormation, not plain JSON policies: every ARN is an ``Fn::Sub`` on
``${AWS::Partition}``, ``${AWS::Region}``, ``${AWS::AccountId}`` and the ``Stage`` parameter, so
one file serves every stage and a role can reach only its own stack's region, account and
resources. (For that reason the files serve ``chalice package`` only, never ``chalice deploy``.)

``make package`` checks the packaged template with :func:`template_problems`; docs/iam.md lists
every function's actions and resources with the code that needs them, and the tests hold the
table, the files and the template to each other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from chalicelib.deploy.template import PROJECT_DIR

CHALICE_DIR = PROJECT_DIR / ".chalice"
CONFIG = CHALICE_DIR / "config.json"
# Actions IAM cannot scope to a resource (the Service Authorization Reference lists no resource
# type for them): only these may have ``"Resource": "*"``. Task tokens name no state machine;
# X-Ray segments go to the account's X-Ray.
RESOURCELESS_ACTIONS = frozenset(
    {
        "states:SendTaskSuccess",
        "states:SendTaskFailure",
        "states:SendTaskHeartbeat",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
)
_SUB = re.compile(r"\$\{([^}]+)\}")
# Stand-ins when checking that an ARN names the stack's own region and account.
_REGION, _ACCOUNT = "<region>", "<account>"


def _config(path: Path = CONFIG) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def policy_files(config: Mapping[str, Any] | None = None) -> dict[str, Path]:
    """Function name (``api_handler`` for the API) → its policy file, from config.json."""
    config = config if config is not None else _config()
    return {
        name: CHALICE_DIR / str(settings["iam_policy_file"])
        for name, settings in config.get("lambda_functions", {}).items()
        if settings.get("iam_policy_file")
    }


def policy_documents(config: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Function name → its policy document as written (with its intrinsic functions)."""
    documents = {}
    for name, path in policy_files(config).items():
        with path.open(encoding="utf-8") as handle:
            documents[name] = json.load(handle)
    return documents


def resolve(value: Any, names: Mapping[str, str]) -> Any:
    """``value`` with ``Fn::Sub`` and ``Ref`` resolved from ``names`` (pseudo parameters and
    parameters), as CloudFormation would; any other intrinsic is an error, so that a policy
    cannot depend on something these checks do not understand."""
    if isinstance(value, list):
        return [resolve(v, names) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            return _SUB.sub(lambda m: names[m.group(1)], value["Fn::Sub"])
        if set(value) == {"Ref"}:
            return names[value["Ref"]]
        if any(key.startswith("Fn::") for key in value):
            raise ValueError(f"unsupported intrinsic in a policy: {value}")
        return {k: resolve(v, names) for k, v in value.items()}
    return value


def _names(stage: str, account: str, region: str, partition: str) -> dict[str, str]:
    return {
        "AWS::Partition": partition,
        "AWS::Region": region,
        "AWS::AccountId": account,
        "Stage": stage,
    }


def resolved_policies(
    *, stage: str, account: str, region: str, partition: str = "aws"
) -> dict[str, dict[str, Any]]:
    """Function name → its policy as deployed to ``stage`` in ``account`` and ``region``."""
    names = _names(stage, account, region, partition)
    return {name: resolve(doc, names) for name, doc in policy_documents().items()}


def as_list(value: Any) -> list[Any]:
    return [value] if isinstance(value, str | dict) else list(value)


def document_problems(document: Mapping[str, Any]) -> list[str]:
    """What makes a policy document more than least privilege: an ARN with a wildcard (or
    anything but the stack's own) region or account, ``*`` for an action IAM can scope, a
    wildcard action, or a statement that is not a plain Allow."""
    problems = []
    names = _names("<stage>", _ACCOUNT, _REGION, "aws")
    for statement in document.get("Statement", []):
        sid = statement.get("Sid", "?")
        if statement.get("Effect") != "Allow" or not {"Action", "Resource"} <= set(statement):
            problems.append(f"{sid}: only Allow statements with Action and Resource")
            continue
        actions = [str(a) for a in as_list(statement["Action"])]
        problems += [f"{sid}: wildcard action {a}" for a in actions if "*" in a]
        for resource in as_list(statement["Resource"]):
            if resource == "*":
                scoped = sorted(set(actions) - RESOURCELESS_ACTIONS)
                if scoped:
                    problems.append(f"{sid}: Resource * for {', '.join(scoped)}")
                continue
            arn = resolve(resource, names)
            if not isinstance(resource, dict) or not isinstance(arn, str):
                problems.append(f"{sid}: {resource!r} is not an Fn::Sub ARN")
                continue
            parts = arn.split(":", 5)
            if len(parts) < 6 or parts[3] != _REGION or parts[4] != _ACCOUNT:
                problems.append(f"{sid}: {arn} is not pinned to the stack's region and account")
    return problems


def template_problems(
    template: Mapping[str, Any], functions: Iterable[tuple[str, str]]
) -> list[str]:
    """Checks on a packaged template: each function (``(name, logical id)``) runs under a role
    of its own whose only policy is its file, and that policy passes :func:`document_problems`."""
    resources = template["Resources"]
    documents = policy_documents()
    problems = []
    roles: dict[str, str] = {}
    for name, logical_id in functions:
        if name not in documents:
            problems.append(f"{name}: no policy file in .chalice/config.json")
            continue
        role = resources[logical_id]["Properties"].get("Role")
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            problems.append(f"{name}: its role is not one the template creates")
            continue
        role_id = role["Fn::GetAtt"][0]
        if role_id in roles:
            problems.append(f"{name}: shares role {role_id} with {roles[role_id]}")
        roles[role_id] = name
        policies = resources[role_id]["Properties"].get("Policies", [])
        if [p["PolicyDocument"] for p in policies] != [documents[name]]:
            problems.append(f"{name}: role {role_id} does not hold exactly its policy file")
        problems += [f"{name}: {p}" for p in document_problems(documents[name])]
    return problems
