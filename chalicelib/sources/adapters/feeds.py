"""RSS and Atom feeds (and RSSHub routes, which are RSS), through feedparser.

feedparser is given the bytes, never a URL: handed a string that looks like a URL it would fetch
it itself, past the fetcher's guard. It detects the encoding from the XML declaration (GBK feeds
included) and drops external entities.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

import feedparser

from chalicelib.posts.models import Item
from chalicelib.sources.adapters import ParseContext, collect, make_item
from chalicelib.sources.errors import SourceParseError


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def parse_feed(body: bytes, ctx: ParseContext) -> list[Item]:
    parsed = feedparser.parse(
        body, response_headers={"content-location": ctx.base_url, **_content_type(ctx)}
    )
    entries = parsed.get("entries") or []
    if not parsed.get("version") and not entries:
        problem = parsed.get("bozo_exception")
        raise SourceParseError(f"not an RSS or Atom feed: {problem or 'no feed elements'}")
    if parsed.get("bozo") and not entries:
        raise SourceParseError(f"malformed feed: {parsed.get('bozo_exception')}")
    items = []
    for entry in entries:
        text = entry.get("summary") or ""
        if not text and entry.get("content"):
            text = entry["content"][0].get("value", "")
        items.append(
            make_item(
                ctx,
                title=entry.get("title") or text[:80],
                url=entry.get("link"),
                text=text,
                author=entry.get("author"),
                published=_entry_time(entry),
                external_id=entry.get("id"),
            )
        )
    return collect(items)


def _content_type(ctx: ParseContext) -> dict[str, str]:
    return {"content-type": ctx.content_type} if ctx.content_type else {}
