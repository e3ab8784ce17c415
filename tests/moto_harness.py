"""moto with Step Functions executing and our Lambda hook installed, for functional tests.

Three kinds of test need the same world: a state machine that really runs, whose Task states
invoke a Chalice handler in-process through :mod:`chalicelib.local.lambda_hook` (as local mode
does). This context manager is that world, set up once here instead of in each test file; the
tests register their own app and resources inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.local import lambda_hook, moto_speed

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Executing:
    """One boto3 client per service (cached) and the registry the hook dispatches to."""

    client: Callable[[str], Any]
    registry: lambda_hook.HandlerRegistry


@contextmanager
def executing_moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[Executing]:
    """GIVEN fake credentials, moto with ``execute_state_machine`` and the Lambda hook."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION,
        # moto's account id must not be taken from the credentials.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    registry = lambda_hook.HandlerRegistry()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        session = boto3.session.Session(region_name=REGION)
        made: dict[str, Any] = {}

        def client(service: str) -> Any:
            made.setdefault(service, session.client(service))
            return made[service]

        lambda_hook.install(registry)
        moto_speed.install()  # as local mode runs moto
        try:
            yield Executing(client, registry)
        finally:
            moto_speed.uninstall()
            lambda_hook.uninstall()
