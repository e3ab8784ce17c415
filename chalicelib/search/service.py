"""``GET /posts?q=<rule>``: the feed posts of a window (≤ 31 days) that a subject rule matches.

The rule is a subject rule (:mod:`chalicelib.scoring.rules`: AND, OR, NOT, NEAR/n, phrases),
parsed once per request and matched in Python on each post's title and text, because DynamoDB
has no such matching. The posts are read from the feed index ``by_day`` — the posts the scoring
sink listed (about a subject, with a level, or reported) — day by day, newest first; no other
index lists posts by time, and adding one would cost a write unit on every stored post.

Each request has a **read budget**: at most :data:`READ_BUDGET` index entries (each post is at
most 1 KB, so at most 250 read units) in at most :data:`MAX_QUERIES` queries. The first query
reads ``max(limit, 100)`` entries and each next one twice as many (within the budget left): a
common rule fills its page cheaply, a rare one reaches its budget in a few queries. The answer
stops at ``limit`` posts or at the budget, whichever comes first, with a cursor at the last entry
read; ``budget_spent`` says a short page is short because of the budget, not the window's end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import Problem, ValidationError
from chalicelib.posts.store import FeedFilter, IndexRead, PostStore, key_of
from chalicelib.scoring.rules import Rule, RuleSyntaxError, parse
from chalicelib.search.models import (
    BOUND_FORMAT,
    DEFAULT_WINDOW,
    MAX_WINDOW,
    Position,
    SearchCursor,
    Window,
    decode_cursor,
    encode_cursor,
    fingerprint,
    parse_bound,
    searchable_text,
)
from chalicelib.trends.service import FeedQuery, parse_feed_query, public_post

READ_BUDGET = 2000  # index entries read per request
MAX_QUERIES = 40  # a 31-day window touches 32 UTC days, and an empty day is still a query
FIRST_READ = 100
_SEARCH_ONLY = ("q", "from", "to", "cursor", "day")


@dataclass(frozen=True)
class SearchQuery:
    rule: Rule
    filter: FeedFilter
    limit: int
    since: datetime | None = None  # None: DEFAULT_WINDOW before ``until`` (or the cursor's)
    until: datetime | None = None  # None: now (or the cursor's)
    cursor: SearchCursor | None = None

    @property
    def fingerprint(self) -> str:
        f = self.filter
        values = [f.subject, f.platform, f.level, f.negative_only, f.drill]
        return fingerprint([self.rule.text, *values])


def parse_search_query(params: Mapping[str, str]) -> SearchQuery:
    """The query string of a search; every problem at once, a bad rule's with its position."""
    problems: list[Problem] = []
    try:
        feed = parse_feed_query({k: v for k, v in params.items() if k not in _SEARCH_ONLY})
    except ValidationError as err:
        problems += err.problems
        feed = FeedQuery()
    rule: Rule | None = None
    try:
        rule = parse(params.get("q", ""))
    except RuleSyntaxError as err:
        problems.append(Problem("/q", str(err), err.position))
    if "day" in params:
        problems.append(Problem("/day", "not with q: a search reads from `from` to `to`"))
    bounds: dict[str, datetime | None] = {}
    for name in ("from", "to"):
        text = params.get(name)
        bounds[name] = None if text is None else parse_bound(text, end=name == "to")
        if text is not None and bounds[name] is None:
            problems.append(Problem(f"/{name}", BOUND_FORMAT))
    cursor = None
    if "cursor" in params:
        cursor = decode_cursor(params["cursor"])
        if cursor is None:
            problems.append(Problem("/cursor", "not a cursor this API gave out"))
    if problems or rule is None:
        raise ValidationError("invalid query", problems)
    return SearchQuery(rule, feed.filter, feed.limit, bounds["from"], bounds["to"], cursor)


def resolve_window(since: datetime | None, until: datetime | None, now: datetime) -> Window:
    """The window asked for: ``to`` defaults to now, ``from`` to a week before ``to``."""
    end = until if until is not None else now
    start = since if since is not None else end - DEFAULT_WINDOW
    if end < start:
        where, why = ("/to", "not before `from`") if until else ("/from", "after now (`to`)")
        raise ValidationError("invalid query", [Problem(where, why)])
    if end - start > MAX_WINDOW:
        where = "/to" if until is not None else "/from"
        days = MAX_WINDOW.days
        message = f"a search reads at most {days} days: `from` to `to` (now if not given)"
        raise ValidationError("invalid query", [Problem(where, message)])
    return Window(start, end)


