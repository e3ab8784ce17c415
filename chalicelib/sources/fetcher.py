"""The one HTTP client every source kind and evidence capture go through: polite, bounded, guarded.

- **Guarded** (:mod:`.guard`): connections are opened by our own connection class, which resolves
  the host, checks every address and connects to a checked one; redirects are followed by hand,
  each hop checked again. The environment's proxy settings are ignored (``trust_env=False``): a
  proxy would make the peer address meaningless for the guard.
- **Bounded**: connect and read timeouts, a body size cap enforced while streaming — a 50 MB
  answer costs one chunk over the cap, not 50 MB of memory — and one **deadline for the whole
  fetch**: name resolution, the wait for the host's turn, connects, reads, backoff, retries,
  robots.txt and redirects all come out of it. Socket timeouts alone cannot give that (a server
  that trickles a byte at a time never trips a read timeout), so each attempt has a watchdog
  that shuts its socket down when the deadline passes. Scheduled crawls have 40 s (the worker's
  Lambda has 60); API paths take a fetcher :meth:`Fetcher.with_deadline` of 20 s, because API
  Gateway gives up on a request after 29 s (decision 69).
- **Polite**: a User-Agent naming the project, a per-host minimum interval between requests in
  this process (:class:`HostRateLimiter`; across Lambda invocations the dispatcher spaces messages
  for the same host), robots.txt for HTML pages (RFC 9309: 4xx → no rules, 5xx or unreachable →
  disallow all; cached an hour), and conditional GET (ETag / Last-Modified → 304).
- **Retries** with exponential backoff on 5xx, timeouts and connection errors; never on 4xx.
"""

from __future__ import annotations

import contextlib
import copy
import socket
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError

from chalicelib.sources.errors import (
    FetchError,
    FetchTimeoutError,
    HttpStatusError,
    RobotsDisallowedError,
    TooLargeError,
)
from chalicelib.sources.guard import Guard, Resolver, connect_checked, system_resolver
from chalicelib.sources.urls import host_key

USER_AGENT = "yuqing-crawler/0.1 (public-opinion monitoring; honours robots.txt; low rate)"
ROBOTS_AGENT = "yuqing-crawler"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
# robots.txt gets at most this much of a fetch's deadline, and is small.
_ROBOTS_SECONDS = 15.0
_ROBOTS_BYTES = 500 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    # The whole fetch: resolution, waits, connects, reads, backoff, retries, robots.txt and
    # redirects. 40 s suits the scheduled crawl (its Lambda has 60 s); API paths use 20 s.
    deadline_seconds: float = 40.0
    max_bytes: int = 5 * 1024 * 1024
    attempts: int = 3
    backoff_seconds: float = 1.0
    max_redirects: int = 5
    host_interval_seconds: float = 1.0
    robots_ttl_seconds: float = 3600.0
    # CA bundle for TLS verification; None: the bundled public CAs (certifi). Tests set their own.
    ca_bundle: str | None = None


