"""The SSRF guard, canonical URLs, decoding and counts: pure helpers of the crawler."""

from __future__ import annotations

import ipaddress

import pytest

from chalicelib.sources.challenge import challenge_reason
from chalicelib.sources.errors import BlockedUrlError, OfflineError
from chalicelib.sources.guard import Guard, address_problem
from chalicelib.sources.text import decode_body, parse_count
from chalicelib.sources.urls import canonical_url, host_key
from tests.sources_server import fixture_bytes


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("224.0.0.251", False),
        ("0.0.0.0", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_only_public_addresses_pass(address, allowed):
    assert (address_problem(ipaddress.ip_address(address), allow_loopback=False) is None) is allowed


def test_loopback_only_when_allowed():
    loopback = ipaddress.ip_address("127.0.0.1")
    assert address_problem(loopback, allow_loopback=True) is None
    assert address_problem(ipaddress.ip_address("::ffff:127.0.0.1"), allow_loopback=True) is None
    assert address_problem(ipaddress.ip_address("10.0.0.1"), allow_loopback=True) is not None


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://x/", "ftp://example.org/", "http:///x"]
)
def test_non_http_urls_are_refused(url):
    with pytest.raises(BlockedUrlError):
        Guard().check_url(url)


def test_localhost_resolves_to_loopback_and_is_refused():
    with pytest.raises(BlockedUrlError, match="loopback"):
        Guard().resolve("localhost", 80)


def test_offline_refuses_public_hosts_without_resolving_them():
    guard = Guard(offline=True)
    with pytest.raises(OfflineError, match="offline"):
        guard.check_url("https://weibo.com/ajax/side/hotSearch")
    with pytest.raises(OfflineError):
        guard.resolve("weibo.com", 443)
    local = Guard(offline=True, allow_loopback=True)
    assert local.check_url("http://127.0.0.1:9/feed") == "127.0.0.1"


def test_canonical_url():
    assert (
        canonical_url("HTTPS://News.Example.ORG:443/a/b?id=7&utm_source=x&spm=1.2&from=timeline#c")
        == "https://news.example.org/a/b?id=7"
    )
    assert (
        canonical_url("/t/1?from=list", "http://bbs.example.org/x/") == "http://bbs.example.org/t/1"
    )
    assert canonical_url("//cdn.example.org/p") == "https://cdn.example.org/p"
    assert canonical_url("javascript:void(0)") is None
    assert host_key("http://127.0.0.1:8080/x") == "127.0.0.1:8080"
    assert host_key("https://Weibo.com/ajax") == "weibo.com"


def test_gbk_bytes_decode_without_a_declaration():
    text = "医院停车难，谁来管管"
    assert decode_body(text.encode("gbk")) == text
    assert decode_body(text.encode("gb18030"), "text/html; charset=gb2312") == text
    assert "关于规范医疗服务收费的通知" in decode_body(fixture_bytes("gbk_portal.html"))


@pytest.mark.parametrize(
    ("value", "count"),
    [
        ("1234 万热度", 12_340_000),
        ("1.2亿", 120_000_000),
        ("4960813", 4960813),
        (56, 56),
        ("3.4w", 34000),
        ("热", None),
        (None, None),
    ],
)
def test_counts(value, count):
    assert parse_count(value) == count


def test_challenge_pages_are_recognised_and_ordinary_pages_are_not():
    page = fixture_bytes("challenge_page.html").decode()
    assert challenge_reason(200, "https://weibo.com/ajax/side/hotSearch", page)
    assert challenge_reason(200, "https://passport.weibo.com/visitor/visitor?a=1", "")
    assert challenge_reason(403, "https://x.example.org/", "Forbidden")
    assert challenge_reason(200, "https://x.example.org/", '{"code":-352,"message":"x"}')
    assert challenge_reason(200, "https://x.example.org/news", "<p>今日新闻</p>") is None
