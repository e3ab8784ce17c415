"""The one HTTP client every source kind goes through: polite, bounded and guarded.

- **Guarded** (:mod:`.guard`): connections are opened by our own connection class, which resolves
  the host, checks every address and connects to a checked one; redirects are followed by hand,
  each hop checked again. The environment's proxy settings are ignored (``trust_env=False``): a
  proxy would make the peer address meaningless for the guard.
- **Bounded**: connect and read timeouts, a deadline for the whole fetch (retries included, so a
  crawl fits in the worker's Lambda timeout), and a body size cap enforced while streaming — a
  50 MB answer costs one chunk over the cap, not 50 MB of memory.
- **Polite**: a User-Agent naming the project, a per-host minimum interval between requests in
  this process (:class:`HostRateLimiter`; across Lambda invocations the dispatcher spaces messages
  for the same host), robots.txt for HTML pages (RFC 9309: 4xx → no rules, 5xx or unreachable →
  disallow all; cached an hour), and conditional GET (ETag / Last-Modified → 304).
- **Retries** with exponential backoff on 5xx, timeouts and connection errors; never on 4xx.
"""

from __future__ import annotations

import threading
import time
import urllib.robotparser
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
from chalicelib.sources.guard import Guard, connect_checked
from chalicelib.sources.urls import host_key

USER_AGENT = "yuqing-crawler/0.1 (public-opinion monitoring; honours robots.txt; low rate)"
ROBOTS_AGENT = "yuqing-crawler"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    deadline_seconds: float = 40.0  # the whole fetch, retries and redirects included
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

    def wait(self, host: str) -> float:
        """Block until ``host`` may be asked again; returns the seconds waited."""
        with self._lock:
            now = self._monotonic()
            at = max(now, self._next.get(host, now))
            self._next[host] = at + self._interval
        delay = at - now
        if delay > 0:
            self._sleep(delay)
        return delay


def _guarded_adapter(guard: Guard) -> HTTPAdapter:
    """A requests adapter whose connections go only to addresses ``guard`` allows."""

    def new_conn(conn: HTTPConnection) -> Any:
        timeout = conn.timeout if isinstance(conn.timeout, int | float) else None
        try:
            return connect_checked(
                guard,
                conn._dns_host,  # the host as urllib3 would resolve it (TLS still uses conn.host)
                conn.port or 80,
                timeout,
                conn.source_address,
                conn.socket_options,
            )
        except TimeoutError as err:
            raise ConnectTimeoutError(conn, f"connect to {conn.host} timed out") from err
        except OSError as err:
            raise NewConnectionError(conn, f"cannot connect to {conn.host}: {err}") from err

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> Any:
            return new_conn(self)

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> Any:
            return new_conn(self)

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

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
            if err.code in {"blocked_address", "offline"}:
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
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._sleep = sleep
        self._monotonic = monotonic
        self._limiter = limiter or HostRateLimiter(
            self.policy.host_interval_seconds, monotonic, sleep
        )
        self._robots = robots or RobotsCache(self.policy.robots_ttl_seconds, monotonic)
        self._local = threading.local()

    def _session(self, guard: Guard) -> requests.Session:
        # Sessions are not documented as thread-safe: one per thread and guard.
        sessions: dict[Guard, requests.Session] = self._local.__dict__.setdefault("sessions", {})
        session = sessions.get(guard)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies, no .netrc: the guard must see the real peer
            session.verify = self.policy.ca_bundle or True
            adapter = _guarded_adapter(guard)
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
        """Fetch ``url`` following redirects; raises a :class:`FetchError` subclass on failure.

        Returns any final answer below 500 (4xx included, for the caller to judge); 5xx after the
        last retry raises :class:`HttpStatusError`.
        """
        started = self._monotonic()
        deadline = started + self.policy.deadline_seconds
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
                current, guard, lambda u: self._robots_fetch(u, guard)
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

    def _robots_fetch(self, url: str, guard: Guard) -> FetchResult:
        robots_policy = Fetcher(
            FetchPolicy(
                connect_timeout=self.policy.connect_timeout,
                read_timeout=self.policy.read_timeout,
                deadline_seconds=min(self.policy.deadline_seconds, 15.0),
                max_bytes=500 * 1024,
                attempts=2,
                backoff_seconds=self.policy.backoff_seconds,
            ),
            limiter=self._limiter,
            robots=self._robots,
            sleep=self._sleep,
            monotonic=self._monotonic,
        )
        return robots_policy.fetch(url, guard, accept="text/plain")

    def _with_retries(
        self, url: str, guard: Guard, headers: dict[str, str], deadline: float
    ) -> tuple[int, bytes, Mapping[str, str], int]:
        attempt = 0
        while True:
            attempt += 1
            self._limiter.wait(host_key(url))
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
        try:
            response = self._session(guard).get(
                url, headers=headers, timeout=timeout, stream=True, allow_redirects=False
            )
        except requests.Timeout:
            raise FetchTimeoutError(f"timed out fetching {url}") from None
        except requests.RequestException as err:
            raise _ConnectionFailed(f"cannot fetch {url}: {type(err).__name__}") from None
        with response:
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
            except requests.ConnectionError as err:
                if err.args and isinstance(err.args[0], ReadTimeoutError):
                    raise FetchTimeoutError(f"timed out reading {url}") from None
                raise _ConnectionFailed(f"connection broke reading {url}") from None
            except requests.RequestException as err:
                raise _ConnectionFailed(f"cannot read {url}: {type(err).__name__}") from None
            return response.status_code, b"".join(chunks), response.headers


class _ConnectionFailed(FetchError):
    """A connection-level failure worth a retry (internal: surfaces as :class:`FetchError`)."""
