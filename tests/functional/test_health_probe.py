"""The scheduled health probe records its result where the dashboard and ops can read it."""

from __future__ import annotations

from typing import Any

import boto3
from chalice.test import Client

from chalicelib.auth.models import Role
from chalicelib.auth.store import TokenStore
from chalicelib.core.aws import get_clients
from chalicelib.core.settings import Settings


def scheduled_event(client: Client) -> dict[str, Any]:
    """The event EventBridge sends a ``@schedule`` function."""
    return client.events.generate_cw_event(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        resources=["arn:aws:events:us-east-1:123456789012:rule/yuqing-local-health_probe"],
        region="us-east-1",
    )


def system_item(settings: Settings) -> dict[str, Any] | None:
    table = boto3.resource("dynamodb").Table(settings.tables.system)
    item: dict[str, Any] | None = table.get_item(Key={"pk": "health"}).get("Item")
    return item


def test_the_probe_records_a_healthy_report(api_client: Client, settings: Settings) -> None:
    # GIVEN a healthy deployment and no probe result yet
    assert system_item(settings) is None

    # WHEN the schedule fires
    result = api_client.lambda_.invoke("health_probe", scheduled_event(api_client))

    # THEN it reports nothing down and the system table holds the report
    assert result.payload == {"ok": True, "down": []}
    item = system_item(settings)
    assert item is not None
    assert item["status"] == "ok"
    assert item["stage"] == "local"
    assert len(item["components"]) == 15


def test_the_probe_names_what_is_down(api_client: Client, settings: Settings) -> None:
    # GIVEN the outbox table is gone
    boto3.client("dynamodb").delete_table(TableName=settings.tables.outbox)

    # WHEN the schedule fires
    result = api_client.lambda_.invoke("health_probe", scheduled_event(api_client))

    # THEN the result and the recorded report both name it
    assert result.payload == {"ok": False, "down": ["yuqing-local-outbox"]}
    item = system_item(settings)
    assert item is not None
    assert item["status"] == "degraded"
    down = [c["name"] for c in item["components"] if not c["ok"]]
    assert down == ["yuqing-local-outbox"]


def test_health_says_when_the_probe_last_ran(api_client: Client, settings: Settings) -> None:
    # GIVEN a viewer, and no probe run yet THEN /health says so
    token = TokenStore(get_clients().table(settings.tables.tokens)).issue("看板", Role.VIEWER)
    viewer = {"Authorization": f"Bearer {token}"}
    assert api_client.http.get("/health", headers=viewer).json_body["last_probe"] is None

    # WHEN the schedule fires THEN /health reports its time and outcome at once (the probe's
    # report replaces the half-minute cache of this process)
    api_client.lambda_.invoke("health_probe", scheduled_event(api_client))
    last = api_client.http.get("/health", headers=viewer).json_body["last_probe"]
    assert last["status"] == "ok"
    assert last["checked_at"].startswith("20")
