"""The item every source produces and every consumer reads: the seam between crawling and scoring.

An :class:`Item` is what an adapter makes of one entry in a feed, hot list or page, or what a
person reports (人工上报). It is plain data with no I/O. Its :attr:`Item.post_id` is derived from
the canonical URL (or, without one, from the source and the platform's own id), so the same
entry crawled twice, or delivered twice by SQS, is the same post and is written once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib.core.clock import iso


class Platform(StrEnum):
    """Where an item was published (平台类型)."""

    WEIBO = "weibo"  # 微博
    FORUM = "forum"  # 论坛 / 贴吧
    NEWS = "news"  # 新闻
    VIDEO = "video"  # 短视频
    WECHAT = "wechat"  # 微信
    QA = "qa"  # 问答 (知乎)
    GOV = "gov"  # 政务网站
    REPORT = "report"  # 人工上报
    OTHER = "other"  # 其他

    @property
    def label(self) -> str:
        return PLATFORM_LABELS[self]


PLATFORM_LABELS: dict[Platform, str] = {
    Platform.WEIBO: "微博",
    Platform.FORUM: "论坛",
    Platform.NEWS: "新闻",
    Platform.VIDEO: "短视频",
    Platform.WECHAT: "微信",
    Platform.QA: "问答",
    Platform.GOV: "政务网站",
    Platform.REPORT: "人工上报",
    Platform.OTHER: "其他",
}

# Engagement counters an adapter may fill; absent ones are simply not known for that platform.
ENGAGEMENT_KEYS = ("heat", "views", "likes", "comments", "reposts")


def post_id_for(source_id: str, url: str | None, external_id: str | None, title: str) -> str:
    """Stable post id: ``p`` + 32 hex chars of SHA-256 over the most stable key available."""
    if url:
        key = f"url:{url}"
    elif external_id:
        key = f"ext:{source_id}:{external_id}"
    else:
        key = f"title:{source_id}:{title}"
    return "p" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Item:
    """One crawled or reported entry, normalised across platforms."""

    source_id: str
    platform: Platform
    title: str
    fetched_at: datetime
    url: str | None = None  # canonical: scheme+host lower-cased, fragment and tracking params off
    text: str = ""
    author: str | None = None
    published_at: datetime | None = None
    engagement: dict[str, int] = field(default_factory=dict)
    rank: int | None = None  # position on a hot list, 1 = top
    external_id: str | None = None  # the platform's own id when it gives one
    drill: bool = False

    @property
    def post_id(self) -> str:
        return post_id_for(self.source_id, self.url, self.external_id, self.title)

    @property
    def content(self) -> str:
        """Title and text as one string, for scoring and clustering."""
        if self.text and self.title and not self.text.startswith(self.title):
            return f"{self.title}\n{self.text}"
        return self.text or self.title

    def to_record(self) -> dict[str, Any]:
        """The post's attributes as stored (without scores; a sink adds those).

        No ``day``: that attribute puts a post into the feed index (``by_day``), and only the
        scoring sink decides which posts belong there (:func:`feed_day`).
        """
        seen = self.published_at or self.fetched_at
        return {
            "pk": self.post_id,
            "source_id": self.source_id,
            "platform": self.platform.value,
            "title": self.title,
            "text": self.text,
            "url": self.url,
            "author": self.author,
            "published_at": iso(self.published_at) if self.published_at else None,
            "fetched_at": iso(self.fetched_at),
            "seen_at": iso(seen),
            "engagement": dict(self.engagement),
            "rank": self.rank,
            "external_id": self.external_id,
            "drill": self.drill,
        }


def feed_day(seen_at: str) -> str:
    """The ``day`` (UTC date) under which a post appears in the feed index ``by_day``."""
    return seen_at[:10]
