"""Trend counts and cluster pages (舆情态势): what the dashboard and the daily briefing read.

Pure data and arithmetic, no I/O (storage is :mod:`chalicelib.trends.store`). Volume, negative
share, levels and subjects are counted per UTC hour and platform, so one update per batch
covers every post in it instead of an index entry per post; which stories a day had is kept as
one **cluster page** per cluster per batch (the batch's new posts of that cluster), which also
lists a cluster's posts without an index on the posts table.

Hours and days are UTC; a China day (舆情日报) is 16:00 UTC of the day before to 16:00 UTC,
i.e. two UTC days' items filtered by hour.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chalicelib.plan.defaults import more_severe
from chalicelib.plan.models import LEVELS


@dataclass(frozen=True)
class Counted:
    """One new, non-drill post as the trend counts see it."""

    seen_at: str  # ISO-8601 UTC
    platform: str
    negative: bool
    sentiment: float
    level: str | None
    subjects: tuple[str, ...] = ()


@dataclass
class HourCounts:
    """Posts first stored for one UTC hour and platform."""

    day: str  # YYYY-MM-DD
    hour: int  # 0-23
    platform: str
    posts: int = 0
    negative: int = 0
    sentiment_sum: float = 0.0
    levels: Counter[str] = field(default_factory=Counter)
    subjects: Counter[str] = field(default_factory=Counter)
    subjects_negative: Counter[str] = field(default_factory=Counter)

    @property
    def negative_share(self) -> float:
        return self.negative / self.posts if self.posts else 0.0

    @property
    def mean_sentiment(self) -> float:
        return self.sentiment_sum / self.posts if self.posts else 0.0


def hour_counts(posts: Iterable[Counted]) -> list[HourCounts]:
    """The batch's posts grouped by (UTC hour, platform): one stored update per group."""
    groups: dict[tuple[str, int, str], HourCounts] = {}
    for post in posts:
        day, hour = post.seen_at[:10], int(post.seen_at[11:13])
        counts = groups.setdefault((day, hour, post.platform), HourCounts(day, hour, post.platform))
        counts.posts += 1
        counts.negative += int(post.negative)
        counts.sentiment_sum += post.sentiment
        if post.level:
            counts.levels[post.level] += 1
        for subject in post.subjects:
            counts.subjects[subject] += 1
            counts.subjects_negative[subject] += int(post.negative)
    return sorted(groups.values(), key=lambda c: (c.day, c.hour, c.platform))


@dataclass(frozen=True)
class ClusterPage:
    """The new posts one batch added to one cluster on one day, with the cluster after it."""

    day: str
    cluster_id: str
    post_ids: tuple[str, ...]
    seen: tuple[str, ...]  # each post's seen_at, same order
    risks: tuple[float, ...]
    count: int  # the cluster's total after this batch
    growth: float
    level: str | None
    max_risk: float
    drill: bool = False

    @property
    def last_seen(self) -> str:
        return max(self.seen)


@dataclass(frozen=True)
class ClusterOfDay:
    """One cluster as a day saw it: posts that day, and its state at its last page."""

    cluster_id: str
    posts_today: int
    count: int
    growth: float
    level: str | None
    max_risk: float
    last_seen: str


def clusters_of_day(pages: Sequence[ClusterPage], drill: bool = False) -> list[ClusterOfDay]:
    """Fold a day's pages into one entry per cluster (drill clusters only when asked)."""
    by_cluster: dict[str, list[ClusterPage]] = {}
    for page in pages:
        if page.drill == drill:
            by_cluster.setdefault(page.cluster_id, []).append(page)
    result = []
    for cluster_id, group in by_cluster.items():
        latest = max(group, key=lambda p: (p.count, p.last_seen))
        result.append(
            ClusterOfDay(
                cluster_id=cluster_id,
                posts_today=sum(len(p.post_ids) for p in group),
                count=latest.count,
                growth=latest.growth,
                level=_highest(p.level for p in group),
                max_risk=max(p.max_risk for p in group),
                last_seen=max(p.last_seen for p in group),
            )
        )
    return result


