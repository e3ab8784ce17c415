"""The one HTTP client every source kind and evidence capture go through: polite, bounded, guarded.

- **Guarded** (:mod:`.guard`): connections go only to checked addresses (see :mod:`.transport`);
  redirects are followed by hand, each hop checked again. The environment's proxy settings are
  ignored (``trust_env=False``): a proxy would make the peer address meaningless for the guard.
- **Bounded**: connect and read timeouts, a body size cap enforced while streaming, and one
  **deadline for the whole fetch**: name resolution, the wait for the host's turn, connects,
  reads, backoff, retries, robots.txt and redirects all come out of it; each attempt's share is
  enforced by a watchdog (:class:`~.transport.Attempt`). Scheduled crawls have 40 s (the
  worker's Lambda has 60); API paths take a fetcher :meth:`Fetcher.with_deadline` of 20 s,
  because API Gateway gives up on a request after 29 s (decision 69).
- **Polite**: a User-Agent naming the project, a per-host minimum interval between requests in
  this process (:class:`HostRateLimiter`; across Lambda invocations the dispatcher spaces messages
  for the same host), robots.txt for HTML pages (RFC 9309: 4xx → no rules, 5xx or unreachable →
  disallow all; cached an hour), and conditional GET (ETag / Last-Modified → 304).
- **Retries** with exponential backoff on 5xx, timeouts and connection errors; never on 4xx.
"""

from __future__ import annotations

import copy
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

import requests

from chalicelib.sources.errors import (
    FetchError,
    FetchTimeoutError,
    HttpStatusError,
    RobotsDisallowedError,
)
from chalicelib.sources.guard import Guard, Resolver, system_resolver
from chalicelib.sources.transport import Attempt, ConnectionFailed, guarded_adapter
from chalicelib.sources.urls import host_key

USER_AGENT = "yuqing-crawler/0.1 (public-opinion monitoring; honours robots.txt; low rate)"
ROBOTS_AGENT = "yuqing-crawler"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
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
            adapter = guarded_adapter(guard, lambda: self._local.attempt)
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
            except (FetchTimeoutError, ConnectionFailed) as err:
                error = err
            else:
                if status < 500:
                    return status, body, answer_headers, attempt
                error = HttpStatusError(status, url)
            backoff = self.policy.backoff_seconds * 2 ** (attempt - 1)
            if attempt >= self.policy.attempts or self._monotonic() + backoff >= deadline:
                if isinstance(error, ConnectionFailed):
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
        with Attempt(remaining, self._monotonic, self._resolver) as attempt:
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
        attempt: Attempt,
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
            raise ConnectionFailed(f"cannot fetch {url}: {type(err).__name__}") from None
        with response:
            body = attempt.read_body(response, url, self.policy.max_bytes, deadline)
        return response.status_code, body, response.headers
