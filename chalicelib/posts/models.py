"""The item every source produces and every consumer reads: the seam between crawling and scoring.

An :class:`Item` is what an adapter makes of one entry in a feed, hot list or page, or what a
person reports (人工上报). It is plain data with no I/O. Its :attr:`Item.post_id` is derived from
the canonical URL (or, without one, from the source and the platform's own id), so the same
entry crawled twice, or delivered twice by SQS, is the same post and is written once.

People name a platform the way they speak of it (微博, 抖音, 公众号) or not at all and paste a link:
:func:`parse_platform` and :func:`platform_for_url` turn either into a :class:`Platform`, so the
API takes what a person writes and the trends still count one platform under one id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

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

# What people write for a platform besides its id and label (matched after strip + casefold):
# the kind's other names and the big services of each kind. 小红书 is a notes community (社区),
# counted with the forums.
PLATFORM_ALIASES: dict[str, Platform] = {
    "新浪微博": Platform.WEIBO,
    "贴吧": Platform.FORUM,
    "百度贴吧": Platform.FORUM,
    "社区": Platform.FORUM,
    "豆瓣": Platform.FORUM,
    "天涯": Platform.FORUM,
    "虎扑": Platform.FORUM,
    "小红书": Platform.FORUM,
    "新闻网站": Platform.NEWS,
    "新闻客户端": Platform.NEWS,
    "媒体": Platform.NEWS,
    "今日头条": Platform.NEWS,
    "头条": Platform.NEWS,
    "澎湃新闻": Platform.NEWS,
    "视频": Platform.VIDEO,
    "抖音": Platform.VIDEO,
    "快手": Platform.VIDEO,
    "视频号": Platform.VIDEO,
    "b站": Platform.VIDEO,
    "哔哩哔哩": Platform.VIDEO,
    "bilibili": Platform.VIDEO,
    "西瓜视频": Platform.VIDEO,
    "公众号": Platform.WECHAT,
    "微信公众号": Platform.WECHAT,
    "朋友圈": Platform.WECHAT,
    "微信群": Platform.WECHAT,
    "知乎": Platform.QA,
    "百度知道": Platform.QA,
    "政府网站": Platform.GOV,
    "政务": Platform.GOV,
    "其它": Platform.OTHER,
}

# Which platform a link is on, by its host: the host itself or its nearest listed parent domain
# (``m.weibo.cn`` → ``weibo.cn``; ``channels.weixin.qq.com``, 视频号, before ``weixin.qq.com``).
# Portals whose pages are articles (163.com, sohu.com, sina.com.cn) count as news; hosts of
# many services (qq.com, baidu.com) are listed only by their known subdomains.
PLATFORM_HOSTS: dict[str, Platform] = {
    "weibo.com": Platform.WEIBO,
    "weibo.cn": Platform.WEIBO,
    "tieba.baidu.com": Platform.FORUM,
    "tianya.cn": Platform.FORUM,
    "douban.com": Platform.FORUM,
    "hupu.com": Platform.FORUM,
    "xiaohongshu.com": Platform.FORUM,
    "xhslink.com": Platform.FORUM,
    "toutiao.com": Platform.NEWS,
    "thepaper.cn": Platform.NEWS,
    "news.qq.com": Platform.NEWS,
    "new.qq.com": Platform.NEWS,
    "inews.qq.com": Platform.NEWS,
    "sina.com.cn": Platform.NEWS,
    "sina.cn": Platform.NEWS,
    "163.com": Platform.NEWS,
    "sohu.com": Platform.NEWS,
    "ifeng.com": Platform.NEWS,
    "people.com.cn": Platform.NEWS,
    "xinhuanet.com": Platform.NEWS,
    "news.cn": Platform.NEWS,
    "chinanews.com.cn": Platform.NEWS,
    "chinanews.com": Platform.NEWS,
    "cctv.com": Platform.NEWS,
    "cnr.cn": Platform.NEWS,
    "gmw.cn": Platform.NEWS,
    "chinadaily.com.cn": Platform.NEWS,
    "bjnews.com.cn": Platform.NEWS,
    "caixin.com": Platform.NEWS,
    "douyin.com": Platform.VIDEO,
    "iesdouyin.com": Platform.VIDEO,
    "kuaishou.com": Platform.VIDEO,
    "bilibili.com": Platform.VIDEO,
    "b23.tv": Platform.VIDEO,
    "ixigua.com": Platform.VIDEO,
    "v.qq.com": Platform.VIDEO,
    "channels.weixin.qq.com": Platform.VIDEO,
    "weixin.qq.com": Platform.WECHAT,
    "zhihu.com": Platform.QA,
    "zhidao.baidu.com": Platform.QA,
    "gov.cn": Platform.GOV,
}

_PLATFORM_NAMES: dict[str, Platform] = {
    **{p.value: p for p in Platform},
    **{label: p for p, label in PLATFORM_LABELS.items()},
    **PLATFORM_ALIASES,
}


def parse_platform(value: object) -> Platform | None:
    """The platform a person named: its id (``weibo``), label (``微博``) or another name
    (``抖音``, ``公众号``), in any letter case and with spaces around; None if it names none."""
    if not isinstance(value, str):
        return None
    return _PLATFORM_NAMES.get(value.strip().casefold())


def platform_for_url(url: str) -> Platform | None:
    """The platform of a link, from its host (:data:`PLATFORM_HOSTS`); None if not listed."""
    try:
        host = urlsplit(url).hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    labels = (host or "").rstrip(".").split(".")
    for start in range(len(labels)):  # the longest listed suffix wins
        found = PLATFORM_HOSTS.get(".".join(labels[start:]))
        if found is not None:
            return found
    return None


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
