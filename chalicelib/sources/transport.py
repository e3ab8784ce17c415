"""One attempt of a fetch on the wire: its connections, its share of the deadline, its bytes.

:class:`~chalicelib.sources.fetcher.Fetcher` decides what to ask and how often — redirects,
retries, robots.txt, the host's turn, conditional GET. This module is what one try of that does
underneath, and the only code that reaches into urllib3's connection internals (``_new_conn``,
``_dns_host``, ``_put_conn``), which is why the lock pins urllib3 (:mod:`chalicelib.deploy.bundle`):

- **Guarded**: connections are opened by our own connection class through
  :func:`~chalicelib.sources.guard.connect_checked` (the SSRF guard), and none is kept for a
  later request.
- **Watched**: an :class:`Attempt` holds the request's share of the fetch's deadline. Socket
  timeouts alone cannot give that (a server that trickles a byte at a time never trips a read
  timeout), so a watchdog shuts the attempt's sockets down when the deadline passes, and name
  resolution — ``getaddrinfo`` has no timeout — is bounded too.
- **Capped**: the body is read in chunks under the size cap, so a 50 MB answer costs one chunk
  over the cap, not 50 MB of memory.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError

from chalicelib.sources.errors import FetchError, FetchTimeoutError, TooLargeError
from chalicelib.sources.guard import Guard, Resolver, connect_checked

_CHUNK = 64 * 1024


class ConnectionFailed(FetchError):
    """A connection-level failure worth a retry (the fetcher's own: after the last retry it
    surfaces as a plain :class:`FetchError`)."""


class Attempt:
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

    def __enter__(self) -> Attempt:
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

    def read_body(
        self, response: requests.Response, url: str, max_bytes: int, deadline: float
    ) -> bytes:
        """The whole body, at most ``max_bytes`` of it, read before ``deadline`` (the fetch's)."""
        late = FetchTimeoutError(f"gave up on {url}: the fetch deadline passed")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise TooLargeError(f"{url} declares {int(declared)} bytes; the cap is {max_bytes}")
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise TooLargeError(f"{url} sent more than the cap of {max_bytes} bytes")
                if self._monotonic() > deadline:
                    raise FetchTimeoutError(f"gave up on {url}: the body is too slow")
                chunks.append(chunk)
        except requests.RequestException as err:
            if self.expired:
                raise late from None
            if isinstance(err, requests.ConnectionError) and (
                err.args and isinstance(err.args[0], ReadTimeoutError)
            ):
                raise FetchTimeoutError(f"timed out reading {url}") from None
            raise ConnectionFailed(f"cannot read {url}: {type(err).__name__}") from None
        if self.expired:  # the watchdog ended the body early: what we have is not all
            raise late
        return b"".join(chunks)


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


def guarded_adapter(guard: Guard, attempt: Callable[[], Attempt]) -> HTTPAdapter:
    """A requests adapter whose connections go only to addresses ``guard`` allows, each watched
    by the current :class:`Attempt`."""

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
