"""The fetcher against a real HTTP server on 127.0.0.1: limits, retries, redirects and the guard."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.sources import wiring
from chalicelib.sources.errors import (
    BlockedUrlError,
    FetchError,
    FetchTimeoutError,
    HttpStatusError,
    OfflineError,
    RobotsDisallowedError,
    TooLargeError,
)
from chalicelib.sources.fetcher import USER_AGENT, Fetcher, FetchPolicy, HostRateLimiter, Validators
from chalicelib.sources.guard import Guard, LocalSite
from tests.sources_server import FixtureServer, Route, serve


@pytest.fixture
def http_server() -> Iterator[FixtureServer]:
    """GIVEN a real HTTP server on 127.0.0.1 with no routes yet."""
    yield from serve()


@pytest.fixture
def fetcher() -> Fetcher:
    return Fetcher(
        FetchPolicy(
            connect_timeout=1.0,
            read_timeout=0.5,
            deadline_seconds=5.0,
            max_bytes=1024 * 1024,
            attempts=3,
            backoff_seconds=0.01,
            host_interval_seconds=0.0,
        )
    )


def test_a_plain_get_sends_our_user_agent(fetcher: Fetcher, http_server: FixtureServer):
    http_server.routes["/a"] = Route(body=b'{"ok": 1}')
    result = fetcher.fetch(http_server.url("/a"), http_server.reach)
    assert result.status == 200
    assert result.body == b'{"ok": 1}'
    assert http_server.seen_headers[0]["User-Agent"] == USER_AGENT


def test_conditional_get_answers_304_with_no_body(fetcher: Fetcher, http_server: FixtureServer):
    http_server.routes["/feed"] = Route(body=b"<rss/>", etag='"v1"')
    first = fetcher.fetch(http_server.url("/feed"), http_server.reach)
    assert first.validators.etag == '"v1"'
    second = fetcher.fetch(http_server.url("/feed"), http_server.reach, validators=first.validators)
    assert second.not_modified
    assert second.body == b""
    assert http_server.seen_headers[1]["If-None-Match"] == '"v1"'


def test_a_50_mb_body_stops_at_the_cap_without_reading_it_all(
    fetcher: Fetcher, http_server: FixtureServer
):
    http_server.routes["/huge"] = Route(stream_bytes=50 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(TooLargeError):
            fetcher.fetch(http_server.url("/huge"), http_server.reach)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # the cap is 1 MiB; 50 MiB was never held
    assert http_server.hits["/huge"] == 1  # too large is not retried


def test_a_declared_huge_body_is_refused_before_reading(
    fetcher: Fetcher, http_server: FixtureServer
):
    http_server.routes["/declared"] = Route(body=b"x" * (2 * 1024 * 1024))
    with pytest.raises(TooLargeError, match="declares"):
        fetcher.fetch(http_server.url("/declared"), http_server.reach)


def test_a_hanging_server_times_out_after_retries(fetcher: Fetcher, http_server: FixtureServer):
    http_server.routes["/hang"] = Route(hang=True)
    with pytest.raises(FetchTimeoutError):
        fetcher.fetch(http_server.url("/hang"), http_server.reach)
    assert http_server.hits["/hang"] == 3


def test_500s_are_retried_then_reported(fetcher: Fetcher, http_server: FixtureServer):
    http_server.routes["/broken"] = Route(status=500, body=b"oops")
    with pytest.raises(HttpStatusError) as caught:
        fetcher.fetch(http_server.url("/broken"), http_server.reach)
    assert caught.value.http_status == 500
    assert http_server.hits["/broken"] == 3


def test_4xx_is_returned_once_without_retries(fetcher: Fetcher, http_server: FixtureServer):
    http_server.routes["/gone"] = Route(status=404, body=b"gone")
    assert fetcher.fetch(http_server.url("/gone"), http_server.reach).status == 404
    assert http_server.hits["/gone"] == 1


def test_redirects_are_followed_and_each_hop_is_checked(
    fetcher: Fetcher, http_server: FixtureServer
):
    http_server.routes["/old"] = Route(status=301, headers={"Location": "/new"})
    http_server.routes["/new"] = Route(body=b"moved")
    result = fetcher.fetch(http_server.url("/old"), http_server.reach)
    assert result.body == b"moved"
    assert result.url == http_server.url("/new")


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/admin",
        "http://[::ffff:192.168.0.1]/",
        "file:///etc/passwd",
    ],
)
def test_a_redirect_to_a_private_address_is_refused(
    fetcher: Fetcher, http_server: FixtureServer, target: str
):
    http_server.routes["/trap"] = Route(status=302, headers={"Location": target})
    with pytest.raises(BlockedUrlError):
        fetcher.fetch(http_server.url("/trap"), http_server.reach)


def test_loopback_is_refused_unless_allowed_and_nothing_is_sent(
    fetcher: Fetcher, http_server: FixtureServer
):
    http_server.routes["/secret"] = Route(body=b"moto")
    with pytest.raises(BlockedUrlError, match="loopback"):
        fetcher.fetch(http_server.url("/secret"), Guard())
    # a name that resolves to loopback is refused where the socket is opened, naming no address
    with pytest.raises(BlockedUrlError) as refused:
        fetcher.fetch(f"http://localhost:{http_server.port}/secret", Guard())
    assert refused.value.message == "refused: localhost has no public address"
    assert http_server.hits["/secret"] == 0


@pytest.fixture
def neighbour() -> Iterator[FixtureServer]:
    """GIVEN another server on loopback that is not a local site (as moto's endpoint is not)."""
    yield from serve()


@pytest.mark.parametrize(
    "spelling",
    [
        "127.0.0.1",
        "localhost",
        "2130706433",
        "0x7f.1",
        "0177.0.0.1",
        "127.1",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
    ],
)
def test_only_the_local_site_is_reached_on_loopback(
    fetcher: Fetcher, http_server: FixtureServer, neighbour: FixtureServer, spelling: str
):
    # GIVEN a guard that reaches the local site (the demo site) and a neighbour on loopback
    neighbour.routes["/moto-api/data.json"] = Route(body=b'{"contacts": "13800000000"}')
    http_server.routes["/feed"] = Route(body=b"<rss/>")
    # WHEN the neighbour is asked for, in any spelling of loopback, THEN it is refused, unasked
    with pytest.raises(BlockedUrlError):
        fetcher.fetch(f"http://{spelling}:{neighbour.port}/moto-api/data.json", http_server.reach)
    assert neighbour.hits["/moto-api/data.json"] == 0
    # AND the local site itself is reached
    assert fetcher.fetch(http_server.url("/feed"), http_server.reach).body == b"<rss/>"


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/moto-api/data.json",
        "http://localhost:{port}/moto-api/data.json",
        "http://0x7f000001:{port}/moto-api/data.json",
        "http://[::ffff:127.0.0.1]:{port}/moto-api/data.json",
    ],
)
def test_a_redirect_from_the_local_site_to_another_loopback_port_is_refused(
    fetcher: Fetcher, http_server: FixtureServer, neighbour: FixtureServer, target: str
):
    location = target.format(port=neighbour.port)
    http_server.routes["/trap"] = Route(status=302, headers={"Location": location})
    with pytest.raises(BlockedUrlError):
        fetcher.fetch(http_server.url("/trap"), http_server.reach)
    assert neighbour.hits["/moto-api/data.json"] == 0


