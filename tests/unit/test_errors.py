"""botocore failures become the application's errors by error code, never by message text."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
)

from chalicelib.core.errors import (
    ConflictError,
    NotFoundError,
    ThrottledError,
    UnavailableError,
    YuqingError,
    aws_errors,
    client_error_code,
    translate_client_error,
)


def client_error(code: str, message: str = "something went wrong") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "SomeOperation")


@pytest.mark.parametrize(
    ("code", "expected", "status"),
    [
        ("ConditionalCheckFailedException", ConflictError, 409),
        ("TransactionCanceledException", ConflictError, 409),
        ("ExecutionAlreadyExists", ConflictError, 409),
        ("ResourceNotFoundException", NotFoundError, 404),
        ("AWS.SimpleQueueService.NonExistentQueue", NotFoundError, 404),
        ("QueueDoesNotExist", NotFoundError, 404),
        ("StateMachineDoesNotExist", NotFoundError, 404),
        ("ThrottlingException", ThrottledError, 429),
        ("ProvisionedThroughputExceededException", ThrottledError, 429),
        ("TooManyRequestsException", ThrottledError, 429),
        ("InternalServerError", UnavailableError, 503),
        ("ServiceUnavailable", UnavailableError, 503),
    ],
)
def test_client_errors_are_translated_by_code(
    code: str, expected: type[YuqingError], status: int
) -> None:
    # GIVEN a ClientError with a known code
    # WHEN it is translated
    err = translate_client_error(client_error(code), "incidents table")

    # THEN the class, status and details follow from the code, and the resource is named
    assert type(err) is expected
    assert err.status == status
    assert err.details == {"aws_error": code}
    assert "incidents table" in err.message


def test_our_own_invalid_request_is_a_server_fault_not_the_callers() -> None:
    # GIVEN AWS rejecting a request we built
    # WHEN it is translated
    err = translate_client_error(client_error("ValidationException"))

    # THEN it is a plain 500, not a 400 that would blame the API caller
    assert type(err) is YuqingError
    assert err.status == 500


def test_message_text_does_not_decide_the_class() -> None:
    # GIVEN an unknown code whose message sounds like a throttle
    err = translate_client_error(client_error("SomethingNew", "Rate exceeded; throttling"))

    # THEN only the code counts: an unknown code is an unavailable dependency
    assert type(err) is UnavailableError


def test_a_client_error_without_a_code() -> None:
    # GIVEN a malformed error response
    bare = ClientError({}, "SomeOperation")

    # WHEN translated THEN it is unavailable and says the code is unknown
    err = translate_client_error(bare)
    assert client_error_code(bare) == ""
    assert type(err) is UnavailableError
    assert "unknown" in err.message
    assert err.details == {}


def test_aws_errors_translates_client_errors_and_keeps_the_cause() -> None:
    # GIVEN a block that fails with a conditional-check failure
    original = client_error("ConditionalCheckFailedException")

    # WHEN it runs inside aws_errors
    with pytest.raises(ConflictError) as raised, aws_errors("tokens table"):
        raise original

    # THEN the ClientError is the cause, for the logs
    assert raised.value.__cause__ is original
    assert raised.value.as_dict()["error"] == "conflict"
    assert raised.value.as_dict()["aws_error"] == "ConditionalCheckFailedException"


@pytest.mark.parametrize(
    "failure",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"),
        NoCredentialsError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_aws_errors_translates_botocore_errors_to_unavailable(failure: BotoCoreError) -> None:
    # GIVEN a block that cannot reach AWS at all
    # WHEN it runs inside aws_errors
    with pytest.raises(UnavailableError) as raised, aws_errors("system table"):
        raise failure

    # THEN the dependency is reported unavailable (503), naming the resource
    assert raised.value.status == 503
    assert "system table" in raised.value.message
    assert raised.value.__cause__ is failure


def test_aws_errors_names_the_botocore_error_without_a_resource() -> None:
    with pytest.raises(UnavailableError, match="EndpointConnectionError"), aws_errors():
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")


def test_aws_errors_lets_other_exceptions_through() -> None:
    # GIVEN a bug that is not an AWS failure THEN it is not disguised as one
    with pytest.raises(KeyError), aws_errors("x"):
        raise KeyError("k")