@dataclass
class _Page:
    posts: list[dict[str, Any]]
    examined: int = 0
    queries: int = 0
    next: Position | None = None
    budget_spent: bool = False


class PostSearch:
    """Searches the feed index; takes the post store, a clock and its budget in the constructor."""

    def __init__(
        self,
        posts: PostStore,
        clock: Clock = utcnow,
        budget: int = READ_BUDGET,
        max_queries: int = MAX_QUERIES,
        first_read: int = FIRST_READ,
    ) -> None:
        self._posts = posts
        self._clock = clock
        self._budget = budget
        self._max_queries = max_queries
        self._first_read = first_read

    def search(self, query: SearchQuery) -> dict[str, Any]:
        """One page of posts the rule matches, newest first, and where to go on."""
        window = self._window(query)
        days = window.days()
        start = query.cursor.position if query.cursor else Position(days[0]) if days else None
        page = self._read(query, window, days, start) if start else _Page([])
        next_cursor = None
        if page.next is not None:
            next_cursor = encode_cursor(SearchCursor(query.fingerprint, window, page.next))
        return {
            "q": query.rule.text,
            "from": iso(window.since),
            "to": iso(window.until),
            "posts": page.posts,
            "next_cursor": next_cursor,
            "more": next_cursor is not None,
            "budget_spent": page.budget_spent,
            "examined": page.examined,
            "searched_to": _searched_to(window, page.next),
        }

    def _window(self, query: SearchQuery) -> Window:
        cursor = query.cursor
        if cursor is None:
            return resolve_window(query.since, query.until, self._clock())
        if cursor.fingerprint != query.fingerprint:
            why = "a cursor of another search (q or the filters changed): search again without it"
            raise ValidationError("invalid query", [Problem("/cursor", why)])
        since = query.since if query.since is not None else cursor.window.since
        until = query.until if query.until is not None else cursor.window.until
        if (since, until) != (cursor.window.since, cursor.window.until):
            why = "a cursor of another window (from/to changed): search again without it"
            raise ValidationError("invalid query", [Problem("/cursor", why)])
        return cursor.window

    def _read(self, query: SearchQuery, window: Window, days: list[str], start: Position) -> _Page:
        page = _Page([])
        size = max(query.limit, self._first_read)
        first = days.index(start.day)
        for n in range(first, len(days)):
            day = days[n]
            after = days[n + 1] if n + 1 < len(days) else None
            since, until = window.bounds(day)
            key = start.key if n == first else None
            while True:
                if page.examined >= self._budget or page.queries >= self._max_queries:
                    page.next, page.budget_spent = Position(day, key), True
                    return page
                read = self._posts.read_day(
                    day,
                    query.filter,
                    since=since,
                    until=until,
                    limit=min(size, self._budget - page.examined),
                    start=key,
                )
                page.queries += 1
                page.examined += read.examined
                size *= 2
                if self._take(query, page, read, day, after):
                    return page
                key = read.last_key
                if key is None:
                    break
        return page

    @staticmethod
    def _take(
        query: SearchQuery, page: _Page, read: IndexRead, day: str, after: str | None
    ) -> bool:
        """Add the posts of ``read`` that the rule matches; True once the page is full (with
        ``page.next`` set to where the next page starts)."""
        for n, record in enumerate(read.posts):
            hits = query.rule.match(searchable_text(record), normalised=True)
            if hits is None:
                continue
            page.posts.append({**public_post(record), "matched": list(hits)})
            if len(page.posts) < query.limit:
                continue
            if n + 1 < len(read.posts):
                page.next = Position(day, key_of(record))
            elif read.last_key is not None:
                page.next = Position(day, read.last_key)
            elif after is not None:
                page.next = Position(after)
            return True
        return False


def _searched_to(window: Window, position: Position | None) -> str:
    """Every post of the window newer than this has been read (down to ``from`` at the end)."""
    if position is None:
        return iso(window.since)
    if position.key is not None:
        return str(position.key["seen_at"])
    return iso(window.end_of(position.day))
