"""A broken source reaches 技术保障组 through the alert service, or the ops topic without a plan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.alerts.wiring import alert_service
from chalicelib.core import aws
from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import ThrottledError
from chalicelib.core.settings import Settings
from chalicelib.plan.service import PlanService
from chalicelib.plan.store import PlanStore
from chalicelib.posts.sink import StoreOnlySink
from chalicelib.posts.store import PostStore
from chalicelib.sources.alerts import AlertServiceSourceAlerts, RecordingAlerts
from chalicelib.sources.fetcher import Fetcher, FetchPolicy
from chalicelib.sources.models import SourceHealth, parse_definition
from chalicelib.sources.service import CrawlService
from chalicelib.sources.store import SourceStore
from tests.plan_helpers import example_plan
from tests.sources_server import FixtureServer, Route, fixture_bytes, serve

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

    # WHEN the source turns unhealthy, the same streak is reported twice (the second time found
    # a minute later by a redelivered crawl), then a new streak
    source_alerts.source_unhealthy(
        SOURCE, "连续3次失败", _health("2026-11-25T08:00:00+00:00"), streak="1#1"
    )
    source_alerts.source_unhealthy(
        SOURCE, "连续3次失败", _health("2026-11-25T08:01:00+00:00"), streak="1#1"
    )
    source_alerts.source_unhealthy(
        SOURCE, "登录墙", _health("2026-11-25T09:00:00+00:00"), streak="1#2"
    )

    # THEN the tech group has one message per streak, through the outbox, and no fallback
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
    source_alerts.source_unhealthy(
        SOURCE, "挑战页", _health("2026-11-25T08:00:00+00:00"), streak="1#1"
    )
    assert fallback.sent == [("weibo-hot", "挑战页")]
    assert _outbox(clients, settings) == []


@pytest.fixture
def http_server() -> Iterator[FixtureServer]:
    yield from serve()


def test_a_crawl_delivered_twice_alerts_the_tech_group_once_per_failure_streak(
    settings: Settings, moto: dict[str, str], http_server: FixtureServer
) -> None:
    # GIVEN the example plan, and a source that answers with an anti-bot challenge, crawled
    # through clients whose sources table refuses the first write of a crawl's result
    session = boto3.session.Session(region_name=settings.region)
    refused: list[str] = []

    def refuse_once(params: dict[str, Any], model: Any, **_: Any) -> None:
        first = not refused and model.name == "UpdateItem"
        if first and params.get("TableName") == settings.tables.sources:
            refused.append(model.name)
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}
            raise ClientError({"Error": error}, model.name)

    session.events.register("before-parameter-build.dynamodb", refuse_once)
    clients = AwsClients(settings, session=session)
    aws.set_clients(clients)
    alerts = alert_service(settings, clients)
    PlanService(
        PlanStore(clients.table(settings.tables.plan)), after_save=alerts.reconcile_plan
    ).save(example_plan(), "test")
    now = [datetime(2026, 11, 25, 8, 0, tzinfo=UTC)]
    store = SourceStore(clients.table(settings.tables.sources))
    service = CrawlService(
        store,
        Fetcher(FetchPolicy(attempts=1, host_interval_seconds=0)),
        StoreOnlySink(PostStore(clients.table(settings.tables.posts))),
        AlertServiceSourceAlerts(alerts, RecordingAlerts()),
        local_sites=frozenset({http_server.site}),
        offline=False,
        clock=lambda: now[0],
    )
    server = http_server
    server.routes["/hot"] = Route(body=fixture_bytes("challenge_page.html"))
    definition = {"id": "weibo", "kind": "hotlist", "hotlist": "weibo", "local": True}
    store.create(parse_definition({**definition, "url": server.url("/hot")}), "2026-11-01")

    # WHEN the crawl finds the challenge, alerts, and cannot record it (SQS will redeliver)
    with pytest.raises(ThrottledError):
        service.crawl("weibo")
    # AND the redelivered message crawls again a minute later
    now[0] += timedelta(minutes=1)
    again = service.crawl("weibo")

    # THEN the streak is recorded once, and the tech group was alerted once
    assert again.alerted  # the same transition, seen again from the same stored record
    assert store.require("weibo").health.outages == 1
    assert len(_tech_alerts(clients, settings)) == 1

    # WHEN the source recovers and breaks again THEN that streak is alerted too
    server.routes["/hot"] = Route(
        body=fixture_bytes("weibo_hotsearch.json"), content_type="application/json"
    )
    now[0] += timedelta(minutes=10)
    assert service.crawl("weibo").healthy
    server.routes["/hot"] = Route(body=fixture_bytes("challenge_page.html"))
    now[0] += timedelta(minutes=10)
    assert service.crawl("weibo").alerted
    assert store.require("weibo").health.outages == 2
    assert len(_tech_alerts(clients, settings)) == 2


def _tech_alerts(clients: AwsClients, settings: Settings) -> list[dict[str, Any]]:
    return [m for m in _outbox(clients, settings) if m.get("group") == "tech"]
