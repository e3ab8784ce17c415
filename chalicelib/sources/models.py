"""Source definitions (监测来源) and their validation; a source's health record.

A source is data, not code: a kind (RSS/Atom, RSSHub route, a known hot list, a newsnow-compatible
aggregator, generic JSON or HTML), where to fetch it, how often, how much to trust it, and for the
generic kinds a mapping from the response to items. :func:`parse_definition` checks everything a
user can get wrong and reports every problem at once (400 with paths), so a bad definition never
reaches the crawler.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

from chalicelib.core.errors import Problem, ValidationError
from chalicelib.posts.models import Platform, parse_platform
from chalicelib.sources.adapters.generic import check_html_mapping, check_json_mapping
from chalicelib.sources.adapters.hotlists import HOTLISTS
from chalicelib.sources.guard import address_problem, literal_address, plain

SOURCE_ID = re.compile(r"\A[a-z0-9][a-z0-9_-]{0,63}\Z")  # \Z: "$" would take a final newline
# Aggregators refresh every 2–60 minutes; polling a public platform faster is rude and useless.
MIN_PUBLIC_INTERVAL_MINUTES = 2
MIN_LOCAL_INTERVAL_MINUTES = 1
MAX_INTERVAL_MINUTES = 24 * 60
DEFAULT_INTERVAL_MINUTES = 10
LOCAL_HINT = "only a source marked local, in local mode, reaches loopback: the local demo site"


class SourceKind(StrEnum):
    RSS = "rss"  # RSS / Atom feed
    RSSHUB = "rsshub"  # an RSSHub instance + route
    HOTLIST = "hotlist"  # a known platform hot list (热榜)
    NEWSNOW = "newsnow"  # a newsnow-compatible aggregator, /api/s?id=<feed>
    JSON = "json"  # generic JSON + JMESPath mapping
    HTML = "html"  # generic HTML + CSS selectors


# How much a source is believed by default, by kind (risk scoring weighs items by it).
DEFAULT_CREDIBILITY: dict[SourceKind, float] = {
    SourceKind.RSS: 0.7,
    SourceKind.RSSHUB: 0.6,
    SourceKind.HOTLIST: 0.5,
    SourceKind.NEWSNOW: 0.5,
    SourceKind.JSON: 0.6,
    SourceKind.HTML: 0.6,
}
DEFAULT_PLATFORM: dict[SourceKind, Platform] = {
    SourceKind.RSS: Platform.NEWS,
    SourceKind.RSSHUB: Platform.OTHER,
    SourceKind.HOTLIST: Platform.OTHER,
    SourceKind.NEWSNOW: Platform.OTHER,
    SourceKind.JSON: Platform.OTHER,
    SourceKind.HTML: Platform.OTHER,
}
_FIELDS = frozenset(
    {
        "id",
        "name",
        "kind",
        "url",
        "base",
        "route",
        "feed",
        "hotlist",
        "platform",
        "interval_minutes",
        "enabled",
        "local",
        "credibility",
        "mapping",
    }
)


@dataclass(frozen=True)
class SourceDefinition:
    """What to crawl and how; the stored ``definition`` of a source."""

    id: str
    name: str
    kind: SourceKind
    platform: Platform
    interval_minutes: int = DEFAULT_INTERVAL_MINUTES
    enabled: bool = True
    local: bool = False  # on loopback: the local demo site, in local mode only (decision 68)
    credibility: float = 0.5
    url: str | None = None
    base: str | None = None  # rsshub / newsnow instance
    route: str | None = None  # rsshub route, e.g. /weibo/user/1195230310
    feed: str | None = None  # newsnow feed id, e.g. weibo
    hotlist: str | None = None  # key of HOTLISTS
    mapping: dict[str, str] = field(default_factory=dict)

    @property
    def fetch_url(self) -> str:
        if self.kind is SourceKind.RSSHUB:
            return f"{(self.base or '').rstrip('/')}/{(self.route or '').lstrip('/')}"
        if self.kind is SourceKind.NEWSNOW:
            return f"{(self.base or '').rstrip('/')}/api/s?id={quote(self.feed or '')}"
        if self.kind is SourceKind.HOTLIST and not self.url:
            return HOTLISTS[self.hotlist or ""].url
        return self.url or ""

    @property
    def honours_robots(self) -> bool:
        """robots.txt applies to HTML pages (feeds and APIs are meant to be fetched)."""
        if self.kind is SourceKind.HTML:
            return True
        return self.kind is SourceKind.HOTLIST and HOTLISTS[self.hotlist or ""].html

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["platform"] = self.platform.value
        return {k: v for k, v in data.items() if v is not None and v != {}}


def _url_problems(value: Any, path: str, local: bool) -> list[Problem]:
    """What is wrong with a source's URL before any network use: the form, and where an IP
    literal (in any spelling the resolver accepts, ``0x7f.1`` included) points. A local source
    must name a loopback address; whether it is the demo site is the service's check, against
    what local mode serves (:meth:`SourceService.check_reach`)."""
    if not isinstance(value, str) or not value.strip():
        return [Problem(path, "required: an http(s) URL")]
    if len(value) > 2000:
        return [Problem(path, "at most 2000 characters")]
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return [Problem(path, "not a valid URL")]
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return [Problem(path, "must be an absolute http or https URL")]
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return [Problem(path, "invalid port")]
    host = parts.hostname
    address = literal_address(host)
    if local:
        if address is None or not plain(address).is_loopback:
            return [
                Problem(path, "a local source names the local demo site by its loopback address")
            ]
        return []
    if address is not None and (problem := address_problem(address)):
        extra = f" ({LOCAL_HINT})" if plain(address).is_loopback else ""
        return [Problem(path, f"refused: {host} is {problem}{extra}")]
    return []


def parse_definition(body: Mapping[str, Any], source_id: str | None = None) -> SourceDefinition:
    """A validated definition from a JSON object, or a :class:`ValidationError` listing problems.

    ``source_id`` (from the URL of a PUT) wins over, and must agree with, ``body["id"]``.
    """
    problems: list[Problem] = []
    problems += [Problem(f"/{k}", "unknown field") for k in body if k not in _FIELDS]

    sid = source_id if source_id is not None else body.get("id")
    if source_id is not None and "id" in body and body["id"] != source_id:
        problems.append(Problem("/id", "does not match the id in the path"))
    if not isinstance(sid, str) or not SOURCE_ID.match(sid):
        problems.append(
            Problem("/id", "required: 1-64 of a-z 0-9 _ - (starting with a letter or digit)")
        )
        sid = ""

    name = body.get("name", sid)
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        problems.append(Problem("/name", "a non-empty string of at most 100 characters"))
        name = ""

    try:
        kind = SourceKind(str(body.get("kind")))
    except ValueError:
        problems.append(Problem("/kind", f"one of {', '.join(k.value for k in SourceKind)}"))
        raise ValidationError("invalid source definition", problems) from None

    local = body.get("local", False)
    if not isinstance(local, bool):
        problems.append(Problem("/local", "true or false"))
        local = False
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(Problem("/enabled", "true or false"))
        enabled = True

    minimum = MIN_LOCAL_INTERVAL_MINUTES if local else MIN_PUBLIC_INTERVAL_MINUTES
    interval = body.get("interval_minutes", DEFAULT_INTERVAL_MINUTES)
    if isinstance(interval, bool) or not isinstance(interval, int):
        problems.append(Problem("/interval_minutes", "a whole number of minutes"))
        interval = DEFAULT_INTERVAL_MINUTES
    elif not minimum <= interval <= MAX_INTERVAL_MINUTES:
        why = "" if local else " (public platforms are never polled more often than every 2 min)"
        problems.append(
            Problem("/interval_minutes", f"between {minimum} and {MAX_INTERVAL_MINUTES}{why}")
        )

    credibility = body.get("credibility", DEFAULT_CREDIBILITY[kind])
    if isinstance(credibility, bool) or not isinstance(credibility, int | float):
        problems.append(Problem("/credibility", "a number in [0, 1]"))
        credibility = DEFAULT_CREDIBILITY[kind]
    elif not 0 <= credibility <= 1:
        problems.append(Problem("/credibility", "a number in [0, 1]"))

    platform = DEFAULT_PLATFORM[kind]
    hotlist = body.get("hotlist")
    if kind is SourceKind.HOTLIST:
        if not isinstance(hotlist, str) or hotlist not in HOTLISTS:
            problems.append(Problem("/hotlist", f"one of {', '.join(sorted(HOTLISTS))}"))
        else:
            platform = HOTLISTS[hotlist].platform
    elif hotlist is not None:
        problems.append(Problem("/hotlist", "only for kind hotlist"))
    if "platform" in body:
        # An id or what people write (微博, 抖音), as in POST /reports.
        named = parse_platform(body["platform"])
        if named is None:
            choices = ", ".join(f"{p.value} ({p.label})" for p in Platform)
            problems.append(Problem("/platform", f"one of {choices}"))
        platform = named or platform

    url = body.get("url")
    base, route, feed = body.get("base"), body.get("route"), body.get("feed")
    if kind in {SourceKind.RSS, SourceKind.JSON, SourceKind.HTML}:
        problems += _url_problems(url, "/url", local)
    elif kind is SourceKind.HOTLIST:
        if url is not None:
            problems += _url_problems(url, "/url", local)
    else:
        problems += _url_problems(base, "/base", local)
        if url is not None:
            problems.append(Problem("/url", f"not used by kind {kind.value}; set base"))
    if kind is SourceKind.RSSHUB:
        if not isinstance(route, str) or not route.startswith("/") or len(route) > 500:
            problems.append(Problem("/route", "required: an RSSHub route starting with '/'"))
    elif route is not None:
        problems.append(Problem("/route", "only for kind rsshub"))
    if kind is SourceKind.NEWSNOW:
        if not isinstance(feed, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", feed):
            problems.append(Problem("/feed", "required: the aggregator's feed id, e.g. weibo"))
    elif feed is not None:
        problems.append(Problem("/feed", "only for kind newsnow"))

    mapping = body.get("mapping")
    if kind in {SourceKind.JSON, SourceKind.HTML}:
        if not isinstance(mapping, dict):
            problems.append(Problem("/mapping", "required: an object of field → expression"))
            mapping = {}
        elif kind is SourceKind.JSON:
            problems += check_json_mapping(mapping, "/mapping")
        else:
            problems += check_html_mapping(mapping, "/mapping")
    elif mapping is not None:
        problems.append(Problem("/mapping", "only for kinds json and html"))
        mapping = {}

    if problems:
        raise ValidationError("invalid source definition", problems)
    return SourceDefinition(
        id=sid,
        name=name.strip(),
        kind=kind,
        platform=platform,
        interval_minutes=interval,
        enabled=enabled,
        local=local,
        credibility=float(credibility),
        url=url,
        base=base,
        route=route,
        feed=feed,
        hotlist=hotlist,
        mapping=dict(mapping or {}),
    )


@dataclass
class SourceHealth:
    """How a source has been doing (技术保障): the stored ``health`` of a source."""

    healthy: bool = True
    status: str = "new"  # new | ok | not_modified | failed | challenge | skipped
    last_attempt_at: str | None = None
    last_success_at: str | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    last_error_code: str | None = None
    last_items: int | None = None
    recent_items: list[int] = field(default_factory=list)  # items per successful crawl, newest last
    unhealthy_code: str | None = None  # challenge | failures | zero_items
    unhealthy_reason: str | None = None
    unhealthy_since: str | None = None
    # How many times the source has turned unhealthy: numbers its failure streaks (the alert of
    # streak n is keyed on n, so a redelivered crawl message alerts once; decision 74).
    outages: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SourceHealth:
        if not data:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)
