"""Alerts when DynamoDB throttles the outbox: none lost, none twice, no 5xx (against moto).

The fault is injected where boto3 is built — a ``before-parameter-build`` hook on the session the
process-wide :class:`AwsClients` is made from — so every layer of ours runs as in production and
meets a ``ProvisionedThroughputExceededException`` from the outbox table, as botocore raises it
once its own retries are spent. SNS publishes are counted at the same seam (``after-call``).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from chalice.test import Client

from chalicelib.alerts import sending as alert_module
from chalicelib.alerts.wiring import alert_service
from chalicelib.auth.models import Role
from chalicelib.auth.store import TokenStore
from chalicelib.core import aws
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.plan.service import PlanService
from chalicelib.plan.store import PlanStore
from tests.plan_helpers import example_plan

ALERT = {
    "incident": "inc-throttled",
    "event": "opened",
    "level": "III",
    "template_id": "incident_alert",
    "variables": {
        "level": "III",
        "subject": "滨江一院",
        "summary": "网传纠纷",
        "deadline": "2小时",
    },
    "groups": ["office"],
}

OFFICE_ALERT = ("yuqing-local-group-office", "inc-throttled", "opened")


@dataclass
class OutboxThrottle:
    """Refuses the outbox table's calls number ``skip + 1`` to ``skip + count``."""

    table: str
    skip: int = 0
    count: int = 0
    seen: int = 0
    refused: list[str] = field(default_factory=list)

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if params.get("TableName") != self.table:
            return
        self.seen += 1
        if self.skip < self.seen <= self.skip + self.count:
            self.refused.append(model.name)
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"}
            raise ClientError({"Error": error}, model.name)


@dataclass
class Published:
    """(topic, incident, event) of every publish SNS accepted."""

    seen: list[tuple[str, str, str]] = field(default_factory=list)

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        attributes = params["MessageAttributes"]
        self.seen.append(
            (
                params["TopicArn"].rsplit(":", 1)[-1],
                attributes["incident"]["StringValue"],
                attributes["event"]["StringValue"],
            )
        )


@dataclass
class Faulty:
    clients: AwsClients
    throttle: OutboxThrottle
    published: Published
    hq: dict[str, str]


@pytest.fixture
def faulty(api_client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Faulty:
    """GIVEN the app's clients built from a session with the outbox fault and an SNS counter,
    the example plan saved, and an HQ token."""
    session = boto3.session.Session(region_name=settings.region)
    throttle = OutboxThrottle(settings.tables.outbox)
    published = Published()
    session.events.register("before-parameter-build.dynamodb", throttle)
    session.events.register("before-parameter-build.sns.Publish", published)
    clients = AwsClients(settings, session=session)
    aws.set_clients(clients)
    # The mark's retries without sleeping between them.
    monkeypatch.setattr(alert_module, "MARK_PAUSE_S", 0.0)
    alerts = alert_service(settings, clients)
    PlanService(
        PlanStore(clients.table(settings.tables.plan)), after_save=alerts.reconcile_plan
    ).save(example_plan(), "test")
    token = TokenStore(clients.table(settings.tables.tokens)).issue("值班", Role.HQ)
    return Faulty(clients, throttle, published, {"Authorization": f"Bearer {token}"})


def _schedule_runs(settings: Settings, clients: AwsClients, minutes: int) -> None:
    """``alert_dispatch`` once a minute from 2 minutes on (past any lease), as EventBridge would."""
    start = datetime.now(UTC)
    for minute in range(2, 2 + minutes):
        moment = start + timedelta(minutes=minute)
        alert_service(settings, clients, clock=functools.partial(_at, moment)).dispatch_due()


def _at(moment: datetime) -> datetime:
    return moment


# The outbox calls of one alert to one group: read, write, lease, mark sent. Three refusals in a
# row starting at each of them (the mark's own retries outlast three).
@pytest.mark.parametrize("skip", [0, 1, 2, 3], ids=["read", "write", "lease", "mark"])
def test_a_throttled_outbox_loses_no_alert_sends_none_twice_and_answers_no_5xx(
    faulty: Faulty, api_client: Client, settings: Settings, skip: int
) -> None:
    faulty.throttle.skip, faulty.throttle.count = skip, 3

    # WHEN the HQ posts an alert, and posts it again while told 429 (as a client should)
    statuses = []
    for _ in range(6):
        answer = api_client.http.post("/alerts", body=_json(ALERT), headers=_headers(faulty.hq))
        statuses.append(answer.status_code)
        if answer.status_code != 429:
            break

    # THEN no answer was a 5xx, and the last one names the message
    assert all(status < 500 for status in statuses), statuses
    assert statuses[-1] == 200, statuses
    [message_id] = answer.json_body["message_ids"]

    # WHEN the schedule runs for a few minutes (the outbox refusing whatever is left)
    _schedule_runs(settings, faulty.clients, minutes=5)

    # THEN every refusal happened, the office was alerted exactly once, and each repeat and
    # escalation (minutes at the local time scale) went out once too
    assert len(faulty.throttle.refused) == 3
    assert faulty.published.seen.count(OFFICE_ALERT) == 1
    assert len(faulty.published.seen) == len(set(faulty.published.seen))
    answer = api_client.http.get("/outbox?incident=inc-throttled", headers=_headers(faulty.hq))
    shown = {m["message_id"]: m for m in answer.json_body["messages"]}
    assert shown[message_id]["status"] in ("awaiting_ack", "expired")
    assert shown[message_id]["attempts"] == 1


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


def _headers(auth: dict[str, str]) -> dict[str, str]:
    return {**auth, "Content-Type": "application/json"}