@dataclass(frozen=True)
class Validators:
    """What the last successful answer said, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass
class FetchResult:
    url: str  # after redirects
    status: int
    body: bytes
    headers: Mapping[str, str]
    attempts: int
    elapsed_ms: int

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")

    @property
    def validators(self) -> Validators:
        return Validators(self.headers.get("ETag"), self.headers.get("Last-Modified"))


class HostRateLimiter:
    """At most one request per ``interval`` to each host from this process."""

    def __init__(
        self,
        interval: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str, latest: float | None = None) -> float:
        """Block until ``host`` may be asked again; returns the seconds waited.

        If its turn comes after ``latest`` (a fetch's deadline), raises
        :class:`FetchTimeoutError` at once, without waiting and without taking the turn.
        """
        with self._lock:
            now = self._monotonic()
            at = max(now, self._next.get(host, now))
            if latest is not None and at >= latest:
                raise FetchTimeoutError(f"gave up on {host}: its turn comes after the deadline")
            self._next[host] = at + self._interval
        delay = at - now
        if delay > 0:
            self._sleep(delay)
        return delay


class _Attempt:
    """One request's share of the deadline: bounded name resolution, and a watchdog that shuts
    the request's sockets down when the deadline passes, whatever the request is waiting for
    (a trickled status line, a TLS handshake, a slow body)."""

    def __init__(self, seconds: float, monotonic: Callable[[], float], resolver: Resolver) -> None:
        self._monotonic = monotonic
        self._resolver = resolver
        self._deadline = monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._done = False
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Attempt:
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def time_left(self) -> float:
        return self._deadline - self._monotonic()

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down at the deadline. A duplicate descriptor is kept, so the socket is
        still reachable after TLS takes it over, and its number cannot be reused meanwhile."""
        with self._lock:
            if self._done:
                return
            duplicate = sock.dup()
            self._sockets.append(duplicate)
            if self.expired:
                _shut(duplicate)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def resolve(self, host: str, port: int) -> Sequence[tuple[int, str]]:
        """The resolver's answer within the time left (``getaddrinfo`` has no timeout of its
        own, so it runs in a daemon thread that is abandoned if it overruns)."""
        left = self.time_left()
        if left <= 0:
            raise FetchTimeoutError(f"gave up on {host}: the fetch deadline passed")
        answer: dict[str, Any] = {}

        def run() -> None:
            try:
                answer["addresses"] = self._resolver(host, port)
            except BaseException as err:  # handed to the caller below
                answer["error"] = err

        thread = threading.Thread(target=run, name="yuqing-resolve", daemon=True)
        thread.start()
        thread.join(left)
        if thread.is_alive():
            raise FetchTimeoutError(f"gave up on {host}: resolving its name took too long")
        if "error" in answer:
            raise answer["error"]
        addresses: Sequence[tuple[int, str]] = answer["addresses"]
        return addresses


def _shut(sock: socket.socket) -> None:
    # Not connected (yet, or any more): then the connect timeout, clipped to the deadline, rules.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _close_instead_of_keeping(pool: HTTPConnectionPool, conn: Any) -> None:
    """No connection is kept for a later request: an attempt's watchdog knows only the sockets
    it saw opened, and a server could otherwise answer fast on one request and trickle on the
    next over the same connection. (One page per source per interval: keep-alive saves little.)"""
    if conn is not None:
        conn.close()
    HTTPConnectionPool._put_conn(pool, None)  # the pool's slot back, empty


def _guarded_adapter(guard: Guard, attempt: Callable[[], _Attempt]) -> HTTPAdapter:
    """A requests adapter whose connections go only to addresses ``guard`` allows, each watched
    by the current :class:`_Attempt`."""

    def new_conn(conn: HTTPConnection) -> Any:
        current = attempt()
        timeout = conn.timeout if isinstance(conn.timeout, int | float) else None
        try:
            sock = connect_checked(
                guard,
                conn._dns_host,  # the host as urllib3 would resolve it (TLS still uses conn.host)
                conn.port or 80,
                timeout,
                conn.source_address,
                conn.socket_options,
                resolve=current.resolve,
                time_left=current.time_left,
            )
        except TimeoutError as err:
            raise ConnectTimeoutError(conn, f"connect to {conn.host} timed out") from err
        except OSError as err:
            raise NewConnectionError(conn, f"cannot connect to {conn.host}: {err}") from err
        current.watch(sock)
        return sock

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> Any:
            return new_conn(self)

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> Any:
            return new_conn(self)

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection
        _put_conn = _close_instead_of_keeping

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection
        _put_conn = _close_instead_of_keeping

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {
                "http": GuardedHTTPPool,
                "https": GuardedHTTPSPool,
            }

    return GuardedAdapter(max_retries=0)


class RobotsCache:
    """robots.txt per site, fetched through the same guarded fetcher and kept for a while."""

    def __init__(self, ttl: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._monotonic = monotonic
        self._rules: dict[tuple[str, Guard], tuple[float, urllib.robotparser.RobotFileParser]] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str, guard: Guard, fetch: Callable[[str], FetchResult]) -> bool:
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        key = (site, guard)
        with self._lock:
            cached = self._rules.get(key)
        if cached is None or cached[0] < self._monotonic():
            rules = self._load(site, fetch)
            with self._lock:
                self._rules[key] = (self._monotonic() + self._ttl, rules)
        else:
            rules = cached[1]
        return rules.can_fetch(ROBOTS_AGENT, url)

    @staticmethod
    def _load(site: str, fetch: Callable[[str], FetchResult]) -> urllib.robotparser.RobotFileParser:
        rules = urllib.robotparser.RobotFileParser(f"{site}/robots.txt")
        try:
            answer = fetch(f"{site}/robots.txt")
        except HttpStatusError:  # 5xx after retries: "unreachable" → disallow all (RFC 9309)
            rules.disallow_all = True  # type: ignore[attr-defined]
            return rules
        except FetchError as err:
            # Refused or offline: the page would be too. Out of time: the page is not fetched
            # either, and a slow moment must not silence the site for an hour.
            if err.code in {"blocked_address", "offline", "timeout"}:
                raise
            rules.disallow_all = True  # type: ignore[attr-defined]
            return rules
        if answer.status >= 400:
            # 4xx: "unavailable" → no rules apply
            rules.allow_all = True  # type: ignore[attr-defined]
        else:
            rules.parse(answer.body.decode("utf-8", errors="replace").splitlines())
        return rules


class Fetcher:
    """GET with the guard, timeouts, size cap, retries, rate limit, robots and conditional GET."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        limiter: HostRateLimiter | None = None,
        robots: RobotsCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._sleep = sleep
        self._monotonic = monotonic
        self._resolver = resolver
        self._limiter = limiter or HostRateLimiter(
            self.policy.host_interval_seconds, monotonic, sleep
        )
        self._robots = robots or RobotsCache(self.policy.robots_ttl_seconds, monotonic)
        self._local = threading.local()

    def with_deadline(self, seconds: float) -> Fetcher:
        """This fetcher — same rate limits, robots cache and sessions — whose fetches end within
        ``seconds`` (or its own deadline, if shorter): for API paths."""
        bounded = copy.copy(self)
        bounded.policy = replace(
            self.policy, deadline_seconds=min(self.policy.deadline_seconds, seconds)
        )
        return bounded

    def _session(self, guard: Guard) -> requests.Session:
        # Sessions are not documented as thread-safe: one per thread and guard.
        sessions: dict[Guard, requests.Session] = self._local.__dict__.setdefault("sessions", {})
        session = sessions.get(guard)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies, no .netrc: the guard must see the real peer
            session.verify = self.policy.ca_bundle or True
            adapter = _guarded_adapter(guard, lambda: self._local.attempt)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"})
            sessions[guard] = session
        return session

    def fetch(
        self,
        url: str,
        guard: Guard,
        *,
        validators: Validators | None = None,
        robots: bool = False,
        accept: str = "*/*",
    ) -> FetchResult:
        """Fetch ``url`` following redirects, all within the policy's deadline; raises a
        :class:`FetchError` subclass on failure (:class:`FetchTimeoutError` when out of time).

        Returns any final answer below 500 (4xx included, for the caller to judge); 5xx after the
        last retry raises :class:`HttpStatusError`.
        """
        deadline = self._monotonic() + self.policy.deadline_seconds
        return self._fetch(url, guard, deadline, validators, robots, accept)

    def _fetch(
        self,
        url: str,
        guard: Guard,
        deadline: float,
        validators: Validators | None,
        robots: bool,
        accept: str,
    ) -> FetchResult:
        started = self._monotonic()
        headers = {"Accept": accept}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        current = url
        attempts = 0
        for _ in range(self.policy.max_redirects + 1):
            guard.check_url(current)
            if robots and not self._robots.allowed(
                current, guard, lambda u: self._robots_fetch(u, guard, deadline)
            ):
                raise RobotsDisallowedError(f"robots.txt disallows {current}")
            status, body, answer_headers, tries = self._with_retries(
                current, guard, headers, deadline
            )
            attempts += tries
            location = answer_headers.get("Location")
            if status in _REDIRECTS and location:
                current = urljoin(current, location.strip())
                continue
            return FetchResult(
                url=current,
                status=status,
                body=body,
                headers=answer_headers,
                attempts=attempts,
                elapsed_ms=int((self._monotonic() - started) * 1000),
            )
        raise FetchError(f"more than {self.policy.max_redirects} redirects from {url}")

    def _robots_fetch(self, url: str, guard: Guard, deadline: float) -> FetchResult:
        """robots.txt with its own small policy, out of the page's deadline (never beyond it)."""
        robots = copy.copy(self)
        robots.policy = replace(self.policy, max_bytes=_ROBOTS_BYTES, attempts=2)
        own = min(deadline, self._monotonic() + _ROBOTS_SECONDS)
        return robots._fetch(url, guard, own, None, False, "text/plain")

    def _with_retries(
        self, url: str, guard: Guard, headers: dict[str, str], deadline: float
    ) -> tuple[int, bytes, Mapping[str, str], int]:
        attempt = 0
        while True:
            attempt += 1
            self._limiter.wait(host_key(url), latest=deadline)
            error: FetchError | None = None
            try:
                status, body, answer_headers = self._once(url, guard, headers, deadline)
            except (FetchTimeoutError, _ConnectionFailed) as err:
                error = err
            else:
                if status < 500:
                    return status, body, answer_headers, attempt
                error = HttpStatusError(status, url)
            backoff = self.policy.backoff_seconds * 2 ** (attempt - 1)
            if attempt >= self.policy.attempts or self._monotonic() + backoff >= deadline:
                if isinstance(error, _ConnectionFailed):
                    raise FetchError(error.message) from None
                raise error
            self._sleep(backoff)

    def _once(
        self, url: str, guard: Guard, headers: dict[str, str], deadline: float
    ) -> tuple[int, bytes, Mapping[str, str]]:
        remaining = deadline - self._monotonic()
        if remaining <= 0:
            raise FetchTimeoutError(f"gave up on {url}: the fetch deadline passed")
        timeout = (
            min(self.policy.connect_timeout, remaining),
            min(self.policy.read_timeout, remaining),
        )
        with _Attempt(remaining, self._monotonic, self._resolver) as attempt:
            self._local.attempt = attempt
            try:
                return self._request(url, guard, headers, timeout, deadline, attempt)
            finally:
                self._local.attempt = None

    def _request(
        self,
        url: str,
        guard: Guard,
        headers: dict[str, str],
        timeout: tuple[float, float],
        deadline: float,
        attempt: _Attempt,
    ) -> tuple[int, bytes, Mapping[str, str]]:
        late = FetchTimeoutError(f"gave up on {url}: the fetch deadline passed")
        try:
            response = self._session(guard).get(
                url, headers=headers, timeout=timeout, stream=True, allow_redirects=False
            )
        except requests.Timeout:
            raise FetchTimeoutError(f"timed out fetching {url}") from None
        except requests.RequestException as err:
            if attempt.expired:
                raise late from None
            raise _ConnectionFailed(f"cannot fetch {url}: {type(err).__name__}") from None
        with response:
            body = self._read_body(response, url, deadline, attempt)
        return response.status_code, body, response.headers

    def _read_body(
        self, response: requests.Response, url: str, deadline: float, attempt: _Attempt
    ) -> bytes:
        late = FetchTimeoutError(f"gave up on {url}: the fetch deadline passed")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.policy.max_bytes:
            raise TooLargeError(
                f"{url} declares {int(declared)} bytes; the cap is {self.policy.max_bytes}"
            )
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                total += len(chunk)
                if total > self.policy.max_bytes:
                    raise TooLargeError(
                        f"{url} sent more than the cap of {self.policy.max_bytes} bytes"
                    )
                if self._monotonic() > deadline:
                    raise FetchTimeoutError(f"gave up on {url}: the body is too slow")
                chunks.append(chunk)
        except requests.RequestException as err:
            if attempt.expired:
                raise late from None
            if isinstance(err, requests.ConnectionError) and (
                err.args and isinstance(err.args[0], ReadTimeoutError)
            ):
                raise FetchTimeoutError(f"timed out reading {url}") from None
            raise _ConnectionFailed(f"cannot read {url}: {type(err).__name__}") from None
        if attempt.expired:  # the watchdog ended the body early: what we have is not all
            raise late
        return b"".join(chunks)


class _ConnectionFailed(FetchError):
    """A connection-level failure worth a retry (internal: surfaces as :class:`FetchError`)."""
