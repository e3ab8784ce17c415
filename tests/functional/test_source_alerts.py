"""A broken source reaches 技术保障组 through the alert service, or the ops topic without a plan."""

from __future__ import annotations

from typing import Any

from chalicelib.alerts.service import alert_service
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.plan.service import PlanService
from chalicelib.plan.store import PlanStore
from chalicelib.sources.alerts import AlertServiceSourceAlerts, RecordingAlerts
from chalicelib.sources.models import SourceHealth, parse_definition
from tests.plan_helpers import example_plan

SOURCE = parse_definition(
    {
        "id": "weibo-hot",
        "name": "微博热搜",
        "kind": "hotlist",
        "hotlist": "weibo",
        "interval_minutes": 10,
    }
)


def _health(since: str) -> SourceHealth:
    return SourceHealth(healthy=False, consecutive_failures=3, unhealthy_since=since)


def _outbox(clients: AwsClients, settings: Settings) -> list[dict[str, Any]]:
    return list(clients.table(settings.tables.outbox).scan()["Items"])


def test_an_unhealthy_source_alerts_the_tech_group_once_per_transition(
    settings: Settings, clients: AwsClients
) -> None:
    # GIVEN the example plan, saved (topics reconciled)
    alerts = alert_service(settings, clients)
    PlanService(
        PlanStore(clients.table(settings.tables.plan)), after_save=alerts.reconcile_plan
    ).save(example_plan(), "test")
    fallback = RecordingAlerts()
    source_alerts = AlertServiceSourceAlerts(alerts, fallback)

    # WHEN the source turns unhealthy, the same transition is reported twice, then a new one
    source_alerts.source_unhealthy(SOURCE, "连续3次失败", _health("2026-11-25T08:00:00+00:00"))
    source_alerts.source_unhealthy(SOURCE, "连续3次失败", _health("2026-11-25T08:00:00+00:00"))
    source_alerts.source_unhealthy(SOURCE, "登录墙", _health("2026-11-25T09:00:00+00:00"))

    # THEN the tech group has one message per transition, through the outbox, and no fallback
    messages = [m for m in _outbox(clients, settings) if m.get("group") == "tech"]
    assert len(messages) == 2
    assert {m["incident_id"] for m in messages} == {"source-weibo-hot"}
    assert all(
        "微博热搜" in str(m.get("sms", "")) + str(m.get("email_body", "")) + str(m)
        for m in messages
    )
    assert fallback.sent == []


def test_without_a_plan_the_alert_falls_back_to_the_ops_topic(
    settings: Settings, clients: AwsClients
) -> None:
    fallback = RecordingAlerts()
    source_alerts = AlertServiceSourceAlerts(alert_service(settings, clients), fallback)
    source_alerts.source_unhealthy(SOURCE, "挑战页", _health("2026-11-25T08:00:00+00:00"))
    assert fallback.sent == [("weibo-hot", "挑战页")]
    assert _outbox(clients, settings) == []
