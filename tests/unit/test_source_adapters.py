"""Each adapter on its platform's response format: pure, bytes in → items out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.posts.models import Platform
from chalicelib.sources.adapters import ParseContext, make_item
from chalicelib.sources.adapters.feeds import parse_feed
from chalicelib.sources.adapters.generic import parse_html, parse_json
from chalicelib.sources.adapters.hotlists import HOTLISTS
from chalicelib.sources.adapters.newsnow import parse_newsnow
from chalicelib.sources.errors import SourceParseError
from chalicelib.sources.text import parse_count, parse_time
from chalicelib.sources.urls import canonical_url
from tests.sources_server import fixture_bytes

FETCHED = datetime(2023, 11, 15, 12, 0, tzinfo=UTC)


def ctx(platform: Platform = Platform.OTHER, **kwargs: Any) -> ParseContext:
    return ParseContext(
        source_id="s1",
        platform=platform,
        fetched_at=FETCHED,
        base_url=kwargs.pop("base_url", "https://example.org/feed"),
        **kwargs,
    )


# (hot list, fixture, expected count, first title, first url prefix, first heat key and value)
HOTLIST_CASES = [
    (
        "weibo",
        "weibo_hotsearch.json",
        3,
        "滨江市第一人民医院回应患者投诉",
        "https://s.weibo.com/weibo?q=",
        ("heat", 1523367),
    ),
    (
        "baidu",
        "baidu_board.html",
        2,
        "滨江大学宿舍楼停电",
        "https://www.baidu.com/s?wd=",
        ("heat", 4960813),
    ),
    (
        "zhihu",
        "zhihu_hot_list.json",
        2,
        "如何看待滨江市第一人民医院的回应？",
        "https://www.zhihu.com/question/630000001",
        ("heat", 15230000),
    ),
    (
        "toutiao",
        "toutiao_hot_board.json",
        2,
        "滨江市卫健委通报医院投诉处理进展",
        "https://www.toutiao.com/trending/7300000000000000001/",
        ("heat", 23014567),
    ),
    (
        "bilibili",
        "bilibili_popular.json",
        2,
        "实拍滨江大学食堂新菜单",
        "https://www.bilibili.com/video/BV1xx411c7mD",
        ("views", 1234567),
    ),
    (
        "tieba",
        "tieba_topic_list.json",
        2,
        "滨江大学宿舍停电事件",
        "https://tieba.baidu.com/hottopic/browse/hottopic?topic_id=31000001",
        ("heat", 1890234),
    ),
    (
        "thepaper",
        "thepaper_right_sidebar.json",
        2,
        "滨江市第一人民医院就患者投诉发布情况通报",
        "https://www.thepaper.cn/newsDetail_forward_25000001",
        ("likes", 1203),
    ),
    (
        "tencent",
        "tencent_hot_ranking.json",
        2,
        "滨江大学回应宿舍停电：已全面排查线路",
        "https://view.inews.qq.com/a/20231115A00001",
        ("heat", 4567890),
    ),
    (
        "netease",
        "netease_hot_news.json",
        2,
        "滨江市第一人民医院通报患者投诉处理结果",
        "https://www.163.com/dy/article/IJ0000001.html",
        ("comments", 2345),
    ),
]


@pytest.mark.parametrize(("name", "fixture", "count", "title", "url", "heat"), HOTLIST_CASES)
def test_hot_list_adapter_reads_rank_title_link_and_heat(name, fixture, count, title, url, heat):
    hotlist = HOTLISTS[name]
    items = hotlist.parse(fixture_bytes(fixture), ctx(hotlist.platform))
    assert len(items) == count
    first = items[0]
    assert first.title == title
    assert first.url is not None
    assert first.url.startswith(url)
    assert first.rank == 1
    assert first.engagement[heat[0]] == heat[1]
    assert first.platform is hotlist.platform
    assert [i.rank for i in items] == sorted(i.rank for i in items if i.rank is not None)


def test_weibo_skips_promoted_entries_and_keeps_real_positions():
    items = HOTLISTS["weibo"].parse(fixture_bytes("weibo_hotsearch.json"), ctx(Platform.WEIBO))
    assert "某品牌新品发布" not in [i.title for i in items]
    assert [i.rank for i in items] == [1, 3, 4]


def test_tencent_skips_the_header_card_and_baidu_the_pinned_entry():
    tencent = HOTLISTS["tencent"].parse(fixture_bytes("tencent_hot_ranking.json"), ctx())
    assert "腾讯新闻热点榜" not in [i.title for i in tencent]
    baidu = HOTLISTS["baidu"].parse(fixture_bytes("baidu_board.html"), ctx())
    assert "置顶的官方消息" not in [i.title for i in baidu]


def test_netease_times_are_beijing_time():
    items = HOTLISTS["netease"].parse(fixture_bytes("netease_hot_news.json"), ctx())
    assert items[0].published_at == datetime(2023, 11, 15, 2, 0, tzinfo=UTC)


def test_tracking_parameters_are_dropped_from_links():
    items = HOTLISTS["zhihu"].parse(fixture_bytes("zhihu_hot_list.json"), ctx())
    assert items[1].url == "https://www.zhihu.com/question/630000002"


@pytest.mark.parametrize("name", sorted(HOTLISTS))
def test_hot_list_adapters_refuse_a_body_of_another_shape(name):
    with pytest.raises(SourceParseError):
        HOTLISTS[name].parse(b'{"unexpected": true}', ctx())


@pytest.mark.parametrize("name", sorted(set(HOTLISTS) - {"baidu"}))
def test_hot_list_adapters_refuse_malformed_json(name):
    with pytest.raises(SourceParseError, match="malformed JSON"):
        HOTLISTS[name].parse(fixture_bytes("malformed.json"), ctx())


def test_bilibili_risk_control_answer_is_an_error_not_an_empty_list():
    with pytest.raises(SourceParseError, match="-352"):
        HOTLISTS["bilibili"].parse(fixture_bytes("bilibili_risk_control.json"), ctx())


def test_rss_feed_items_carry_text_author_time_and_a_canonical_link():
    items = parse_feed(fixture_bytes("rss_feed.xml"), ctx(Platform.FORUM))
    assert [i.title for i in items] == ["一院急诊让人心寒", "滨江大学开放日安排"]
    first = items[0]
    assert first.url == "https://forum.example.org/t/1001"
    assert first.text == "昨晚在 滨江市第一人民医院 急诊等了三个小时。"
    assert first.author == "路人甲"
    assert first.published_at == datetime(2023, 11, 15, 13, 5, tzinfo=UTC)
    assert first.external_id == "forum-1001"
    assert items[1].published_at == datetime(2023, 11, 15, 0, 0, tzinfo=UTC)


def test_atom_feed_is_read_too():
    items = parse_feed(fixture_bytes("atom_feed.xml"), ctx(Platform.GOV))
    assert len(items) == 1
    assert items[0].author == "滨江市卫健委"
    assert items[0].url == "https://gov.example.org/news/2023/1115.html"


def test_gbk_feed_decodes_correctly():
    items = parse_feed(fixture_bytes("gbk_feed.xml"), ctx(Platform.FORUM))
    assert items[0].title == "医院停车难，谁来管管"
    assert items[0].text == "每天早上排队一小时"


@pytest.mark.parametrize("body", [b"", b"<html><body>not a feed</body></html>", b"{}"])
def test_feed_adapter_refuses_what_is_not_a_feed(body):
    with pytest.raises(SourceParseError):
        parse_feed(body, ctx())


def test_malformed_feed_is_a_parse_error():
    with pytest.raises(SourceParseError):
        parse_feed(fixture_bytes("malformed_feed.xml"), ctx())


def test_newsnow_aggregator_maps_the_feed_to_its_platform():
    items = parse_newsnow(fixture_bytes("newsnow_weibo.json"), ctx())
    assert [i.title for i in items] == ["滨江市第一人民医院回应患者投诉", "暴雨预警"]
    assert {i.platform for i in items} == {Platform.WEIBO}
    assert items[1].engagement == {"heat": 650000}
    assert items[1].url is not None
    assert "utm_source" not in items[1].url


def test_generic_json_mapping_with_jmespath():
    mapping = {
        "items": "result.threads",
        "title": "subject",
        "text": "body",
        "url": "link",
        "author": "user.nick",
        "published": "created",
        "id": "tid",
        "comments": "stats.replies",
        "views": "stats.views",
    }
    items = parse_json(
        fixture_bytes("generic_forum.json"),
        ctx(Platform.FORUM, base_url="https://bbs.example.org/api/threads", mapping=mapping),
    )
    assert len(items) == 2
    first = items[0]
    assert first.title == "滨江一院急诊排队三小时没人管"
    assert first.url == "https://bbs.example.org/thread/9001"
    assert first.author == "滨江老王"
    assert first.engagement == {"comments": 56, "views": 3400}
    assert first.external_id == "9001"
    assert first.published_at == datetime(2023, 11, 15, 13, 5, tzinfo=UTC)


def test_generic_json_items_expression_must_give_a_list():
    with pytest.raises(SourceParseError, match="did not give a list"):
        parse_json(
            b'{"result": {"threads": 3}}', ctx(mapping={"items": "result.threads", "title": "a"})
        )


def test_generic_html_on_a_gbk_page_with_selectors():
    mapping = {
        "item": "ul.news li",
        "title": "a",
        "url": "a@href",
        "published": ".date",
        "text": ".summary",
    }
    items = parse_html(
        fixture_bytes("gbk_portal.html"),
        ctx(Platform.GOV, base_url="http://gov.example.org/xxgk/", mapping=mapping),
    )
    assert [i.title for i in items] == ["关于规范医疗服务收费的通知", "滨江大学新校区建设进展"]
    assert items[0].url == "http://gov.example.org/xxgk/2023/001.html"
    assert items[1].url == "http://gov.example.org/xxgk/2023/002.html"
    assert items[0].text == "各医疗机构：为进一步规范……"
    assert items[0].published_at == datetime(2023, 11, 14, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "count"),
    [
        (float("nan"), None),
        (float("inf"), None),
        (1e300, None),
        (10**40, None),
        (-5, None),
        ("9" * 5000 + "万", None),
        ("1.2亿", 120_000_000),
        ("3,400 热度", 3400),
        (True, None),
        (2.6, 3),
    ],
)
def test_counts_that_are_not_finite_or_beyond_any_platform_are_unknown(
    value: Any, count: int | None
) -> None:
    assert parse_count(value) == count


@pytest.mark.parametrize("value", ["²", "١٧٠٠٠٠٠٠٠٠", "9" * 400, float("nan"), 1e300])
def test_times_that_cannot_be_read_are_unknown(value: Any) -> None:
    assert parse_time(value) is None


@pytest.mark.parametrize("url", ["http://[broken", "https://[::1", "http://a]b:99999999/"])
def test_urls_that_do_not_parse_are_dropped(url: str) -> None:
    assert canonical_url(url) is None


def test_an_item_keeps_only_what_can_be_stored() -> None:
    item = make_item(
        ctx(),
        title="标题\x00\ud83d",
        url="http://[broken",
        text="正文\x1b[31m",
        author="\udfff",
        engagement={"views": float("nan"), "likes": 10**40, "reposts": 7},
        rank=10**20,
        external_id="i" * 1000 + "\x00",
    )
    assert item is not None
    assert (item.title, item.text, item.author) == ("标题\ufffd", "正文[31m", "\ufffd")
    assert item.url is None
    assert item.engagement == {"reposts": 7}
    assert item.rank is None
    assert item.external_id == "i" * 200
