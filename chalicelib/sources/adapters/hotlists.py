"""Hot lists (热榜) that need no login, one parser per platform.

Each parser reads the response the platform's own web page calls (the endpoints open-source
aggregators fetch, DESIGN.md §6) and keeps rank, title, link and heat where the platform gives
them. Platforms change these without notice: an unexpected shape raises
:class:`SourceParseError` with what was missing, so the source's health shows the break.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from chalicelib.posts.models import Item, Platform
from chalicelib.sources.adapters import ParseContext, collect, load_json, make_item
from chalicelib.sources.errors import SourceParseError
from chalicelib.sources.text import decode_body, parse_time


def _path(data: Any, *keys: str | int) -> Any:
    """``data[k1][k2]…`` or a parse error naming the first missing key."""
    node = data
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            where = ".".join(str(k) for k in keys)
            raise SourceParseError(f"unexpected response shape: no {where}") from None
    return node


def _list(data: Any, *keys: str | int) -> list[Any]:
    node = _path(data, *keys)
    if not isinstance(node, list):
        raise SourceParseError(
            f"unexpected response shape: {'.'.join(map(str, keys))} is not a list"
        )
    return [entry for entry in node if isinstance(entry, dict)]


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise SourceParseError(f"the platform answered with an error: {what}")


def weibo(body: bytes, ctx: ParseContext) -> list[Item]:
    """``weibo.com/ajax/side/hotSearch``: ``data.realtime[]`` with word, num, realpos."""
    data = load_json(body, ctx)
    _check(data.get("ok") == 1, f"ok={data.get('ok')!r}")
    items = []
    for position, entry in enumerate(_list(data, "data", "realtime"), start=1):
        if entry.get("is_ad"):  # promoted entries are not opinion
            continue
        word = entry.get("word") or entry.get("note")
        rank = entry.get("realpos") or entry.get("rank")
        items.append(
            make_item(
                ctx,
                title=word,
                url=f"https://s.weibo.com/weibo?q={quote('#' + str(word) + '#')}",
                text=entry.get("note") if entry.get("note") != word else "",
                engagement={"heat": entry.get("num")},
                rank=int(rank) if isinstance(rank, int) and rank > 0 else position,
                external_id=entry.get("mid") or word,
            )
        )
    return collect(items)


_BAIDU_DATA = re.compile(r"<!--s-data:(.*?)-->", re.DOTALL)


def baidu(body: bytes, ctx: ParseContext) -> list[Item]:
    """``top.baidu.com/board?tab=realtime``: the page embeds its data as ``<!--s-data:{…}-->``."""
    match = _BAIDU_DATA.search(decode_body(body, ctx.content_type))
    if not match:
        raise SourceParseError("unexpected page: no s-data block")
    data = load_json(match.group(1).encode("utf-8"), ctx)
    items = []
    ranked = [e for e in _list(data, "data", "cards", 0, "content") if not e.get("isTop")]
    for rank, entry in enumerate(ranked, start=1):  # the pinned official entry is not ranked
        items.append(
            make_item(
                ctx,
                title=entry.get("word") or entry.get("query"),
                url=entry.get("rawUrl") or entry.get("url"),
                text=entry.get("desc"),
                engagement={"heat": entry.get("hotScore")},
                rank=rank,
            )
        )
    return collect(items)


def zhihu(body: bytes, ctx: ParseContext) -> list[Item]:
    """``www.zhihu.com/api/v3/feed/topstory/hot-list-web``: ``data[].target`` title/link/metrics."""
    data = load_json(body, ctx)
    items = []
    for rank, entry in enumerate(_list(data, "data"), start=1):
        target = entry.get("target") or {}
        items.append(
            make_item(
                ctx,
                title=(target.get("title_area") or {}).get("text"),
                url=(target.get("link") or {}).get("url"),
                text=(target.get("excerpt_area") or {}).get("text"),
                engagement={"heat": (target.get("metrics_area") or {}).get("text")},
                rank=rank,
                external_id=entry.get("card_id"),
            )
        )
    return collect(items)


def toutiao(body: bytes, ctx: ParseContext) -> list[Item]:
    """``www.toutiao.com/hot-event/hot-board/``: ``data[]`` with Title, Url, HotValue."""
    data = load_json(body, ctx)
    _check(data.get("status", "success") == "success", f"status={data.get('status')!r}")
    items = []
    for rank, entry in enumerate(_list(data, "data"), start=1):
        items.append(
            make_item(
                ctx,
                title=entry.get("Title"),
                url=entry.get("Url"),
                engagement={"heat": entry.get("HotValue")},
                rank=rank,
                external_id=entry.get("ClusterIdStr") or entry.get("ClusterId"),
            )
        )
    return collect(items)


def bilibili(body: bytes, ctx: ParseContext) -> list[Item]:
    """``api.bilibili.com/x/web-interface/popular``: ``data.list[]`` videos with ``stat``."""
    data = load_json(body, ctx)
    _check(data.get("code") == 0, f"code={data.get('code')!r} {data.get('message', '')}")
    items = []
    for rank, entry in enumerate(_list(data, "data", "list"), start=1):
        stat = entry.get("stat") or {}
        bvid = entry.get("bvid")
        items.append(
            make_item(
                ctx,
                title=entry.get("title"),
                url=f"https://www.bilibili.com/video/{bvid}"
                if bvid
                else entry.get("short_link_v2"),
                text=entry.get("desc"),
                author=(entry.get("owner") or {}).get("name"),
                published=parse_time(entry.get("pubdate")),
                engagement={
                    "views": stat.get("view"),
                    "likes": stat.get("like"),
                    "comments": stat.get("reply"),
                    "reposts": stat.get("share"),
                },
                rank=rank,
                external_id=bvid or entry.get("aid"),
            )
        )
    return collect(items)


def tieba(body: bytes, ctx: ParseContext) -> list[Item]:
    """``tieba.baidu.com/hottopic/browse/topicList``: ``data.bang_topic.topic_list[]``."""
    data = load_json(body, ctx)
    _check(data.get("errno") == 0, f"errno={data.get('errno')!r} {data.get('errmsg', '')}")
    items = []
    for position, entry in enumerate(_list(data, "data", "bang_topic", "topic_list"), start=1):
        rank = entry.get("idx_num")
        items.append(
            make_item(
                ctx,
                title=entry.get("topic_name"),
                url=entry.get("topic_url"),
                text=entry.get("topic_desc") or entry.get("abstract"),
                published=parse_time(entry.get("create_time")),
                engagement={"heat": entry.get("discuss_num")},
                rank=rank if isinstance(rank, int) and rank > 0 else position,
                external_id=entry.get("topic_id"),
            )
        )
    return collect(items)


def thepaper(body: bytes, ctx: ParseContext) -> list[Item]:
    """``cache.thepaper.cn/contentapi/wwwIndex/rightSidebar``: ``data.hotNews[]``."""
    data = load_json(body, ctx)
    _check(data.get("resultCode") == 1, f"resultCode={data.get('resultCode')!r}")
    items = []
    for rank, entry in enumerate(_list(data, "data", "hotNews"), start=1):
        cont_id = entry.get("contId")
        items.append(
            make_item(
                ctx,
                title=entry.get("name"),
                url=f"https://www.thepaper.cn/newsDetail_forward_{cont_id}" if cont_id else None,
                published=parse_time(entry.get("pubTimeLong")),
                engagement={
                    "likes": entry.get("praiseTimes"),
                    "comments": entry.get("interactionNum"),
                },
                rank=rank,
                external_id=cont_id,
            )
        )
    return collect(items)


def tencent(body: bytes, ctx: ParseContext) -> list[Item]:
    """``r.inews.qq.com/gw/event/hot_ranking_list``: ``idlist[0].newslist[]``; the first entry is
    the list's own header card, recognisable by having no ``hotEvent``."""
    data = load_json(body, ctx)
    _check(data.get("ret") == 0, f"ret={data.get('ret')!r}")
    items = []
    for entry in _list(data, "idlist", 0, "newslist"):
        hot = entry.get("hotEvent")
        if not isinstance(hot, dict):
            continue
        items.append(
            make_item(
                ctx,
                title=entry.get("title"),
                url=entry.get("url"),
                text=entry.get("abstract"),
                author=entry.get("source"),
                published=parse_time(entry.get("timestamp")),
                engagement={"heat": hot.get("hotScore"), "views": entry.get("readCount")},
                rank=hot.get("ranking") if isinstance(hot.get("ranking"), int) else None,
                external_id=entry.get("id"),
            )
        )
    return collect(items)


