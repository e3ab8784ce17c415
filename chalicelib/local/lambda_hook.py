"""Route moto's Lambda invocations to Chalice handlers in this process.

Every path that runs a function in moto — a direct ``Invoke``, a Step Functions Task, an SNS or
SQS delivery, a DynamoDB stream — ends in ``moto.awslambda.models.LambdaFunction._invoke_lambda``,
which would start a Docker container. Replacing that one method makes all of them call the real
handler instead. It is a private API: moto is pinned exactly, and
``tests/functional/test_local_lambda_hook.py`` fails if this stops reaching our handler.

Handlers get a Lambda-like context object and their result or exception is shaped exactly like
Lambda's (``errorType`` is the exception class name), so Step Functions Retry/Catch match on our
own error names as they do in AWS. Every invocation passes the runtime's :class:`WorkGate`, so a
stop lets the running ones finish and holds the rest back unstarted (:mod:`.gate`).
"""

from __future__ import annotations

import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda.models import LambdaFunction

from chalicelib.local.gate import LocalModeStopping, WorkGate

Handler = Callable[[Any, Any], Any]


@dataclass
class LocalContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class Invocation:
    function_name: str
    ok: bool
    seconds: float
    error: str = ""


class HandlerRegistry:
    """Function name → in-process handler, plus a record of invocations (for tests and status)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.invocations: list[Invocation] = []

    def register(self, function_name: str, handler: Handler) -> None:
        with self._lock:
            self._handlers[function_name] = handler

    def get(self, function_name: str) -> Handler | None:
        with self._lock:
            return self._handlers.get(function_name)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._handlers)

    def count(self, function_name: str) -> int:
        with self._lock:
            return sum(1 for i in self.invocations if i.function_name == function_name)

    def _record(self, invocation: Invocation) -> None:
        with self._lock:
            self.invocations.append(invocation)
            del self.invocations[:-1000]


_original_invoke = LambdaFunction._invoke_lambda
_registry: HandlerRegistry | None = None
_gate: WorkGate | None = None


def _error(error_type: str, message: str) -> str:
    return json.dumps({"errorMessage": message, "errorType": error_type}, ensure_ascii=False)


def _invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
    registry = _registry
    if registry is None:
        return _original_invoke(self, event)
    handler = registry.get(self.function_name)
    if handler is None:
        # Not one of the app's functions: there is no code to run here, and no Docker to run it.
        message = f"{self.function_name} has no in-process handler in local mode"
        return _error("LocalHandlerNotFound", message), True, ""
    gate: AbstractContextManager[None] = _gate.work() if _gate is not None else nullcontext()
    try:
        with gate:
            return _run(self, registry, handler, event)
    except LocalModeStopping as err:
        return _error(type(err).__name__, str(err)), True, ""


def _run(
    self: Any, registry: HandlerRegistry, handler: Handler, event: Any
) -> tuple[str, bool, str]:
    if event is None or event == "{}":
        # moto decodes the payload before this point, except an empty one, which it passes as
        # the string "{}"; any other string is a JSON string payload and stays a string.
        event = {}
    context = LocalContext(
        function_name=self.function_name,
        memory_limit_in_mb=int(self.memory_size),
        timeout_seconds=int(self.timeout),
        invoked_function_arn=self.function_arn,
    )
    started = time.monotonic()
    try:
        result = handler(event, context)
        payload = json.dumps(result, ensure_ascii=False, default=str)
    except Exception as err:
        registry._record(
            Invocation(self.function_name, False, time.monotonic() - started, repr(err))
        )
        error: dict[str, Any] = {
            "errorMessage": str(err),
            "errorType": type(err).__name__,
            "stackTrace": traceback.format_tb(err.__traceback__),
        }
        return json.dumps(error, ensure_ascii=False), True, traceback.format_exc()
    registry._record(Invocation(self.function_name, True, time.monotonic() - started))
    return payload, False, ""


def _no_docker(self: Any) -> None:
    # moto's /moto-api/data.json walks every model and touches docker_client; answer None.
    return None


def install(registry: HandlerRegistry, gate: WorkGate | None = None) -> None:
    """Route every invocation to ``registry``; a function it does not know answers an error.
    With ``gate``, each invocation is one unit of its work."""
    global _registry, _gate
    _registry = registry
    _gate = gate
    LambdaFunction._invoke_lambda = _invoke_in_process  # type: ignore[method-assign]
    LambdaFunction.docker_client = property(_no_docker)  # type: ignore[assignment,method-assign]


def uninstall() -> None:
    global _registry, _gate
    _registry = None
    _gate = None
    LambdaFunction._invoke_lambda = _original_invoke  # type: ignore[method-assign]
    if "docker_client" in LambdaFunction.__dict__:
        del LambdaFunction.docker_client
