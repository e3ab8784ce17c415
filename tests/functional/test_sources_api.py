"""``/sources`` through ``chalice.test.Client``: roles, validation, CRUD, crawl now and health."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.auth.store import TokenStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import ValidationError
from chalicelib.core.settings import Settings
from chalicelib.sources import wiring
from chalicelib.sources.service import SourceService
from chalicelib.sources.store import SourceStore
from tests.auth_helpers import role_tokens
from tests.sources_server import FixtureServer, Route, fixture_bytes, serve, serve_as_local_site


@pytest.fixture
def http_server() -> Iterator[FixtureServer]:
    """GIVEN a server that local mode serves as its demo site (a local site)."""
    yield from serve_as_local_site()


@pytest.fixture
def neighbour() -> Iterator[FixtureServer]:
    """GIVEN another server on loopback that local mode does not serve (as moto's endpoint)."""
    yield from serve()


@pytest.fixture
def tokens(clients: AwsClients, settings: Settings) -> dict[str, str]:
    store = TokenStore(clients.table(settings.tables.tokens))
    return role_tokens(store)


class Api:
    def __init__(self, client: Client, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def call(self, method: str, path: str, body: Any = None, role: str | None = "lead") -> Any:
        headers = {"Content-Type": "application/json"}
        if role:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        data = json.dumps(body) if body is not None else None
        return getattr(self.client.http, method)(path, headers=headers, body=data)


@pytest.fixture
def api(api_client: Client, tokens: dict[str, str]) -> Api:
    return Api(api_client, tokens)


def demo(server: FixtureServer) -> dict[str, Any]:
    server.routes["/feed.xml"] = Route(
        body=fixture_bytes("rss_feed.xml"), content_type="application/rss+xml"
    )
    return {
        "id": "demo",
        "name": "演示论坛",
        "kind": "rss",
        "url": server.url("/feed.xml"),
        "local": True,
        "platform": "forum",
    }


def test_every_route_needs_a_token(api: Api):
    for method, path in [
        ("get", "/sources"),
        ("post", "/sources"),
        ("get", "/sources/x"),
        ("put", "/sources/x"),
        ("delete", "/sources/x"),
        ("post", "/sources/x/crawl"),
        ("get", "/sources/x/health"),
    ]:
        assert api.call(method, path, {}, role=None).status_code == 401, (method, path)


def test_viewers_read_and_leads_write(api: Api, http_server: FixtureServer):
    body = demo(http_server)
    assert api.call("post", "/sources", body, role="member").status_code == 403
    created = api.call("post", "/sources", body, role="lead")
    assert created.status_code == 201
    assert created.json_body["fetch_url"] == body["url"]
    assert created.json_body["health"]["status"] == "new"
    listed = api.call("get", "/sources", role="viewer").json_body["sources"]
    assert [s["id"] for s in listed] == ["demo"]
    assert api.call("post", "/sources/demo/crawl", role="member").status_code == 403


def test_a_bad_definition_is_400_with_every_problem_and_writes_nothing(api: Api):
    response = api.call(
        "post",
        "/sources",
        {"id": "x", "kind": "rss", "url": "http://10.0.0.8/feed", "interval_minutes": 1},
    )
    assert response.status_code == 400
    paths = {p["path"] for p in response.json_body["problems"]}
    assert paths == {"/url", "/interval_minutes"}
    messages = {p["path"]: p["message"] for p in response.json_body["problems"]}
    assert messages["/url"] == "refused: 10.0.0.8 is a private address"
    assert api.call("get", "/sources", role="viewer").json_body["sources"] == []
    assert api.call("post", "/sources", ["not", "an", "object"]).status_code == 400


def test_create_twice_is_409_and_unknown_ids_are_404(api: Api, http_server: FixtureServer):
    body = demo(http_server)
    assert api.call("post", "/sources", body).status_code == 201
    assert api.call("post", "/sources", body).status_code == 409
    assert api.call("get", "/sources/nope", role="viewer").status_code == 404
    assert api.call("put", "/sources/nope", body | {"id": "nope"}).status_code == 404
    assert api.call("delete", "/sources/nope").status_code == 404
    assert api.call("get", "/sources/BAD%20ID", role="viewer").status_code == 400


def test_put_replaces_the_definition_and_keeps_health(api: Api, http_server: FixtureServer):
    body = demo(http_server)
    api.call("post", "/sources", body)
    api.call("post", "/sources/demo/crawl")
    replaced = api.call("put", "/sources/demo", body | {"name": "改名", "interval_minutes": 30})
    assert replaced.status_code == 200
    assert replaced.json_body["name"] == "改名"
    assert replaced.json_body["interval_minutes"] == 30
    assert replaced.json_body["health"]["last_items"] == 2
    assert api.call("put", "/sources/demo", body | {"kind": "smoke"}).status_code == 400
    assert api.call("delete", "/sources/demo").json_body == {"deleted": "demo"}
    assert api.call("get", "/sources/demo", role="viewer").status_code == 404


def test_crawl_now_stores_posts_and_reports_counts(
    api: Api, http_server: FixtureServer, clients: AwsClients, settings: Settings
):
    api.call("post", "/sources", demo(http_server))
    report = api.call("post", "/sources/demo/crawl")
    assert report.status_code == 200
    assert report.json_body["outcome"] == "ok"
    assert (report.json_body["items"], report.json_body["new"]) == (2, 2)
    again = api.call("post", "/sources/demo/crawl").json_body
    assert (again["new"], again["duplicates"]) == (0, 2)
    posts = clients.table(settings.tables.posts).scan()["Items"]
    assert {p["platform"] for p in posts} == {"forum"}
    assert {p["source_id"] for p in posts} == {"demo"}
    health = api.call("get", "/sources/demo/health", role="viewer").json_body
    assert health["healthy"] is True
    assert health["last_items"] == 2
    assert health["recent_items"] == [2, 2]


def test_a_source_pointed_at_a_private_address_is_refused_with_a_clear_error(
    api: Api, http_server: FixtureServer
):
    http_server.routes["/feed.xml"] = Route(body=fixture_bytes("rss_feed.xml"))
    url = f"http://localhost:{http_server.port}/feed.xml"  # a name, so allowed at definition
    assert (
        api.call("post", "/sources", {"id": "sneaky", "kind": "rss", "url": url}).status_code == 201
    )
    report = api.call("post", "/sources/sneaky/crawl").json_body
    assert report["outcome"] == "failed"
    assert report["error"]["code"] == "blocked_address"
    # a generic reason: what the name resolved to is not for the API (it would map internal DNS)
    assert report["error"]["message"] == "refused: localhost has no public address"
    assert http_server.hits["/feed.xml"] == 0
    health = api.call("get", "/sources/sneaky/health", role="viewer").json_body
    assert health["last_error_code"] == "blocked_address"
    assert health["last_error"] == "refused: localhost has no public address"


def test_a_lead_cannot_point_a_local_source_anywhere_but_the_local_site(
    api: Api, http_server: FixtureServer, neighbour: FixtureServer
):
    # GIVEN a lead in local mode, with the demo site running and an existing demo source
    assert api.call("post", "/sources", demo(http_server)).status_code == 201
    elsewhere = [
        f"http://127.0.0.1:{neighbour.port}/moto-api/data.json",  # moto's endpoint
        f"http://0x7f.1:{neighbour.port}/moto-api/data.json",
        f"http://[::ffff:127.0.0.1]:{neighbour.port}/moto-api/data.json",
        f"http://localhost:{http_server.port}/feed.xml",  # a name: not looked up, not the site
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/feed.xml",
        "https://weibo.com/ajax/side/hotSearch",  # public: never "local" (it polls every minute)
    ]
    for url in elsewhere:
        body = {"id": "sneaky", "kind": "rss", "local": True, "url": url}
        # WHEN a source marked local points elsewhere THEN 400 on its URL
        created = api.call("post", "/sources", body)
        assert created.status_code == 400, (url, created.body)
        assert [p["path"] for p in created.json_body["problems"]] == ["/url"], url
        # AND an existing source cannot be turned into one either
        replaced = api.call("put", "/sources/demo", body | {"id": "demo"})
        assert replaced.status_code == 400, (url, replaced.body)
    # AND nothing was written, and nothing was asked of the neighbour
    assert [s["id"] for s in api.call("get", "/sources", role="viewer").json_body["sources"]] == [
        "demo"
    ]
    assert api.call("get", "/sources/demo", role="viewer").json_body["url"] == http_server.url(
        "/feed.xml"
    )
    assert neighbour.hits == {}


def test_crawl_now_ends_within_its_deadline_with_a_timeout(
    api: Api, http_server: FixtureServer, monkeypatch: pytest.MonkeyPatch
):
    # GIVEN a source whose site takes 10 s, and an API fetch deadline of 1 s (20 s in service)
    monkeypatch.setattr(wiring, "API_FETCH_SECONDS", 1.0)
    api.call("post", "/sources", demo(http_server))
    http_server.routes["/feed.xml"] = Route(
        delay=10, body=fixture_bytes("rss_feed.xml"), content_type="application/rss+xml"
    )
    started = time.monotonic()
    # WHEN crawled now THEN the answer comes well before the site would, and says timeout
    report = api.call("post", "/sources/demo/crawl")
    assert time.monotonic() - started < 5
    assert report.status_code == 200
    assert report.json_body["outcome"] == "failed"
    assert report.json_body["error"]["code"] == "timeout"


def test_no_source_is_local_outside_local_mode(
    clients: AwsClients, settings: Settings, http_server: FixtureServer
):
    # GIVEN a deployment that is not local mode (in AWS there is no demo site)
    store = SourceStore(clients.table(settings.tables.sources))
    service = SourceService(store, local_mode=False, local_sites=frozenset({http_server.site}))
    # WHEN a source is marked local THEN it is refused on that field, and nothing is written
    with pytest.raises(ValidationError) as refused:
        service.create(demo(http_server))
    assert [p.path for p in refused.value.problems] == ["/local"]
    assert list(store.all()) == []
    # AND the same source unmarked is refused for its loopback URL
    with pytest.raises(ValidationError):
        service.create(demo(http_server) | {"local": False})
