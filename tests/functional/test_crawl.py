"""Crawling against moto and a real HTTP server on 127.0.0.1: every kind end to end, 304s,
challenges, failures, the dispatcher, and duplicate SQS deliveries through the real worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.posts.sink import StoreOnlySink
from chalicelib.posts.store import PostStore
from chalicelib.sources.alerts import RecordingAlerts
from chalicelib.sources.fetcher import Fetcher, FetchPolicy
from chalicelib.sources.health import FAILURES_BEFORE_UNHEALTHY
from chalicelib.sources.models import parse_definition
from chalicelib.sources.service import CrawlQueue, CrawlService, Dispatcher
from chalicelib.sources.store import SourceStore
from tests.sources_server import FixtureServer, Route, fixture_bytes, serve_as_local_site


@pytest.fixture
def http_server() -> Iterator[FixtureServer]:
    """GIVEN a real HTTP server on 127.0.0.1 with no routes yet, that local mode serves as its
    demo site (the worker's handler reaches it as it reaches the demo site)."""
    yield from serve_as_local_site()


NOW = datetime(2023, 11, 15, 12, 0, tzinfo=UTC)


class Env:
    def __init__(self, clients: AwsClients, settings: Settings, server: FixtureServer) -> None:
        self.server = server
        self.store = SourceStore(clients.table(settings.tables.sources))
        self.posts = clients.table(settings.tables.posts)
        self.alerts = RecordingAlerts()
        self.fetcher = Fetcher(
            FetchPolicy(
                connect_timeout=1,
                read_timeout=0.5,
                deadline_seconds=5,
                attempts=2,
                backoff_seconds=0.01,
                host_interval_seconds=0,
            )
        )
        self.service = CrawlService(
            self.store,
            self.fetcher,
            StoreOnlySink(PostStore(self.posts)),
            self.alerts,
            local_sites=frozenset({server.site}),
            offline=False,
            clock=lambda: NOW,
        )
        self.sqs = clients.client("sqs")
        self.queue_url = clients.queue_url(settings.crawl_queue)

    def add(self, source_id: str, path: str, route: Route | None = None, **definition: Any) -> None:
        if route is not None:
            self.server.routes[path] = route
        body = {"id": source_id, "local": True, "url": self.server.url(path), **definition}
        self.store.create(parse_definition(body), "2023-11-15T11:00:00+00:00")

    def post_count(self) -> int:
        return int(self.posts.scan(Select="COUNT")["Count"])


@pytest.fixture
def env(clients: AwsClients, settings: Settings, http_server: FixtureServer) -> Env:
    return Env(clients, settings, http_server)


JSON = "application/json; charset=utf-8"
KIND_CASES = [
    ("rss", "rss_feed.xml", "application/rss+xml", {}, 2),
    ("rss", "atom_feed.xml", "application/atom+xml", {}, 1),
    ("rss", "gbk_feed.xml", "application/xml", {}, 1),
    ("hotlist", "weibo_hotsearch.json", JSON, {"hotlist": "weibo"}, 3),
    ("hotlist", "baidu_board.html", "text/html; charset=utf-8", {"hotlist": "baidu"}, 2),
    ("hotlist", "zhihu_hot_list.json", JSON, {"hotlist": "zhihu"}, 2),
    ("hotlist", "toutiao_hot_board.json", JSON, {"hotlist": "toutiao"}, 2),
    ("hotlist", "bilibili_popular.json", JSON, {"hotlist": "bilibili"}, 2),
    ("hotlist", "tieba_topic_list.json", JSON, {"hotlist": "tieba"}, 2),
    ("hotlist", "thepaper_right_sidebar.json", JSON, {"hotlist": "thepaper"}, 2),
    ("hotlist", "tencent_hot_ranking.json", JSON, {"hotlist": "tencent"}, 2),
    ("hotlist", "netease_hot_news.json", JSON, {"hotlist": "netease"}, 2),
    (
        "json",
        "generic_forum.json",
        JSON,
        {"mapping": {"items": "result.threads", "title": "subject"}},
        2,
    ),
    ("html", "gbk_portal.html", "text/html", {"mapping": {"item": "ul.news li", "title": "a"}}, 2),
]


@pytest.mark.parametrize(("kind", "fixture", "content_type", "extra", "count"), KIND_CASES)
def test_each_kind_is_crawled_from_a_real_server_into_posts(
    env, kind, fixture, content_type, extra, count
):
    env.add(
        "s1",
        "/f",
        Route(body=fixture_bytes(fixture), content_type=content_type),
        kind=kind,
        **extra,
    )
    report = env.service.crawl("s1")
    assert report.outcome == "ok", report.error
    assert (report.items, report.new, report.duplicates) == (count, count, 0)
    assert env.post_count() == count
    health = env.store.require("s1").health
    assert health.healthy
    assert health.last_items == count
    assert health.last_success_at


def test_rsshub_and_newsnow_build_their_urls(env):
    env.server.routes["/weibo/user/1"] = Route(
        body=fixture_bytes("rss_feed.xml"), content_type="application/xml"
    )
    env.server.routes["/api/s?id=weibo"] = Route(body=fixture_bytes("newsnow_weibo.json"))
    for body in (
        {
            "id": "hub",
            "kind": "rsshub",
            "base": env.server.url(""),
            "route": "/weibo/user/1",
            "local": True,
        },
        {
            "id": "agg",
            "kind": "newsnow",
            "base": env.server.url("/"),
            "feed": "weibo",
            "local": True,
        },
    ):
        env.store.create(parse_definition(body), "2023-11-15T11:00:00+00:00")
    assert env.service.crawl("hub").new == 2
    assert env.service.crawl("agg").new == 2


def test_a_second_crawl_writes_no_duplicates_and_a_304_costs_nothing(env):
    env.add("s1", "/feed", Route(body=fixture_bytes("rss_feed.xml"), etag='"v1"'), kind="rss")
    env.add("s2", "/plain", Route(body=fixture_bytes("rss_feed.xml")), kind="rss")
    assert env.service.crawl("s1").new == 2
    not_modified = env.service.crawl("s1")
    assert (not_modified.outcome, not_modified.http_status, not_modified.items) == (
        "not_modified",
        304,
        0,
    )
    assert env.server.seen_headers[-1]["If-None-Match"] == '"v1"'
    env.service.crawl("s2")
    again = env.service.crawl("s2")
    assert (again.outcome, again.new, again.duplicates) == ("ok", 0, 2)
    assert env.post_count() == 2  # both sources link the same posts: canonical URL dedup


def test_a_challenge_page_marks_the_source_unhealthy_and_alerts_once(env):
    env.add(
        "weibo",
        "/hot",
        Route(body=fixture_bytes("challenge_page.html"), content_type="text/html"),
        kind="hotlist",
        hotlist="weibo",
    )
    first = env.service.crawl("weibo")
    second = env.service.crawl("weibo")
    assert first.outcome == second.outcome == "challenge"
    assert not first.healthy
    assert first.alerted
    assert not second.alerted
    assert [source for source, _ in env.alerts.sent] == ["weibo"]
    assert env.store.require("weibo").health.unhealthy_code == "challenge"


def test_a_403_with_a_captcha_page_is_a_challenge(env):
    env.add(
        "s1",
        "/f",
        Route(status=403, body="<p>请完成安全验证</p>".encode(), content_type="text/html"),
        kind="rss",
    )
    assert env.service.crawl("s1").outcome == "challenge"


def test_repeated_500s_turn_the_source_unhealthy_after_n_crawls(env):
    env.add("s1", "/f", Route(status=500, body=b"oops"), kind="rss")
    reports = [env.service.crawl("s1") for _ in range(FAILURES_BEFORE_UNHEALTHY)]
    assert all(
        r.outcome == "failed" and r.error and r.error["code"] == "http_error" for r in reports
    )
    assert [r.healthy for r in reports] == [True] * (FAILURES_BEFORE_UNHEALTHY - 1) + [False]
    assert len(env.alerts.sent) == 1
    assert env.store.require("s1").health.consecutive_failures == FAILURES_BEFORE_UNHEALTHY


@pytest.mark.parametrize(
    ("fixture", "kind", "extra"),
    [("malformed.json", "hotlist", {"hotlist": "weibo"}), ("malformed_feed.xml", "rss", {})],
)
def test_malformed_bodies_are_parse_errors_and_write_nothing(env, fixture, kind, extra):
    env.add("s1", "/f", Route(body=fixture_bytes(fixture)), kind=kind, **extra)
    report = env.service.crawl("s1")
    assert report.outcome == "failed"
    assert report.error
    assert report.error["code"] == "parse_error"
    assert env.post_count() == 0


def test_a_hanging_server_is_a_timeout(env):
    env.add("s1", "/f", Route(hang=True), kind="rss")
    report = env.service.crawl("s1")
    assert (
        report.error == {"code": "timeout", "message": report.error["message"]}
        if report.error
        else False
    )


def test_a_public_source_pointed_at_loopback_is_refused_at_crawl_time(env):
    env.server.routes["/f"] = Route(body=fixture_bytes("rss_feed.xml"))
    body = {"id": "sneaky", "kind": "rss", "url": f"http://localhost:{env.server.port}/f"}
    env.store.create(parse_definition(body), "2023-11-15T11:00:00+00:00")
    report = env.service.crawl("sneaky")
    assert report.error
    assert report.error["code"] == "blocked_address"
    # the answer and the stored error say no more than that: the address goes to the log only
    assert report.error["message"] == "refused: localhost has no public address"
    assert env.store.require("sneaky").health.last_error == report.error["message"]
    assert env.server.hits["/f"] == 0


def test_a_local_source_reaches_the_local_site_and_nothing_else_on_loopback(env):
    # GIVEN a stored source marked local that points at another loopback port (moto's, say) —
    # stored before this rule, or restored from a snapshot
    neighbour = FixtureServer().start()
    try:
        neighbour.routes["/moto-api/data.json"] = Route(body=fixture_bytes("rss_feed.xml"))
        url = f"http://127.0.0.1:{neighbour.port}/moto-api/data.json"
        body = {"id": "moto", "kind": "rss", "local": True, "url": url}
        env.store.create(parse_definition(body), "2023-11-15T11:00:00+00:00")
        # WHEN it is crawled THEN the guard refuses it: local reaches the local site only
        report = env.service.crawl("moto")
        assert report.error
        assert report.error["code"] == "blocked_address"
        assert neighbour.hits["/moto-api/data.json"] == 0
    finally:
        neighbour.stop()


def test_the_dispatcher_queues_due_sources_once_and_spaces_one_host(env):
    env.add("a", "/a", Route(body=b""), kind="rss")
    env.add("b", "/b", Route(body=b""), kind="rss")
    env.add("off", "/c", Route(body=b""), kind="rss", enabled=False)
    queue = CrawlQueue(env.sqs, env.queue_url)
    sent: list[Any] = []

    def send(messages: Any) -> None:
        sent.extend(messages)
        queue.send(messages)

    dispatcher = Dispatcher(env.store, send, clock=lambda: NOW)
    report = dispatcher.tick()
    assert sorted(report.queued) == ["a", "b"]
    assert sorted(m.delay_seconds for m in sent) == [0, 10]  # same host:port → spaced
    assert dispatcher.tick().queued == []  # claimed: next due in interval_minutes
    assert env.store.require("a").next_due_at == "2023-11-15T12:10:00+00:00"
    attributes = env.sqs.get_queue_attributes(QueueUrl=env.queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert (
        int(attributes["ApproximateNumberOfMessages"])
        + int(attributes["ApproximateNumberOfMessagesDelayed"])
        == 2
    )


def test_a_duplicate_sqs_delivery_through_the_worker_writes_no_duplicate_posts(
    env: Env, api_client: Client
):
    env.add("demo", "/feed", Route(body=fixture_bytes("rss_feed.xml")), kind="rss")
    body = json.dumps({"source_id": "demo", "due_at": "2023-11-15T11:59:00+00:00"})
    event = api_client.events.generate_sqs_event(
        message_bodies=[body], queue_name="yuqing-local-crawl"
    )
    first = api_client.lambda_.invoke("crawl_worker", event).payload
    second = api_client.lambda_.invoke("crawl_worker", event).payload
    assert first["reports"][0]["new"] == 2
    assert second["reports"] == [None]  # the due time was already handled
    assert env.post_count() == 2
    assert env.server.hits["/feed"] == 1

    # a message without a due time (e.g. a manual re-send) crawls again and writes nothing new
    again = api_client.events.generate_sqs_event(
        message_bodies=[json.dumps({"source_id": "demo"})], queue_name="yuqing-local-crawl"
    )
    report = api_client.lambda_.invoke("crawl_worker", again).payload["reports"][0]
    assert (report["new"], report["duplicates"]) == (0, 2)
    assert env.post_count() == 2


def test_the_worker_drops_malformed_messages_and_one_failing_source_does_not_stop_another(
    env: Env, api_client: Client
):
    env.add("bad", "/bad", Route(status=404), kind="rss")
    env.add("good", "/good", Route(body=fixture_bytes("rss_feed.xml")), kind="rss")
    for body in ("not json", json.dumps({"source_id": 5}), json.dumps({"source_id": "missing"})):
        event = api_client.events.generate_sqs_event(
            message_bodies=[body], queue_name="yuqing-local-crawl"
        )
        assert api_client.lambda_.invoke("crawl_worker", event).payload == {"reports": [None]}
    for source in ("bad", "good"):
        event = api_client.events.generate_sqs_event(
            message_bodies=[json.dumps({"source_id": source})], queue_name="yuqing-local-crawl"
        )
        api_client.lambda_.invoke("crawl_worker", event)
    assert env.store.require("bad").health.last_error_code == "http_error"
    assert env.store.require("good").health.last_items == 2
    assert env.post_count() == 2


def test_the_dispatcher_handler_queues_to_the_stage_queue(env: Env, api_client: Client):
    env.add("a", "/a", Route(body=b""), kind="rss")
    result = api_client.lambda_.invoke(
        "crawl_dispatcher",
        api_client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        ),
    ).payload
    assert result["queued"] == ["a"]
    received = env.sqs.receive_message(QueueUrl=env.queue_url).get("Messages", [])
    assert json.loads(received[0]["Body"])["source_id"] == "a"