def test_a_dns_answer_that_changes_after_the_check_is_never_connected_to(
    http_server: FixtureServer,
):
    # GIVEN a name whose DNS answer flips from a public address to loopback (DNS rebinding)
    public: list[tuple[int, str]] = [(socket.AF_INET, "8.8.8.8")]
    loopback: list[tuple[int, str]] = [(socket.AF_INET, "127.0.0.1")]
    answers = iter([public] + [loopback] * 10)
    asked: list[str] = []

    def flipping(host: str, port: int) -> list[tuple[int, str]]:
        asked.append(host)
        return next(answers)

    http_server.routes["/secret"] = Route(body=b"moto")
    policy = FetchPolicy(connect_timeout=0.3, attempts=1, host_interval_seconds=0)
    fetcher = Fetcher(policy, resolver=flipping)
    # WHEN it is fetched THEN the name is resolved once, and the connection goes to the address
    # that was checked (which does not answer here), never to the later loopback answer
    with pytest.raises(FetchError):
        fetcher.fetch(f"http://rebind.example:{http_server.port}/secret", Guard())
    assert asked == ["rebind.example"]
    assert http_server.hits["/secret"] == 0


def test_offline_refuses_without_a_network_attempt(fetcher: Fetcher):
    with pytest.raises(OfflineError):
        fetcher.fetch("https://weibo.com/ajax/side/hotSearch", Guard(offline=True))


