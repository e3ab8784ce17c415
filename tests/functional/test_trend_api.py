"""``GET /posts``, ``/clusters`` and ``/trends`` through the app against moto.

GIVEN posts that went through the scoring sink as the crawl worker sends them (so the feed
index, the hour counts and the cluster pages are the real ones), WHEN a viewer asks for the feed,
the top clusters and the hourly lines, THEN they show those posts; bad query values are a 400
naming each parameter, and no token is a 401.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.auth.models import Role
from chalicelib.auth.store import TokenStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.ingest.wiring import build_scoring_sink
from chalicelib.plan.defaults import BUILTIN_PLAN
from chalicelib.posts.models import Item, Platform
from chalicelib.trends.service import encode_cursor
from tests.functional.test_scoring_sink import STORY

# The routes read "now" from the real clock: the posts are minutes old.
NOW = datetime.now(UTC).replace(microsecond=0)


def weibo(i: int) -> Item:
    return Item(
        source_id="weibo-search",
        platform=Platform.WEIBO,
        title="",
        text=f"转发//@网友{i}:太气人了//@当事人家属:{STORY} #市一院# http://t.cn/{i}",
        fetched_at=NOW - timedelta(minutes=20 - i),
        external_id=f"w{i}",
    )


def news(i: int) -> Item:
    return Item(
        source_id="news",
        platform=Platform.NEWS,
        title=f"市第一人民医院回应患者死亡事件 {i}",
        text="医院表示已成立调查组，家属对医疗事故的说法仍有异议。",
        fetched_at=NOW - timedelta(minutes=10 - i),
        external_id=f"n{i}",
    )


@pytest.fixture
def viewer(clients: AwsClients, settings: Settings) -> dict[str, str]:
    token = TokenStore(clients.table(settings.tables.tokens)).issue("看板", Role.VIEWER)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def fed(clients: AwsClients, settings: Settings) -> list[Item]:
    sink = build_scoring_sink(settings, clients, plan=lambda: BUILTIN_PLAN, clock=lambda: NOW)
    batch = [weibo(i) for i in range(6)] + [news(i) for i in range(2)]
    assert sink.ingest(batch, credibility=0.6).new == len(batch)
    return batch


def get(client: Client, path: str, headers: dict[str, str] | None = None) -> Any:
    return client.http.get(path, headers=headers or {})


def test_the_feed_lists_scored_posts_newest_first_with_filters_and_pages(
    api_client: Client, viewer: dict[str, str], fed: list[Item]
) -> None:
    # WHEN a viewer asks for the feed
    answer = get(api_client, "/posts", viewer)
    # THEN the feed posts come newest first, each with its score and reasons, no table keys
    assert answer.status_code == 200, answer.body
    posts = answer.json_body["posts"]
    assert posts, "the hospital story is about a subject: it is in the feed"
    seen = [p["seen_at"] for p in posts]
    assert seen == sorted(seen, reverse=True)
    assert all(p["reasons"] and "risk" in p and "pk" not in p for p in posts)
    assert {p["post_id"] for p in posts} <= {i.post_id for i in fed}

    # AND a platform filter keeps only that platform
    only_news = get(api_client, "/posts?platform=news", viewer).json_body["posts"]
    assert only_news
    assert {p["platform"] for p in only_news} == {"news"}

    # AND pages of two follow each other without repeats, to the end
    collected: list[str] = []
    cursor = ""
    for _ in range(10):
        page = get(api_client, f"/posts?limit=2{cursor}", viewer).json_body
        collected += [p["post_id"] for p in page["posts"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert collected == [p["post_id"] for p in posts]

    # AND drill posts are a separate feed (there are none here)
    assert get(api_client, "/posts?drill=true", viewer).json_body["posts"] == []


def test_bad_feed_parameters_are_a_400_naming_each(
    api_client: Client, viewer: dict[str, str]
) -> None:
    query = "level=V&limit=0&cursor=not-a-cursor&subject=Bad!&day=2026-02-30&platform=tv"
    answer = get(api_client, f"/posts?{query}", viewer)
    assert answer.status_code == 400
    paths = {p["path"] for p in answer.json_body["problems"]}
    assert paths == {"/level", "/limit", "/cursor", "/subject", "/day", "/platform"}


def test_a_cursor_for_a_day_the_feed_no_longer_reads_is_a_400(
    api_client: Client, viewer: dict[str, str], fed: list[Item]
) -> None:
    """GIVEN a cursor of three days ago (a 「加载更多」 left open over two midnights)
    WHEN the feed of today and yesterday is asked to continue from it
    THEN it is a 400 on /cursor, not the first page again."""
    old = (NOW - timedelta(days=3)).date().isoformat()
    cursor = encode_cursor({"pk": fed[0].post_id, "day": old, "seen_at": f"{old}T08:00:00+00:00"})
    answer = get(api_client, f"/posts?cursor={cursor}", viewer)
    assert answer.status_code == 400, answer.body
    assert [p["path"] for p in answer.json_body["problems"]] == ["/cursor"]
    # AND the same cursor reads that day when asked for it
    assert get(api_client, f"/posts?day={old}&cursor={cursor}", viewer).status_code == 200


def test_top_clusters_name_the_story_and_its_top_posts(
    api_client: Client, viewer: dict[str, str], fed: list[Item]
) -> None:
    answer = get(api_client, "/clusters?hours=2&by=posts", viewer)
    assert answer.status_code == 200, answer.body
    top = answer.json_body["clusters"][0]
    assert top["posts_in_window"] >= 6
    assert "医疗事故" in top["story"]
    assert top["platforms"] == ["weibo"]
    assert top["top_posts"]
    assert top["top_posts"][0]["post_id"] in {i.post_id for i in fed}
    # AND an unknown ordering or window is a 400
    bad = get(api_client, "/clusters?by=colour&hours=0", viewer)
    assert bad.status_code == 400
    assert {p["path"] for p in bad.json_body["problems"]} == {"/by", "/hours"}


def test_trends_give_one_value_per_hour_in_all_per_platform_and_per_subject(
    api_client: Client, viewer: dict[str, str], fed: list[Item]
) -> None:
    asked = datetime.now(UTC)
    answer = get(api_client, "/trends?hours=3", viewer)
    answered = datetime.now(UTC)
    assert answer.status_code == 200, answer.body
    data = answer.json_body
    # THEN three hours, the last one the current hour (the route reads the real clock, which may
    # have passed an hour since NOW was taken), and every new post counted once
    assert len(data["hours"]) == len(data["posts"]) == len(data["negative"]) == 3
    current = {moment.strftime("%Y-%m-%dT%H:00:00") for moment in (asked, answered)}
    assert data["hours"][-1][:19] in current
    assert sum(data["posts"]) == data["totals"]["posts"] == len(fed)
    by_platform = {line["platform"]: line for line in data["platforms"]}
    assert sum(by_platform["weibo"]["posts"]) == 6
    assert by_platform["weibo"]["label"] == "微博"
    assert sum(by_platform["news"]["posts"]) == 2
    assert data["subjects"], "the story is about a monitored subject"
    assert 0 <= data["totals"]["negative_share"] <= 1
    assert get(api_client, "/trends?hours=169", viewer).status_code == 400


@pytest.mark.parametrize("path", ["/posts", "/clusters", "/trends"])
def test_the_picture_needs_a_token(api_client: Client, moto: dict[str, str], path: str) -> None:
    assert get(api_client, path).status_code == 401