def netease(body: bytes, ctx: ParseContext) -> list[Item]:
    """``m.163.com/fe/api/hot/news/flow``: ``data.list[]`` articles by ``docid``."""
    data = load_json(body, ctx)
    _check(data.get("code") == 200, f"code={data.get('code')!r}")
    items = []
    for rank, entry in enumerate(_list(data, "data", "list"), start=1):
        docid = entry.get("docid")
        items.append(
            make_item(
                ctx,
                title=entry.get("title"),
                url=f"https://www.163.com/dy/article/{docid}.html" if docid else None,
                author=entry.get("source"),
                published=parse_time(entry.get("ptime")),
                engagement={"comments": entry.get("replyCount")},
                rank=rank,
                external_id=docid,
            )
        )
    return collect(items)


@dataclass(frozen=True)
class HotList:
    """A known hot list: where it lives, what platform it is, how to read it."""

    name: str
    label: str
    url: str
    platform: Platform
    parse: Callable[[bytes, ParseContext], list[Item]]
    # The page itself is HTML: robots.txt applies to it (APIs are fetched as their page does).
    html: bool = False


HOTLISTS: dict[str, HotList] = {
    h.name: h
    for h in (
        HotList(
            "weibo", "微博热搜", "https://weibo.com/ajax/side/hotSearch", Platform.WEIBO, weibo
        ),
        HotList(
            "baidu",
            "百度热搜",
            "https://top.baidu.com/board?tab=realtime",
            Platform.NEWS,
            baidu,
            True,
        ),
        HotList(
            "zhihu",
            "知乎热榜",
            "https://www.zhihu.com/api/v3/feed/topstory/hot-list-web?limit=20&desktop=true",
            Platform.QA,
            zhihu,
        ),
        HotList(
            "toutiao",
            "今日头条热榜",
            "https://www.toutiao.com/hot-event/hot-board/?origin=toutiao_pc",
            Platform.NEWS,
            toutiao,
        ),
        HotList(
            "bilibili",
            "哔哩哔哩热门",
            "https://api.bilibili.com/x/web-interface/popular",
            Platform.VIDEO,
            bilibili,
        ),
        HotList(
            "tieba",
            "百度贴吧热议",
            "https://tieba.baidu.com/hottopic/browse/topicList",
            Platform.FORUM,
            tieba,
        ),
        HotList(
            "thepaper",
            "澎湃新闻热榜",
            "https://cache.thepaper.cn/contentapi/wwwIndex/rightSidebar",
            Platform.NEWS,
            thepaper,
        ),
        HotList(
            "tencent",
            "腾讯新闻热点榜",
            "https://r.inews.qq.com/gw/event/hot_ranking_list?page_size=50",
            Platform.NEWS,
            tencent,
        ),
        HotList(
            "netease",
            "网易新闻热榜",
            "https://m.163.com/fe/api/hot/news/flow",
            Platform.NEWS,
            netease,
        ),
    )
}
