"""Shared fixtures: a clean AWS-looking environment, moto with our resources, and the API client.

``aws_env`` gives a test the ``local`` stage's environment (the same variables Chalice sets) with
fake credentials and no ``AWS_ENDPOINT_URL``, so nothing can reach a real account or a running
local mode. ``moto`` starts ``mock_aws`` and provisions the rendered infra template as local mode
does.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib.core import aws
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings, get_settings, reset_settings
from chalicelib.deploy.template import PROJECT_DIR, render
from chalicelib.local.provision import Provisioned, TemplateProvisioner
from tests.template_helpers import stage_environment

STAGE = "local"
REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"

# Variables that would point boto3 somewhere other than moto's in-process mock.
_UNSET = (
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """GIVEN the local stage's environment, fake credentials and fresh settings and clients."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        **stage_environment(STAGE),
    }
    for name in _UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    aws.set_clients(None)
    yield env
    reset_settings()
    aws.set_clients(None)


@pytest.fixture
def moto(aws_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """GIVEN moto with every table, queue, topic and the state machine of the local stage.

    Yields logical id → ARN (queue URL for queues) of what was created.
    """
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        # Chalice creates the functions; the state machine is created here but not executed,
        # so a well-formed ARN stands in for the workflow function.
        step = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:yuqing-{STAGE}-workflow_step"
        provisioner = TemplateProvisioner(
            render(STAGE),
            session.client,
            MOTO_ACCOUNT,
            REGION,
            external={"WorkflowStep": Provisioned(ref="workflow_step", attributes={"Arn": step})},
        )
        yield {logical: made.ref for logical, made in provisioner.provision_all().items()}


@pytest.fixture
def settings(aws_env: dict[str, str]) -> Settings:
    return get_settings()


@pytest.fixture
def clients(moto: dict[str, str], settings: Settings) -> AwsClients:
    """The process-wide clients, talking to moto (``aws_env`` forgets them afterwards)."""
    built = AwsClients(settings)
    aws.set_clients(built)
    return built


@pytest.fixture
def api_client(moto: dict[str, str]) -> Iterator[Client]:
    """``chalice.test.Client`` on the real app, with the local stage's configuration."""
    from app import app

    with Client(app, stage_name=STAGE, project_dir=str(PROJECT_DIR)) as client:
        yield client
