"""A real HTTP server on 127.0.0.1 for crawl tests: fixtures, slow, hanging, huge, failing answers.

Tests never mock ``requests``: they point the fetcher at this server. Each path is a
:class:`Route`; the server counts hits and keeps request headers so tests can assert what the
crawler sent (conditional headers, User-Agent) and how often (retries, duplicates).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from chalicelib.sources.guard import LOCAL_SITES, Guard, LocalSite

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    etag: str | None = None  # answer 304 when If-None-Match matches
    hang: bool = False  # accept the request and never answer
    stream_bytes: int = 0  # send this many bytes without Content-Length
    trickle: float = 0.0  # send the whole answer, status line first, one byte every this many s
    # Hold each request until this many are waiting on the path (at most 2 s): requests that
    # were sent together are then answered together, so they overlap however fast each is.
    gather: int = 0


class FixtureServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.seen_headers: list[dict[str, str]] = []
        self.bytes_sent = 0
        self.stopping = threading.Event()
        self._gathered: dict[str, int] = {}
        self._gathering = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path
                server.hits[path] += 1
                server.seen_headers.append({k: v for k, v in self.headers.items()})
                route = server.routes.get(path)
                if route is None:
                    self._answer(404, b"not found", "text/plain", {})
                    return
                if route.hang:
                    server.stopping.wait(30)
                    return
                if route.gather:
                    server.gather(path, route.gather)
                if route.trickle:
                    self._trickle(route)
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self._answer(304, b"", None, {"ETag": route.etag})
                    return
                headers = dict(route.headers)
                if route.etag:
                    headers["ETag"] = route.etag
                if route.stream_bytes:
                    self._stream(route, headers)
                    return
                self._answer(route.status, route.body, route.content_type, headers)

            def _answer(
                self, status: int, body: bytes, content_type: str | None, headers: dict[str, str]
            ) -> None:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def _trickle(self, route: Route) -> None:
                """Never silent for as long as a read timeout, never done: what socket timeouts
                alone cannot bound."""
                answer = (
                    f"HTTP/1.1 {route.status} OK\r\nContent-Type: {route.content_type}\r\n"
                    f"Content-Length: {len(route.body)}\r\nConnection: close\r\n\r\n"
                ).encode() + route.body
                self.close_connection = True
                try:
                    for index in range(len(answer)):
                        if server.stopping.wait(route.trickle):
                            return
                        self.wfile.write(answer[index : index + 1])
                        self.wfile.flush()
                except OSError:
                    pass  # the client hung up: what a deadline should do

            def _stream(self, route: Route, headers: dict[str, str]) -> None:
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = b"x" * 65536
                left = route.stream_bytes
                try:
                    while left > 0 and not server.stopping.is_set():
                        part = chunk[: min(left, len(chunk))]
                        self.wfile.write(part)
                        server.bytes_sent += len(part)
                        left -= len(part)
                except OSError:
                    pass  # the client hung up: what a size cap should do
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def gather(self, path: str, count: int) -> None:
        with self._gathering:
            self._gathered[path] = self._gathered.get(path, 0) + 1
            self._gathering.notify_all()
            self._gathering.wait_for(lambda: self._gathered[path] >= count, timeout=2.0)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def site(self) -> LocalSite:
        """This server as a local site: what a guard must name to let a fetch reach it."""
        return LocalSite("127.0.0.1", self.port)

    @property
    def reach(self) -> Guard:
        """A guard that reaches this server (and public addresses), as local mode's would."""
        return Guard(local_sites=frozenset({self.site}))

    def start(self) -> FixtureServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def serve() -> Iterator[FixtureServer]:
    """A started server, stopped afterwards: ``yield from serve()`` in a module's fixture."""
    server = FixtureServer().start()
    yield server
    server.stop()


def serve_as_local_site() -> Iterator[FixtureServer]:
    """A started server that local mode's API treats as its demo site while the test runs (it is
    registered in ``LOCAL_SITES``, as the demo site registers itself)."""
    server = FixtureServer().start()
    LOCAL_SITES.add(server.site)
    yield server
    LOCAL_SITES.discard(server.site)
    server.stop()
