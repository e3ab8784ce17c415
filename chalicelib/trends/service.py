"""The live picture (舆情态势) as the dashboard reads it: the feed of scored posts, the clusters
growing fastest, and hourly volume and negative share per platform and subject.

Reads only what the scoring sink already writes (the ``by_day`` feed index, the hour counts and
cluster pages of the trends table, the cluster records): showing the picture adds no write to
any post. Query parameters are parsed here, once, into small frozen queries, so a bad value is a
400 naming the parameter and the views stay one call.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.clusters.store import ClusterStore
from chalicelib.core.clock import CHINA, Clock, iso, utcnow
from chalicelib.core.errors import Problem, ValidationError
from chalicelib.plan.checker import SLUG
from chalicelib.plan.models import LEVELS
from chalicelib.posts.models import PLATFORM_LABELS, Platform
from chalicelib.posts.store import FeedFilter, PostStore
from chalicelib.trends.models import clusters_of_day, hourly_series, top_clusters
from chalicelib.trends.store import RETENTION_DAYS, TrendStore
from chalicelib.trends.words import ALL, hot_words, total

MAX_FEED = 200
MAX_CLUSTERS = 50
MAX_HOURS = 168  # a week: the longest view the board offers
MAX_WORDS = 50
# Hot words rise against the week before the period.
BASELINE_HOURS = 168
_DAY = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
_POST_ID = re.compile(r"\A[A-Za-z0-9_-]{1,80}\Z")
_OTHER_DAY = "a cursor for another day than the one being read: read again without it"
# Stored attributes the feed does not serve: keys, bookkeeping and the raw score components.
_HIDDEN = {"pk", "day", "expires_at", "components"}


class _Params:
    """Reads one query string, collecting every problem before raising."""

    def __init__(self, params: Mapping[str, str] | None) -> None:
        # Unknown parameters are ignored, as on every other route.
        self.params = dict(params or {})
        self.problems: list[Problem] = []

    def choice(self, name: str, allowed: tuple[str, ...]) -> str | None:
        value = self.params.get(name)
        if value is None or value in allowed:
            return value
        self.problems.append(Problem(f"/{name}", f"one of {', '.join(allowed)}"))
        return None

    def flag(self, name: str) -> bool | None:
        value = self.choice(name, ("true", "false"))
        return None if value is None else value == "true"

    def number(self, name: str, default: int, top: int) -> int:
        text = self.params.get(name)
        if text is None:
            return default
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= top:
            self.problems.append(Problem(f"/{name}", f"a whole number from 1 to {top}"))
            return default
        return int(text)

    def slug(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None or SLUG.match(value):
            return value
        self.problems.append(Problem(f"/{name}", "a lower-case id (a-z, 0-9, _ or -; ≤ 32)"))
        return None

    def day(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None:
            return None
        try:
            if _DAY.match(value):
                date.fromisoformat(value)
                return value
        except ValueError:
            pass
        self.problems.append(Problem(f"/{name}", "a date YYYY-MM-DD"))
        return None

    def hour(self, name: str) -> int | None:
        text = self.params.get(name)
        if text is None:
            return None
        if text.isascii() and text.isdigit() and 0 <= int(text) <= 23:
            return int(text)
        self.problems.append(Problem(f"/{name}", "an hour of the China day, 0 to 23"))
        return None

    def check(self) -> None:
        if self.problems:
            raise ValidationError("invalid query", self.problems)


@dataclass(frozen=True)
class FeedQuery:
    filter: FeedFilter = field(default_factory=FeedFilter)
    limit: int = 50
    day: str | None = None  # None: today, then yesterday (UTC)
    cursor: dict[str, str] | None = None


@dataclass(frozen=True)
class ClusterQuery:
    hours: int = 24
    by: str = "growth"
    limit: int = 10
    drill: bool = False


@dataclass(frozen=True)
class TrendQuery:
    hours: int = 24


@dataclass(frozen=True)
class WordsQuery:
    day: str | None = None  # a China date; None: today
    hour: int | None = None  # an hour of that China day; None: the whole day
    subject: str | None = None  # None: every post
    limit: int = 20


def parse_feed_query(params: Mapping[str, str] | None) -> FeedQuery:
    p = _Params(params)
    flt = FeedFilter(
        subject=p.slug("subject"),
        platform=p.choice("platform", tuple(x.value for x in Platform)),
        level=p.choice("level", LEVELS),
        negative_only=bool(p.flag("negative")),
        drill=bool(p.flag("drill")),
    )
    query = FeedQuery(flt, p.number("limit", 50, MAX_FEED), p.day("day"))
    text = p.params.get("cursor")
    cursor = _decode_cursor(text) if text is not None else None
    if text is not None and cursor is None:
        p.problems.append(Problem("/cursor", "not a cursor this API gave out"))
    elif cursor and query.day and cursor["day"] != query.day:
        p.problems.append(Problem("/cursor", _OTHER_DAY))
    p.check()
    return FeedQuery(query.filter, query.limit, query.day, cursor)


def parse_cluster_query(params: Mapping[str, str] | None) -> ClusterQuery:
    p = _Params(params)
    query = ClusterQuery(
        hours=p.number("hours", 24, MAX_HOURS),
        by=p.choice("by", ("growth", "posts", "risk")) or "growth",
        limit=p.number("limit", 10, MAX_CLUSTERS),
        drill=bool(p.flag("drill")),
    )
    p.check()
    return query


def parse_trend_query(params: Mapping[str, str] | None) -> TrendQuery:
    p = _Params(params)
    query = TrendQuery(hours=p.number("hours", 24, MAX_HOURS))
    p.check()
    return query


def parse_words_query(params: Mapping[str, str] | None) -> WordsQuery:
    p = _Params(params)
    query = WordsQuery(
        day=p.day("day"),
        hour=p.hour("hour"),
        subject=p.slug("subject"),
        limit=p.number("limit", 20, MAX_WORDS),
    )
    p.check()
    return query


def period_hot_words(
    trends: TrendStore,
    key: str,
    start: datetime,
    end: datetime,
    limit: int,
    baseline_hours: int = BASELINE_HOURS,
) -> dict[str, Any]:
    """The hot words of the UTC hours in [start, end) against the ``baseline_hours`` before
    ``start`` (the 周报 and 月报 pass their own length), for ``key`` (``words.ALL`` or a
    subject id): one Query per UTC day."""
    base_start = start - timedelta(hours=baseline_hours)
    days, day = [], base_start.date()
    while day <= (end - timedelta(microseconds=1)).date():
        days.append(day.isoformat())
        day += timedelta(days=1)
    current, baseline = [], []
    for counts in trends.words(key, days):
        at = datetime.fromisoformat(counts.day).replace(hour=counts.hour, tzinfo=UTC)
        if start <= at < end:
            current.append(counts)
        elif base_start <= at < start:
            baseline.append(counts)
    posts, used = total(current)
    baseline_posts, used_before = total(baseline)
    return {
        "posts": posts,
        "baseline_posts": baseline_posts,
        "words": [
            h.as_dict() for h in hot_words(posts, used, baseline_posts, used_before, limit=limit)
        ],
    }


def encode_cursor(key: Mapping[str, Any]) -> str:
    raw = json.dumps({k: str(key[k]) for k in ("pk", "day", "seen_at")}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(text: str) -> dict[str, str] | None:
    if len(text) > 400:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        key = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(key, dict) or set(key) != {"pk", "day", "seen_at"}:
        return None
    if not all(isinstance(v, str) for v in key.values()):
        return None
    if not (_POST_ID.match(key["pk"]) and _DAY.match(key["day"]) and 0 < len(key["seen_at"]) < 40):
        return None
    try:
        date.fromisoformat(key["day"])
    except ValueError:  # the pattern of a date, not one in the calendar (2026-99-99)
        return None
    return {str(k): str(v) for k, v in key.items()}


def public_post(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored post as the feed serves it: ``post_id`` instead of the table key."""
    return {"post_id": record["pk"], **{k: v for k, v in record.items() if k not in _HIDDEN}}


