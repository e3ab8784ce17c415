"""The SSRF guard, canonical URLs, decoding and counts: pure helpers of the crawler."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from chalicelib.sources.challenge import challenge_reason
from chalicelib.sources.errors import BlockedUrlError, OfflineError
from chalicelib.sources.guard import (
    Guard,
    LocalSite,
    address_problem,
    literal_address,
    system_resolver,
)
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
        ("0.1.2.3", False),
        ("198.18.0.1", False),
        ("240.0.0.1", False),
        ("::", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:7f00:1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        # IPv6 forms that carry an IPv4 address are judged by it
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::", False),  # 6to4 of 169.254.169.254
        ("2002:808:808::", True),  # 6to4 of 8.8.8.8
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8 (an IPv6-only VPC reaches the web so)
        ("64:ff9b:1::a00:1", False),  # local-use NAT64
        ("::127.0.0.1", False),  # IPv4-compatible (deprecated)
        ("fec0::1", False),  # site-local (deprecated; Python 3.11 calls it global)
        ("2001::1", False),  # Teredo
        ("2001:db8::1", False),
        ("ff02::1", False),
    ],
)
def test_only_public_addresses_pass(address, allowed):
    assert (address_problem(ipaddress.ip_address(address)) is None) is allowed


@pytest.mark.parametrize(
    "host",
    ["2130706433", "0x7f.1", "0x7F000001", "0177.0.0.1", "017700000001", "127.1", "127.0.0.1."],
)
def test_ipv4_numbers_in_other_spellings_are_addresses(host):
    # GIVEN a host the resolver reads as 127.0.0.1 (inet_aton's rules)
    # THEN the guard reads it so too, without any lookup, and refuses it before any network use
    assert literal_address(host) == ipaddress.ip_address("127.0.0.1")
    if not host.endswith("."):  # the resolver itself would look a trailing dot up as a name
        assert socket.inet_aton(host) == socket.inet_aton("127.0.0.1")
    with pytest.raises(BlockedUrlError, match="loopback"):
        Guard().check_url(f"http://{host}:8080/moto-api/data.json")


@pytest.mark.parametrize("host", ["weibo.com", "08.1.2.3", "1.2.3.4.5", "256.0.0.1", "a1.b2"])
def test_names_are_not_mistaken_for_numbers(host):
    assert literal_address(host) is None


def test_loopback_is_reached_only_at_a_local_site():
    # GIVEN local mode's demo site on 127.0.0.1:8080
    guard = Guard(local_sites=frozenset({LocalSite("127.0.0.1", 8080)}))
    # THEN that address and port are reachable, in any spelling of the address
    assert guard.refusal(ipaddress.ip_address("127.0.0.1"), 8080) is None
    assert guard.refusal(ipaddress.ip_address("::ffff:127.0.0.1"), 8080) is None
    assert guard.check_url("http://0x7f.1:8080/feed.xml") == "0x7f.1"
    # AND nothing else on loopback (moto, the API) nor anything private
    assert guard.refusal(ipaddress.ip_address("127.0.0.1"), 5000) == "a loopback address"
    assert guard.refusal(ipaddress.ip_address("127.0.0.2"), 8080) == "a loopback address"
    assert guard.refusal(ipaddress.ip_address("::1"), 8080) is not None
    assert guard.refusal(ipaddress.ip_address("169.254.169.254"), 8080) is not None
    with pytest.raises(BlockedUrlError):
        guard.check_url("http://127.0.0.1:5000/moto-api/data.json")
    with pytest.raises(BlockedUrlError):
        guard.check_url("http://127.0.0.1/")  # port 80


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://x/", "ftp://example.org/", "http:///x", "http://x:99999/"],
)
def test_non_http_urls_are_refused(url):
    with pytest.raises(BlockedUrlError):
        Guard().check_url(url)


def test_localhost_resolves_to_loopback_and_is_refused():
    with pytest.raises(BlockedUrlError, match="has no public address"):
        Guard().addresses("localhost", 80, system_resolver)


@pytest.mark.parametrize(
    "answer",
    [
        [(socket.AF_INET, "8.8.8.8"), (socket.AF_INET, "10.20.30.40")],
        [(socket.AF_INET6, "fd12:3456::40")],
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
    ],
)
def test_a_refusal_after_resolution_names_no_address(
    answer: list[tuple[int, str]] | Exception,
) -> None:
    # GIVEN an internal name: private records only, one among public ones, or unknown here
    def resolve(host: str, port: int) -> list[tuple[int, str]]:
        if isinstance(answer, Exception):
            raise answer
        return answer

    # WHEN it is checked THEN the refusal is the same generic words, naming no address, so the
    # API cannot be used to map internal DNS
    with pytest.raises(BlockedUrlError) as refused:
        Guard().addresses("intranet.corp.example", 443, resolve)
    assert refused.value.message == "refused: intranet.corp.example has no public address"
    assert refused.value.code == "blocked_address"


def test_offline_refuses_public_hosts_without_resolving_them():
    guard = Guard(offline=True)
    with pytest.raises(OfflineError, match="offline"):
        guard.check_url("https://weibo.com/ajax/side/hotSearch")

    def resolve(host: str, port: int) -> list[tuple[int, str]]:
        raise AssertionError("resolved while offline")

    with pytest.raises(OfflineError):
        guard.addresses("weibo.com", 443, resolve)
    local = Guard(offline=True, local_sites=frozenset({LocalSite("127.0.0.1", 9)}))
    assert local.check_url("http://127.0.0.1:9/feed") == "127.0.0.1"
    # a refused address is refused (400), not merely skipped for being offline
    with pytest.raises(BlockedUrlError):
        guard.check_url("http://169.254.169.254/latest/meta-data/")


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
