"""Crawled pages that answer with what JSON and our tables cannot hold: NaN, numbers beyond any
count, lone surrogates, control characters, broken URLs, nesting past the recursion limit.

A source's failure is an outcome (decision 16), never a crashed batch: a response with no JSON
to speak of is a recorded ``parse_error``; a response whose entries carry a few unusable values
is crawled, each value cleaned (text repaired, unusable numbers dropped), so one broken emoji
in one title does not blind the monitoring of a whole hot list.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.test import Client

from tests.functional.test_crawl import Env, env, http_server  # noqa: F401
from tests.sources_server import Route

JSON = "application/json; charset=utf-8"
MAPPING = {
    "items": "result.threads",
    "title": "subject",
    "url": "link",
    "text": "body",
    "author": "user",
    "published": "created",
    "id": "tid",
    "views": "views",
    "likes": "likes",
}
HOSTILE_PAGE = (
    '{"result": {"threads": ['
    '{"subject": "滨江一院\\ud800回应", "link": "/t/1", "views": NaN, "likes": Infinity,'
    ' "tid": 1234567890123456789012345678901234567890123, "created": "²", "user": "\\udfff"},'
    '{"subject": "第二条\\u0000帖子\\u001b", "link": "http://[broken", "views": 1e400,'
    ' "likes": "' + "9" * 5000 + '万", "body": "正文\\uffff", "tid": ' + "7" * 5000 + "},"
    '{"subject": "正常帖子", "link": "/t/3", "views": 120, "rank": 1}'
    "]}}"
)


def _posts(world: Env) -> list[dict[str, Any]]:
    return [dict(i) for i in world.posts.scan()["Items"]]


def test_a_page_with_nan_surrogates_and_huge_numbers_is_crawled_with_those_values_cleaned(
    env: Env,  # noqa: F811
) -> None:
    # GIVEN a JSON source whose entries carry NaN, Infinity, 5,000-digit numbers, lone
    # surrogates, NUL and escape characters, a broken URL and an unreadable time
    env.add(
        "forum",
        "/api",
        Route(body=HOSTILE_PAGE.encode(), content_type=JSON),
        kind="json",
        mapping=MAPPING,
    )
    # WHEN it is crawled
    report = env.service.crawl("forum")
    # THEN the crawl succeeds with every entry, each stored with what could be kept
    assert report.outcome == "ok", report.error
    assert (report.items, report.new) == (3, 3)
    posts = {p["title"]: p for p in _posts(env)}
    assert set(posts) == {"滨江一院\ufffd回应", "第二条帖子", "正常帖子"}
    first, second = posts["滨江一院\ufffd回应"], posts["第二条帖子"]
    assert first["engagement"] == {}
    assert "author" not in first or first["author"] in (None, "\ufffd")
    assert "published_at" not in first or first["published_at"] is None
    assert second["engagement"] == {}
    assert second["text"] == "正文"
    assert "url" not in second or second["url"] is None
    assert posts["正常帖子"]["engagement"] == {"views": 120}
    assert env.store.require("forum").health.last_items == 3


NO_JSON = [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"result": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"result": {"threads": NaN}}',
    b"\xff\xfe\x00{",
]


def test_a_page_with_no_usable_json_is_a_recorded_parse_error(env: Env) -> None:  # noqa: F811
    for i, body in enumerate(NO_JSON):
        source = f"forum-{i}"
        env.add(
            source, f"/api/{i}", Route(body=body, content_type=JSON), kind="json", mapping=MAPPING
        )
        report = env.service.crawl(source)
        assert report.outcome == "failed", body[:40]
        assert report.error is not None
        assert report.error["code"] == "parse_error"
        assert env.store.require(source).health.last_error_code == "parse_error"
    assert _posts(env) == []


HOSTILE_MESSAGES = [
    json.dumps({"source_id": "\ud800"}),
    json.dumps({"source_id": "forum\u0000"}),
    json.dumps({"source_id": "forum\n"}),
    json.dumps({"source_id": "forum", "due_at": ["x"]}),
    "[" * 100_000,
    '{"source_id": "forum", "due_at": NaN}',
]


def test_the_worker_drops_a_hostile_queue_message(
    env: Env,  # noqa: F811
    api_client: Client,
) -> None:
    env.add("forum", "/api", Route(body=b"{}", content_type=JSON), kind="json", mapping=MAPPING)
    for message in HOSTILE_MESSAGES:
        event = api_client.events.generate_sqs_event(
            message_bodies=[message], queue_name="yuqing-local-crawl"
        )
        answer = api_client.lambda_.invoke("crawl_worker", event).payload
        assert answer == {"reports": [None]}, message[:40]
    assert env.store.require("forum").health.last_attempt_at is None
