"""Which AWS calls each function makes, whether its IAM policy allows them, and what
docs/iam.md says it may do — the three views of least privilege the tests compare.

- :class:`CallLog`: a botocore ``before-parameter-build`` hook on the session the application's
  clients are built from records every call with the function it was made for (a context
  variable set around a handler) and the IAM action and resource ARNs the call is checked
  against; :func:`denied` evaluates each against the function's policy, resolved for one
  account, region and stage as CloudFormation would resolve it.
- :func:`documented_permissions` and :func:`policy_permissions`: the (action, resource) pairs of
  the tables in docs/iam.md and of a policy document, resources as ARN tails with ``<stage>``.

moto does not enforce IAM, which is why these exist; nothing here ships.
"""

from __future__ import annotations

import contextvars
import fnmatch
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chalicelib.deploy.iam import as_list, resolve
from chalicelib.deploy.template import PROJECT_DIR

# boto3 operations whose IAM action has another name (the batch forms check the single action).
_ACTION_OF = {
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("sns", "PublishBatch"): "Publish",
}
# Calls IAM always allows (no statement can grant or refuse them).
ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})


@dataclass(frozen=True)
class Call:
    function: str
    action: str  # e.g. "dynamodb:PutItem"
    resources: tuple[str, ...]  # ARNs the action is checked against ("*" when none)


class CallLog:
    """Every AWS call made through a session, attributed to the function acting on the thread."""

    def __init__(self, account: str, region: str, partition: str = "aws") -> None:
        self.account, self.region, self.partition = account, region, partition
        self.calls: list[Call] = []
        self.unattributed: list[str] = []
        self._function: contextvars.ContextVar[str | None] = contextvars.ContextVar(
            "function", default=None
        )

    def install(self, session: Any) -> None:
        """Record the calls of every client ``session`` makes (boto3 session)."""
        session.events.register("before-parameter-build", self._before_call)

    @contextmanager
    def acting_as(self, function: str) -> Iterator[None]:
        token = self._function.set(function)
        try:
            yield
        finally:
            self._function.reset(token)

    def wrap(self, function: str, handler: Any) -> Any:
        """``handler`` running as ``function`` (for the Lambda hook's registry)."""

        def run(event: Any, context: Any) -> Any:
            with self.acting_as(function):
                return handler(event, context)

        return run

    def _before_call(self, model: Any, params: Mapping[str, Any], **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        operation = _ACTION_OF.get((service, model.name), model.name)
        action = f"{service}:{operation}"
        function = self._function.get()
        if function is None:
            self.unattributed.append(action)  # the test's own setup and checks
            return
        self.calls.append(Call(function, action, self.resources(service, model.name, params)))

    # -- the ARNs IAM checks a call against ----------------------------------------------------
    def _arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def resources(self, service: str, operation: str, params: Mapping[str, Any]) -> tuple[str, ...]:
        if service == "dynamodb":
            tables = list(params.get("RequestItems", {})) or [params.get("TableName")]
            index = params.get("IndexName")
            return tuple(
                self._arn("dynamodb", f"table/{t}" + (f"/index/{index}" if index else ""))
                for t in tables
                if t
            )
        if service == "sqs":
            url = params.get("QueueUrl")
            name = urlsplit(url).path.rsplit("/", 1)[-1] if url else params.get("QueueName")
            return (self._arn("sqs", str(name)),)
        if service == "sns":
            if "TopicArn" in params:
                return (str(params["TopicArn"]),)
            if "SubscriptionArn" in params:  # a subscription is checked against its topic
                return (str(params["SubscriptionArn"]).rsplit(":", 1)[0],)
            if "Name" in params:
                return (self._arn("sns", str(params["Name"])),)
            return ("*",)
        if service == "states":
            for key in ("stateMachineArn", "executionArn"):
                if key in params:
                    return (str(params[key]),)
            return ("*",)  # task tokens name no resource
        return ("*",)


# -- evaluating a policy document ----------------------------------------------------------------
def _matches(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def allows(document: Mapping[str, Any], action: str, resource: str) -> bool:
    """True if an Allow statement grants ``action`` on ``resource`` and no Deny refuses it."""
    allowed = False
    for statement in document["Statement"]:
        if "Condition" in statement or "NotAction" in statement or "NotResource" in statement:
            raise ValueError(f"the audit does not evaluate {sorted(statement)}")
        if not any(_matches(p, action, case_sensitive=False) for p in as_list(statement["Action"])):
            continue
        if not any(
            _matches(p, resource, case_sensitive=True) for p in as_list(statement["Resource"])
        ):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed


def denied(calls: list[Call], policies: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Each distinct call its function's policy does not allow, described."""
    refused = set()
    for call in calls:
        if call.action in ALWAYS_ALLOWED:
            continue
        document = policies.get(call.function)
        if document is None:
            refused.add(f"{call.function}: has no policy of its own")
            continue
        for resource in call.resources:
            if not allows(document, call.action, resource):
                refused.add(f"{call.function}: {call.action} on {resource}")
    return sorted(refused)


# -- the table in docs/iam.md ----------------------------------------------------------------------
IAM_DOC = PROJECT_DIR / "docs" / "iam.md"
STAGE_MARK = "<stage>"
_TICKED = re.compile(r"`([^`]+)`")
_FUNCTION_HEADING = re.compile(r"^### `([a-z_]+)`\s*$")


@dataclass(frozen=True)
class Row:
    """One row of a table in docs/iam.md: actions, resources (ARN tails) and the reason."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    why: str


def _rows(lines: list[str]) -> list[Row]:
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 3 or cells[0] in {"actions", "---"}:
            continue
        rows.append(
            Row(tuple(_TICKED.findall(cells[0])), tuple(_TICKED.findall(cells[1])), cells[2])
        )
    return rows


def documented_rows(path: Path = IAM_DOC) -> tuple[list[Row], dict[str, list[Row]]]:
    """The rows of "Every function", and each function's own rows, as docs/iam.md has them."""
    section: list[str] | None = None
    blocks: dict[str, list[str]] = {}
    common_lines: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = common_lines if line.strip() == "## Every function" else None
            continue
        heading = _FUNCTION_HEADING.match(line)
        if heading:
            section = blocks.setdefault(heading.group(1), [])
            continue
        if section is not None:
            section.append(line)
    return _rows(common_lines), {name: _rows(lines) for name, lines in blocks.items()}


def deployed_name(function: str) -> str:
    return f"yuqing-{STAGE_MARK}" + ("" if function == "api_handler" else f"-{function}")


def documented_permissions(path: Path = IAM_DOC) -> dict[str, set[tuple[str, str]]]:
    """Function → the (action, resource) pairs docs/iam.md grants it."""
    common, functions = documented_rows(path)
    granted: dict[str, set[tuple[str, str]]] = {}
    for function, rows in functions.items():
        pairs = granted.setdefault(function, set())
        for row in rows + common:
            for resource in row.resources:
                resource = resource.replace("<name>", deployed_name(function))
                pairs.update((action, resource) for action in row.actions)
    return granted


def policy_permissions(document: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The (action, resource) pairs a policy grants, resources as ARN tails with ``<stage>``."""
    names = {
        "AWS::Partition": "<partition>",
        "AWS::Region": "<region>",
        "AWS::AccountId": "<account>",
        "Stage": STAGE_MARK,
    }
    pairs: set[tuple[str, str]] = set()
    for statement in resolve(document, names)["Statement"]:
        for resource in as_list(statement["Resource"]):
            tail = resource.split(":", 5)[5] if resource.startswith("arn:") else resource
            pairs.update((str(action), tail) for action in as_list(statement["Action"]))
    return pairs