def _days_back(now: datetime, hours: int) -> tuple[list[tuple[str, int]], list[str]]:
    """The window's hour slots (oldest first, ending with the current hour) and its UTC days."""
    top = now.replace(minute=0, second=0, microsecond=0)
    moments = [top - timedelta(hours=n) for n in range(hours - 1, -1, -1)]
    slots = [(m.date().isoformat(), m.hour) for m in moments]
    return slots, list(dict.fromkeys(day for day, _ in slots))


class TrendQueries:
    """Feed, clusters and trend lines; takes its stores (and a clock) in the constructor."""

    def __init__(
        self, posts: PostStore, trends: TrendStore, clusters: ClusterStore, clock: Clock = utcnow
    ) -> None:
        self._posts = posts
        self._trends = trends
        self._clusters = clusters
        self._clock = clock

    def feed(self, query: FeedQuery) -> dict[str, Any]:
        """Newest feed posts first; without ``day`` today's, then yesterday's (UTC), so the feed
        is never empty just after midnight.

        Each day is read within the store's page budget, so a narrow filter on a busy day
        answers with fewer than ``limit`` posts (even none) and a ``next_cursor`` to read on. A
        cursor names its day: one for a day this request does not read (another ``day``, or
        one that is no longer today or yesterday) is a 400, never a silent first page.
        """
        if query.day:
            days = [query.day]
        else:
            today = self._clock().date()
            days = [today.isoformat(), (today - timedelta(days=1)).isoformat()]
        cursor = query.cursor
        if cursor:
            if cursor["day"] not in days:
                raise ValidationError("invalid query", [Problem("/cursor", _OTHER_DAY)])
            days = [d for d in days if d <= cursor["day"]]
        posts: list[dict[str, Any]] = []
        next_key: dict[str, Any] | None = None
        for day in days:
            start = cursor if cursor and cursor["day"] == day else None
            page = self._posts.feed(day, query.filter, query.limit - len(posts), start)
            posts.extend(public_post(p) for p in page.posts)
            if page.cursor is not None:
                next_key = page.cursor
                break
        return {
            "posts": posts,
            "next_cursor": encode_cursor(next_key) if next_key else None,
        }

    def clusters(self, query: ClusterQuery) -> dict[str, Any]:
        """The top clusters of the last ``hours`` with each cluster's story and top posts."""
        now = self._clock()
        cutoff = iso(now - timedelta(hours=query.hours))
        _, days = _days_back(now, query.hours)
        pages = [p for day in days for p in self._trends.pages(day) if p.last_seen >= cutoff]
        top = top_clusters(clusters_of_day(pages, drill=query.drill), query.by, query.limit)
        rows = []
        for entry in top:
            cluster = self._clusters.get(entry.cluster_id)
            rows.append(
                {
                    "cluster_id": entry.cluster_id,
                    "posts_in_window": entry.posts_today,
                    "count": entry.count,
                    "growth": entry.growth,
                    "level": entry.level,
                    "max_risk": entry.max_risk,
                    "last_seen": entry.last_seen,
                    "story": cluster.story if cluster else "",
                    "first_seen": iso(cluster.first_seen) if cluster else None,
                    "platforms": list(cluster.platforms) if cluster else [],
                    "subjects": list(cluster.subjects) if cluster else [],
                    "top_posts": [p.as_dict() for p in (cluster.top_posts if cluster else ())],
                }
            )
        return {"hours": query.hours, "by": query.by, "clusters": rows}

    def trends(self, query: TrendQuery) -> dict[str, Any]:
        """Posts and negative posts per hour, in all, per platform and per subject."""
        slots, days = _days_back(self._clock(), query.hours)
        series = hourly_series(slots, (c for day in days for c in self._trends.hours(day)))

        def lines(by: dict[str, tuple[list[int], list[int]]], name: str) -> list[dict[str, Any]]:
            return [
                {name: key, "posts": posts, "negative": negative}
                for key, (posts, negative) in by.items()
            ]

        labels = {p.value: label for p, label in PLATFORM_LABELS.items()}
        platforms = lines(series.by_platform, "platform")
        for line in platforms:
            line["label"] = labels.get(line["platform"], line["platform"])
        total, negative = sum(series.posts), sum(series.negative)
        return {
            "hours": series.hours,
            "posts": series.posts,
            "negative": series.negative,
            "totals": {
                "posts": total,
                "negative": negative,
                "negative_share": round(negative / total, 4) if total else 0.0,
                "levels": series.levels,
            },
            "platforms": platforms,
            "subjects": lines(series.by_subject, "subject"),
        }

    def words(self, query: WordsQuery) -> dict[str, Any]:
        """The hot words (热词) of a China day, or of one hour of it, overall or of one subject,
        against the 7 days before. Today's period ends with the current hour."""
        now = self._clock()
        today = now.astimezone(CHINA).date()
        day = date.fromisoformat(query.day) if query.day else today
        if (today - day).days > RETENTION_DAYS:
            problem = Problem(
                "/day", f"at most {RETENTION_DAYS} days ago: counts are not kept longer"
            )
            raise ValidationError("invalid query", [problem])
        start = datetime(day.year, day.month, day.day, tzinfo=CHINA).astimezone(UTC)
        end = start + timedelta(days=1)
        if query.hour is not None:
            start += timedelta(hours=query.hour)
            end = start + timedelta(hours=1)
        if start > now:
            raise ValidationError("invalid query", [Problem("/day", "a period in the future")])
        end = min(end, now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
        found = period_hot_words(self._trends, query.subject or ALL, start, end, query.limit)
        return {
            "day": day.isoformat(),
            "hour": query.hour,
            "subject": query.subject,
            "period": {"start": iso(start), "end": iso(end)},
            "baseline_hours": BASELINE_HOURS,
            **found,
        }
