"""Errors of fetching and parsing, in the application's one hierarchy.

Each has a stable ``code`` that is recorded as the source's ``last_error`` and returned by
``POST /sources/{id}/crawl``, so an operator (技术保障组) can tell a blocked address from a
timeout or a changed page format without reading logs.
"""

from __future__ import annotations

from chalicelib.core.errors import UnavailableError, YuqingError


class FetchError(UnavailableError):
    """A source could not be fetched."""

    code = "fetch_failed"


class BlockedUrlError(FetchError):
    """The SSRF guard refused the URL: a non-HTTP scheme or a non-public address."""

    status = 400
    code = "blocked_address"


class OfflineError(FetchError):
    """The offline switch is on and the URL is not on loopback; no network attempt was made."""

    code = "offline"


class TooLargeError(FetchError):
    code = "too_large"


class FetchTimeoutError(FetchError):
    code = "timeout"


class RobotsDisallowedError(FetchError):
    code = "robots_disallowed"


class HttpStatusError(FetchError):
    """The server answered with an error status (after retries for 5xx)."""

    code = "http_error"

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"HTTP {status} from {url}", details={"http_status": status})
        self.http_status = status


class SourceParseError(YuqingError):
    """The body is not what the adapter expects (malformed JSON/XML, a changed format)."""

    status = 502
    code = "parse_error"
