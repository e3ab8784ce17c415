"""Source definitions: every mistake a user can make is a 400 naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.errors import ValidationError
from chalicelib.posts.models import Platform
from chalicelib.sources.models import SourceKind, parse_definition


def problems(body: dict[str, Any], source_id: str | None = None) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        parse_definition(body, source_id)
    return {p.path: p.message for p in caught.value.problems}


def test_a_hot_list_needs_only_its_name_and_gets_platform_url_and_defaults():
    source = parse_definition({"id": "weibo-hot", "kind": "hotlist", "hotlist": "weibo"})
    assert source.kind is SourceKind.HOTLIST
    assert source.platform is Platform.WEIBO
    assert source.fetch_url == "https://weibo.com/ajax/side/hotSearch"
    assert source.interval_minutes == 10
    assert source.credibility == 0.5
    assert source.enabled
    assert not source.local


def test_rsshub_and_newsnow_urls_are_built_from_base_and_route_or_feed():
    hub = parse_definition(
        {
            "id": "hub",
            "kind": "rsshub",
            "base": "https://rsshub.example.org/",
            "route": "/weibo/user/1",
        }
    )
    assert hub.fetch_url == "https://rsshub.example.org/weibo/user/1"
    agg = parse_definition(
        {"id": "agg", "kind": "newsnow", "base": "https://news.example.org", "feed": "zhihu"}
    )
    assert agg.fetch_url == "https://news.example.org/api/s?id=zhihu"


def test_public_sources_are_never_polled_faster_than_every_two_minutes():
    found = problems(
        {"id": "x", "kind": "rss", "url": "https://a.example.org/f", "interval_minutes": 1}
    )
    assert "2 min" in found["/interval_minutes"]
    local = parse_definition(
        {
            "id": "x",
            "kind": "rss",
            "url": "http://127.0.0.1:9/f",
            "local": True,
            "interval_minutes": 1,
        }
    )
    assert local.interval_minutes == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8000/feed",
        "http://[::1]/feed",
        "http://[::ffff:192.168.1.1]/feed",
        "http://0.0.0.0/feed",
        "http://224.0.0.1/feed",
    ],
)
def test_a_url_with_a_non_public_ip_literal_is_refused_at_definition(url):
    assert "refused" in problems({"id": "x", "kind": "rss", "url": url})["/url"]


@pytest.mark.parametrize(
    "url", ["ftp://example.org/feed", "file:///etc/passwd", "example.org/feed", ""]
)
def test_only_absolute_http_urls(url):
    assert "/url" in problems({"id": "x", "kind": "rss", "url": url})


def test_every_problem_is_reported_at_once():
    found = problems(
        {
            "id": "Bad Id",
            "kind": "json",
            "url": "https://a.example.org",
            "credibility": 2,
            "enabled": "yes",
            "mapping": {"items": "data[", "title": "t", "colour": "x"},
            "surprise": 1,
        }
    )
    assert set(found) >= {
        "/id",
        "/credibility",
        "/enabled",
        "/mapping/items",
        "/mapping/colour",
        "/surprise",
    }


def test_html_selectors_are_checked():
    found = problems(
        {
            "id": "x",
            "kind": "html",
            "url": "https://a.example.org",
            "mapping": {"item": "li[[", "title": "a@"},
        }
    )
    assert "CSS" in found["/mapping/item"]
    assert "attribute" in found["/mapping/title"]


def test_unknown_kind_and_hot_list():
    assert "/kind" in problems({"id": "x", "kind": "telegram"})
    assert "/hotlist" in problems({"id": "x", "kind": "hotlist", "hotlist": "myspace"})


def test_the_path_id_wins_and_must_agree():
    assert "/id" in problems({"id": "other", "kind": "hotlist", "hotlist": "weibo"}, "mine")
    assert parse_definition({"kind": "hotlist", "hotlist": "weibo"}, "mine").id == "mine"


def test_as_dict_round_trips():
    source = parse_definition(
        {
            "id": "x",
            "kind": "json",
            "url": "https://a.example.org/api",
            "mapping": {"items": "a", "title": "t"},
        }
    )
    assert parse_definition(source.as_dict()) == source
