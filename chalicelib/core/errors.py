"""One error hierarchy for the whole application.

Every failure the code means to report is a :class:`YuqingError`. Each subclass carries the
HTTP status and a stable machine-readable ``code`` so the API layer can answer with a clear
JSON error without knowing where the error came from. botocore's ``ClientError`` is
translated at the data-access boundary by :func:`translate_client_error`, which looks only at
the error *code* — never at message text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located by a JSON-pointer-like path; within a text (a
    rule), ``position`` is the 0-based character offset of the fault."""

    path: str
    message: str
    position: int | None = None

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"path": self.path, "message": self.message}
        if self.position is not None:
            found["position"] = self.position
        return found


class YuqingError(Exception):
    """Base of every error the application raises on purpose."""

    status: int = 500
    code: str = "internal_error"
    # Seconds after which a retry can succeed; the API sends it as ``Retry-After``.
    retry_after: int | None = None

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        body.update(self.details)
        return body


class ConfigError(YuqingError):
    """The process was started with settings it cannot run with."""

    code = "config_error"


class ValidationError(YuqingError):
    """Input from outside is malformed; lists every problem found, each with its path."""

    status = 400
    code = "validation_error"

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message, details={"problems": [p.as_dict() for p in problems]})
        self.problems = list(problems)


class AuthenticationError(YuqingError):
    status = 401
    code = "unauthenticated"


class ForbiddenError(YuqingError):
    status = 403
    code = "forbidden"


class NotFoundError(YuqingError):
    status = 404
    code = "not_found"


class ConflictError(YuqingError):
    """A write lost a race or repeats one already made (conditional check, duplicate name)."""

    status = 409
    code = "conflict"


class UnprocessableError(YuqingError):
    """Well-formed input the service cannot act on (e.g. a URL that cannot be fetched)."""

    status = 422
    code = "unprocessable"


class ThrottledError(YuqingError):
    status = 429
    code = "throttled"


class UnavailableError(YuqingError):
    """A dependency (an AWS service, a crawled site) did not answer as it should."""

    status = 503
    code = "unavailable"


_CONFLICT_CODES = frozenset(
    {
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
        "TransactionConflictException",
        "ExecutionAlreadyExists",
        "IdempotentParameterMismatchException",
        "ResourceInUseException",
    }
)
_NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "NotFound",
        "NotFoundException",
        "StateMachineDoesNotExist",
        "ExecutionDoesNotExist",
        "TaskDoesNotExist",
        "TaskTimedOut",
    }
)
_THROTTLED_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "KMSThrottlingException",
    }
)
_INVALID_CODES = frozenset(
    {"ValidationException", "InvalidParameter", "InvalidParameterException", "InvalidArn"}
)


def client_error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def translate_client_error(err: ClientError, resource: str = "") -> YuqingError:
    """Map a botocore ``ClientError`` to the application's hierarchy by its error code."""
    code = client_error_code(err)
    where = f" ({resource})" if resource else ""
    details = {"aws_error": code} if code else {}
    if code in _CONFLICT_CODES:
        return ConflictError(f"conflicting write{where}", details=details)
    if code in _NOT_FOUND_CODES:
        return NotFoundError(f"not found{where}", details=details)
    if code in _THROTTLED_CODES:
        return ThrottledError(f"throttled{where}", details=details)
    if code in _INVALID_CODES:
        # Our own request was wrong: a bug, not the caller's input. Report as a server fault.
        return YuqingError(f"invalid request to AWS{where}: {code}", details=details)
    return UnavailableError(f"AWS call failed{where}: {code or 'unknown'}", details=details)


@contextmanager
def aws_errors(resource: str = "") -> Iterator[None]:
    """Translate botocore failures raised inside the block into :class:`YuqingError`."""
    try:
        yield
    except ClientError as err:
        raise translate_client_error(err, resource) from err
    except BotoCoreError as err:
        # Connection refused, timeouts, endpoint resolution: the dependency is unavailable.
        raise UnavailableError(f"AWS unreachable ({resource or type(err).__name__})") from err
