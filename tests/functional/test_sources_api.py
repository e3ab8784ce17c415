"""``/sources`` through ``chalice.test.Client``: roles, validation, CRUD, crawl now and health."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.auth.service import TokenStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from tests.auth_helpers import role_tokens
from tests.sources_server import FixtureServer, Route, fixture_bytes, serve


@pytest.fixture
def http_server() -> Iterator[FixtureServer]:
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
    assert "resolves to 127.0.0.1, a loopback address" in report["error"]["message"]
    assert http_server.hits["/feed.xml"] == 0
    health = api.call("get", "/sources/sneaky/health", role="viewer").json_body
    assert health["last_error_code"] == "blocked_address"