def test_robots_txt_is_honoured_for_pages(fetcher: Fetcher, http_server: FixtureServer):
    http_server.routes["/robots.txt"] = Route(
        body=b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )
    http_server.routes["/private/page"] = Route(body=b"<p>x</p>")
    http_server.routes["/public/page"] = Route(body=b"<p>y</p>")
    with pytest.raises(RobotsDisallowedError):
        fetcher.fetch(http_server.url("/private/page"), http_server.reach, robots=True)
    assert (
        fetcher.fetch(http_server.url("/public/page"), http_server.reach, robots=True).body
        == b"<p>y</p>"
    )
    assert http_server.hits["/private/page"] == 0
    assert http_server.hits["/robots.txt"] == 1  # cached


def test_a_missing_robots_txt_allows_everything(fetcher: Fetcher, http_server: FixtureServer):
    http_server.routes["/page"] = Route(body=b"<p>x</p>")
    assert fetcher.fetch(http_server.url("/page"), http_server.reach, robots=True).status == 200


class FakeTime:
    """A monotonic clock that only sleeping moves, recording the sleeps."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_the_rate_limiter_spaces_requests_to_one_host():
    clock = FakeTime()
    waits = clock.waits
    limiter = HostRateLimiter(2.0, monotonic=clock.monotonic, sleep=clock.sleep)
    limiter.wait("a.example.org")
    limiter.wait("b.example.org")
    limiter.wait("a.example.org")
    assert waits == [2.0]


def test_validators_from_last_modified(fetcher: Fetcher, http_server: FixtureServer):
    http_server.routes["/lm"] = Route(
        body=b"x", headers={"Last-Modified": "Wed, 15 Nov 2023 10:00:00 GMT"}
    )
    result = fetcher.fetch(http_server.url("/lm"), http_server.reach)
    assert result.validators == Validators(None, "Wed, 15 Nov 2023 10:00:00 GMT")


def bounded(seconds: float) -> Fetcher:
    """Generous timeouts and retries, and a deadline of ``seconds`` for the whole fetch."""
    return Fetcher(
        FetchPolicy(
            connect_timeout=5.0,
            read_timeout=15.0,
            deadline_seconds=seconds,
            attempts=3,
            backoff_seconds=0.1,
            host_interval_seconds=0.0,
        )
    )


@pytest.mark.parametrize(
    "route",
    [
        Route(delay=10, body=b"late"),
        Route(hang=True),
        # a byte every 0.1 s: the read timeout never trips, the answer takes ~15 s
        Route(trickle=0.1, body=b"x" * 40),
    ],
    ids=["slow", "hanging", "trickling"],
)
def test_one_deadline_ends_the_whole_fetch(http_server: FixtureServer, route: Route):
    # GIVEN a page that answers after 10 s, never, or a byte at a time; and a 1 s deadline
    http_server.routes["/slow"] = route
    started = time.monotonic()
    # WHEN fetched THEN it is a timeout, well before the server would have finished
    with pytest.raises(FetchTimeoutError):
        bounded(1.0).fetch(http_server.url("/slow"), http_server.reach)
    assert time.monotonic() - started < 5


def test_a_fast_answer_then_a_trickle_on_the_same_connection_is_still_within_the_deadline(
    http_server: FixtureServer,
):
    # GIVEN a server that answers robots.txt at once (keeping the connection open) and then
    # trickles the page a byte at a time
    http_server.routes["/robots.txt"] = Route(
        body=b"User-agent: *\nAllow: /\n", content_type="text/plain"
    )
    http_server.routes["/page"] = Route(trickle=0.1, body=b"x" * 40)
    started = time.monotonic()
    # WHEN the page is fetched after its robots.txt THEN the deadline still holds: no connection
    # outlives the attempt that opened it
    with pytest.raises(FetchTimeoutError):
        bounded(1.0).fetch(http_server.url("/page"), http_server.reach, robots=True)
    assert time.monotonic() - started < 5
    assert http_server.hits["/robots.txt"] == 1


def test_a_slow_robots_txt_is_within_the_deadline_and_asked_again_next_time(
    http_server: FixtureServer,
):
    # GIVEN a page whose robots.txt takes 10 s
    http_server.routes["/robots.txt"] = Route(
        delay=10, body=b"User-agent: *\nAllow: /\n", content_type="text/plain"
    )
    http_server.routes["/page"] = Route(body=b"<p>x</p>")
    fetcher = bounded(1.0)
    started = time.monotonic()
    # WHEN fetched with a 1 s deadline THEN robots.txt's wait is part of it, and the page is
    # not asked for
    with pytest.raises(FetchTimeoutError):
        fetcher.fetch(http_server.url("/page"), http_server.reach, robots=True)
    assert time.monotonic() - started < 5
    assert http_server.hits["/page"] == 0
    # AND once robots.txt answers again the page is fetched: a slow moment did not shut the site
    # out for the hour robots.txt is kept
    http_server.routes["/robots.txt"] = Route(
        body=b"User-agent: *\nAllow: /\n", content_type="text/plain"
    )
    assert fetcher.fetch(http_server.url("/page"), http_server.reach, robots=True).status == 200


def test_a_slow_name_resolution_is_within_the_deadline():
    # GIVEN a resolver that takes 10 s to answer
    release = threading.Event()

    def slow(host: str, port: int) -> list[tuple[int, str]]:
        release.wait(10)
        return [(socket.AF_INET, "8.8.8.8")]

    fetcher = Fetcher(FetchPolicy(deadline_seconds=1.0, host_interval_seconds=0), resolver=slow)
    started = time.monotonic()
    try:
        with pytest.raises(FetchTimeoutError):
            fetcher.fetch("http://slow-dns.example/feed", Guard())
        assert time.monotonic() - started < 5
    finally:
        release.set()


def test_the_rate_limiter_never_waits_past_a_deadline():
    clock = FakeTime(100.0)
    limiter = HostRateLimiter(30.0, monotonic=clock.monotonic, sleep=clock.sleep)
    limiter.wait("a.example.org")
    # the next turn is in 30 s: a fetch with 5 s left gives up at once, without taking the turn
    with pytest.raises(FetchTimeoutError):
        limiter.wait("a.example.org", latest=clock.now + 5)
    assert clock.waits == []
    assert limiter.wait("a.example.org", latest=clock.now + 60) == 30.0


def test_api_paths_fetch_within_20_s_and_scheduled_crawls_keep_40():
    assert wiring.API_FETCH_SECONDS <= 20
    assert wiring.api_fetcher().policy.deadline_seconds == wiring.API_FETCH_SECONDS
    assert wiring.shared_fetcher().policy.deadline_seconds == 40
    # a shorter deadline, never a longer one
    assert Fetcher(FetchPolicy(deadline_seconds=10)).with_deadline(20).policy.deadline_seconds == 10


def test_https_goes_through_the_guarded_connection_and_verifies_the_host_name(
    tmp_path: Path,
) -> None:
    # GIVEN an HTTPS server on 127.0.0.1 with a certificate for "localhost" from our own CA
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = FixtureServer()
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    server.routes["/tls"] = Route(body=b"secure")
    server.start()
    try:
        policy = FetchPolicy(host_interval_seconds=0, ca_bundle=str(cert), attempts=1)
        fetcher = Fetcher(policy)
        # WHEN fetched by name THEN the connection goes to the checked address and TLS verifies
        # (localhost may also resolve to ::1: every address must be one the guard allows)
        both = Guard(local_sites=frozenset({server.site, LocalSite("::1", server.port)}))
        result = fetcher.fetch(f"https://localhost:{server.port}/tls", both)
        assert result.body == b"secure"
        # AND the guard still refuses the same server to a public source
        with pytest.raises(BlockedUrlError):
            fetcher.fetch(f"https://localhost:{server.port}/tls", Guard())
        assert server.hits["/tls"] == 1
    finally:
        server.stop()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
