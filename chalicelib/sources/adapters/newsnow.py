"""A newsnow-compatible aggregator (``GET <base>/api/s?id=<feed>``).

newsnow (and compatible self-hosted aggregators) answer every feed in one shape:
``{"status": "success"|"cache", "id", "updatedTime", "items": [{"id", "title", "url",
"mobileUrl", "pubDate", "extra": {"info", "hover"}}]}``. The feed id says which platform it is.
"""

from __future__ import annotations

from typing import Any

from chalicelib.posts.models import Item, Platform
from chalicelib.sources.adapters import ParseContext, collect, load_json, make_item
from chalicelib.sources.errors import SourceParseError
from chalicelib.sources.text import parse_time

# Feed id prefix → platform; anything else is the source's own platform.
FEED_PLATFORMS: dict[str, Platform] = {
    "weibo": Platform.WEIBO,
    "zhihu": Platform.QA,
    "bilibili": Platform.VIDEO,
    "douyin": Platform.VIDEO,
    "kuaishou": Platform.VIDEO,
    "tieba": Platform.FORUM,
    "hupu": Platform.FORUM,
    "v2ex": Platform.FORUM,
    "nowcoder": Platform.FORUM,
    "baidu": Platform.NEWS,
    "toutiao": Platform.NEWS,
    "thepaper": Platform.NEWS,
    "ifeng": Platform.NEWS,
    "tencent": Platform.NEWS,
    "netease": Platform.NEWS,
    "cls": Platform.NEWS,
    "wallstreetcn": Platform.NEWS,
    "zaobao": Platform.NEWS,
}


def feed_platform(feed: str, default: Platform) -> Platform:
    return FEED_PLATFORMS.get(feed.split("-", 1)[0], default)


def parse_newsnow(body: bytes, ctx: ParseContext) -> list[Item]:
    data = load_json(body, ctx)
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise SourceParseError("unexpected response shape: no items list")
    if data.get("status") not in {"success", "cache"}:
        raise SourceParseError(f"the aggregator answered status={data.get('status')!r}")
    platform = feed_platform(str(data.get("id") or ctx.options.get("feed", "")), ctx.platform)
    items = []
    for rank, entry in enumerate(data["items"], start=1):
        if not isinstance(entry, dict):
            continue
        extra: dict[str, Any] = entry["extra"] if isinstance(entry.get("extra"), dict) else {}
        info = extra.get("info")
        items.append(
            make_item(
                ctx,
                title=entry.get("title"),
                url=entry.get("url") or entry.get("mobileUrl"),
                text=extra.get("hover") or "",
                published=parse_time(entry.get("pubDate") or extra.get("date")),
                engagement={"heat": info} if isinstance(info, str | int) else None,
                rank=rank,
                external_id=entry.get("id"),
                platform=platform,
            )
        )
    return collect(items)