def top_clusters(
    clusters: Iterable[ClusterOfDay], by: str = "growth", limit: int = 10
) -> list[ClusterOfDay]:
    """The top clusters by ``growth`` (velocity), ``posts`` (that day) or ``risk``."""
    keys = {
        "growth": lambda c: (c.growth, c.posts_today, c.cluster_id),
        "posts": lambda c: (c.posts_today, c.growth, c.cluster_id),
        "risk": lambda c: (c.max_risk, c.posts_today, c.cluster_id),
    }
    if by not in keys:
        raise ValueError(f"unknown ordering {by!r}")
    return sorted(clusters, key=keys[by], reverse=True)[:limit]


@dataclass(frozen=True)
class DaySummary:
    """One day's volume, sentiment trend and platform distribution (舆情日报 figures)."""

    day: str
    posts: int
    negative: int
    by_platform: dict[str, int]
    by_subject: dict[str, int]
    levels: dict[str, int]
    hourly: list[tuple[int, int, float]]  # (hour, posts, negative share)

    @property
    def negative_share(self) -> float:
        return self.negative / self.posts if self.posts else 0.0


def summarise_day(day: str, hours: Iterable[HourCounts]) -> DaySummary:
    platforms: Counter[str] = Counter()
    subjects: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    per_hour: dict[int, list[int]] = {}
    posts = negative = 0
    for h in hours:
        posts += h.posts
        negative += h.negative
        platforms[h.platform] += h.posts
        subjects.update(h.subjects)
        levels.update(h.levels)
        slot = per_hour.setdefault(h.hour, [0, 0])
        slot[0] += h.posts
        slot[1] += h.negative
    return DaySummary(
        day=day,
        posts=posts,
        negative=negative,
        by_platform=dict(platforms.most_common()),
        by_subject=dict(subjects.most_common()),
        levels={lv: levels[lv] for lv in LEVELS if levels[lv]},
        hourly=[(hr, n, neg / n if n else 0.0) for hr, (n, neg) in sorted(per_hour.items())],
    )


@dataclass(frozen=True)
class Series:
    """Hourly lines for the dashboard's trend charts: one value per hour of the window."""

    hours: list[str]  # each hour's start, ISO-8601 UTC
    posts: list[int]
    negative: list[int]
    by_platform: dict[str, tuple[list[int], list[int]]]  # platform → (posts, negative)
    by_subject: dict[str, tuple[list[int], list[int]]]  # subject → (posts, negative)
    levels: dict[str, int]


def hourly_series(slots: Sequence[tuple[str, int]], counts: Iterable[HourCounts]) -> Series:
    """Counts laid on the window's hours ``slots`` ((day, hour), oldest first); counts outside
    the window are left out, and an hour without posts is a zero, not a gap."""
    index = {slot: n for n, slot in enumerate(slots)}
    size = len(slots)
    posts, negative = [0] * size, [0] * size
    platforms: dict[str, tuple[list[int], list[int]]] = {}
    subjects: dict[str, tuple[list[int], list[int]]] = {}
    levels: Counter[str] = Counter()
    for c in counts:
        n = index.get((c.day, c.hour))
        if n is None:
            continue
        posts[n] += c.posts
        negative[n] += c.negative
        line = platforms.setdefault(c.platform, ([0] * size, [0] * size))
        line[0][n] += c.posts
        line[1][n] += c.negative
        for subject, count in c.subjects.items():
            line = subjects.setdefault(subject, ([0] * size, [0] * size))
            line[0][n] += count
            line[1][n] += c.subjects_negative.get(subject, 0)
        levels.update(c.levels)
    return Series(
        hours=[f"{day}T{hour:02d}:00:00+00:00" for day, hour in slots],
        posts=posts,
        negative=negative,
        by_platform=dict(sorted(platforms.items(), key=lambda kv: -sum(kv[1][0]))),
        by_subject=dict(sorted(subjects.items(), key=lambda kv: -sum(kv[1][0]))),
        levels={lv: levels[lv] for lv in LEVELS if levels[lv]},
    )


def _highest(levels: Iterable[str | None]) -> str | None:
    best: str | None = None
    for level in levels:
        if level and more_severe(level, best):
            best = level
    return best
