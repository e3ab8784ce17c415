"""A report's platform as people give it: a name they write, or the host of the link they paste
(decision 78). Pure: ``parse_platform``, ``platform_for_url``, ``parse_report``, and the same
names in source definitions and drill scenarios."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.errors import ValidationError
from chalicelib.drills.scenario import parse_request
from chalicelib.posts.models import PLATFORM_LABELS, Platform, parse_platform, platform_for_url
from chalicelib.reports.service import parse_report
from chalicelib.sources.models import parse_definition

REPORT = {"title": "网红奶茶店排长队", "content": "城南新开的网红奶茶店今天排队排到了马路上"}


@pytest.mark.parametrize(("platform", "label"), list(PLATFORM_LABELS.items()))
def test_every_platform_is_named_by_its_id_and_its_label(platform: Platform, label: str) -> None:
    assert parse_platform(platform.value) is platform
    assert parse_platform(label) is platform
    assert parse_platform(f" {platform.value.upper()} ") is platform


@pytest.mark.parametrize(
    ("name", "platform"),
    [
        ("微博", Platform.WEIBO),
        ("论坛", Platform.FORUM),
        ("新闻", Platform.NEWS),
        ("短视频", Platform.VIDEO),
        ("微信", Platform.WECHAT),
        ("问答", Platform.QA),
        ("抖音", Platform.VIDEO),
        ("B站", Platform.VIDEO),
        ("公众号", Platform.WECHAT),
        ("知乎", Platform.QA),
        ("贴吧", Platform.FORUM),
        ("今日头条", Platform.NEWS),
    ],
)
def test_what_people_write_names_a_platform(name: str, platform: Platform) -> None:
    assert parse_platform(name) is platform


@pytest.mark.parametrize("name", ["电视", "tv", "", "  ", "微 博", 7, None, ["weibo"]])
def test_anything_else_names_no_platform(name: Any) -> None:
    assert parse_platform(name) is None


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://weibo.com/1234567/NaIcha1", Platform.WEIBO),
        ("https://m.weibo.cn/status/5012345678", Platform.WEIBO),
        ("https://WWW.Weibo.COM./u/1", Platform.WEIBO),
        ("https://tieba.baidu.com/p/123", Platform.FORUM),
        ("https://www.xiaohongshu.com/explore/1", Platform.FORUM),
        ("https://www.thepaper.cn/newsDetail_forward_1", Platform.NEWS),
        ("https://www.163.com/dy/article/ABC.html", Platform.NEWS),
        ("https://www.douyin.com/video/7", Platform.VIDEO),
        ("https://b23.tv/xyz", Platform.VIDEO),
        ("https://channels.weixin.qq.com/a", Platform.VIDEO),
        ("https://mp.weixin.qq.com/s/AbCdEf", Platform.WECHAT),
        ("https://www.zhihu.com/question/1", Platform.QA),
        ("http://wsjkw.sh.gov.cn/xwfb/1.html", Platform.GOV),
        ("https://user:pw@weibo.com:8443/x", Platform.WEIBO),
    ],
)
def test_a_link_s_host_names_its_platform(url: str, platform: Platform) -> None:
    assert platform_for_url(url) is platform


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.org/a",
        "https://www.baidu.com/s?wd=x",  # a host of many services: only listed subdomains
        "https://notweibo.com/x",  # a suffix of the name, not a parent domain
        "https://weibo.com.evil.example/x",
        "http://[::1/x",
        "https://",
    ],
)
def test_other_links_name_no_platform(url: str) -> None:
    assert platform_for_url(url) is None


@pytest.mark.parametrize(
    ("fields", "platform"),
    [
        ({"platform": "微博"}, Platform.WEIBO),
        ({"platform": "weibo"}, Platform.WEIBO),
        ({"platform": "视频号"}, Platform.VIDEO),
        ({"url": "https://m.weibo.cn/status/1"}, Platform.WEIBO),
        ({"url": "https://www.example.org/a"}, Platform.REPORT),
        ({"url": "https://www.douyin.com/video/7", "platform": "论坛"}, Platform.FORUM),
        ({"platform": None}, Platform.REPORT),
        ({}, Platform.REPORT),
    ],
)
def test_a_report_takes_the_platform_people_name_else_the_link_s(
    fields: dict[str, Any], platform: Platform
) -> None:
    assert parse_report({**REPORT, **fields}, set()).platform is platform


def test_a_report_url_is_kept_in_its_canonical_form() -> None:
    body = {**REPORT, "url": "HTTPS://Weibo.com/1234567/NaIcha1?from=share&wfr=app#c"}
    assert parse_report(body, set()).url == "https://weibo.com/1234567/NaIcha1"


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"platform": "电视"}, "/platform"),
        ({"platform": 3}, "/platform"),
        ({"url": "https://"}, "/url"),
        ({"url": "http://[::1/x"}, "/url"),
        ({"url": "weibo.com/1"}, "/url"),
    ],
)
def test_a_platform_or_link_that_names_nothing_is_a_problem(
    fields: dict[str, Any], path: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_report({**REPORT, **fields}, set())
    assert [p.path for p in caught.value.problems] == [path]
    if path == "/platform":
        assert "weibo (微博)" in caught.value.problems[0].message


# -- the same names wherever a person writes a platform ---------------------------------------


@pytest.mark.parametrize(("name", "platform"), [("微博", Platform.WEIBO), ("抖音", Platform.VIDEO)])
def test_a_source_definition_takes_a_platform_name(name: str, platform: Platform) -> None:
    body = {
        "id": "city-forum",
        "kind": "rss",
        "url": "https://bbs.example.org/feed",
        "platform": name,
    }
    assert parse_definition(body).platform is platform


def test_a_source_definition_with_a_platform_that_names_nothing_is_a_problem() -> None:
    body = {
        "id": "city-forum",
        "kind": "rss",
        "url": "https://bbs.example.org/feed",
        "platform": "电视",
    }
    with pytest.raises(ValidationError) as caught:
        parse_definition(body)
    assert [p.path for p in caught.value.problems] == ["/platform"]


def _drill_post(platform: Any) -> dict[str, Any]:
    event = {"at_minutes": 0, "kind": "post", "text": "城南奶茶店排长队", "platform": platform}
    return {"scenario": {"name": "x", "events": [event]}}


def test_a_drill_post_takes_a_platform_name_but_is_never_a_report() -> None:
    scenario, _ = parse_request(_drill_post("抖音"), set())
    assert scenario.events[0].fields["platform"] == "抖音"
    for refused in ("人工上报", "report", "电视"):
        with pytest.raises(ValidationError) as caught:
            parse_request(_drill_post(refused), set())
        assert [p.path for p in caught.value.problems] == ["/scenario/events/0/platform"]
