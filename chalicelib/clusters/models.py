"""A cluster (事件簇): the posts that tell one story, with its spread and its current level.

Pure data and arithmetic: how a cluster absorbs new posts, how fast it is growing against its
own baseline, which posts are its top ones. Storage is in :mod:`chalicelib.clusters.store`.

Velocity is counted in windows of :data:`WINDOW_SECONDS`: ``growth`` is the number of posts in
the window ending now divided by the cluster's own average per window before it (at least one
post per window, so a brand-new story that arrives as a burst counts as growth).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from chalicelib.plan.defaults import more_severe

WINDOW_SECONDS = 600
WINDOWS_KEPT = 12
TOP_POSTS = 5
BASELINE_FLOOR = 1.0  # posts per window


def window_of(moment: datetime) -> int:
    return int(moment.timestamp()) // WINDOW_SECONDS


@dataclass(frozen=True)
class PostSummary:
    post_id: str
    title: str
    risk: float
    platform: str
    url: str | None = None

    def as_dict(self) -> dict[str, str | float | None]:
        """As stored in the cluster record and served in ``GET /clusters``."""
        return {
            "post_id": self.post_id,
            "title": self.title,
            "risk": self.risk,
            "platform": self.platform,
            "url": self.url,
        }


@dataclass(frozen=True)
class Cluster:
    id: str
    story: str  # the first post's content, shortened: what the story is
    signature: tuple[int, ...]
    band_keys: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    count: int = 0
    platforms: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    windows: dict[int, int] = field(default_factory=dict)  # window index → posts
    growth: float = 1.0
    max_risk: float = 0.0
    level: str | None = None
    top_posts: tuple[PostSummary, ...] = ()
    drill: bool = False
    version: int = 0  # optimistic concurrency: each stored write increments it

    def growth_at(self, now: datetime) -> float:
        """Posts in the current window ÷ the average per window before it (floor 1)."""
        current = window_of(now)
        recent = self.windows.get(current, 0)
        before = self.count - recent
        elapsed = current - window_of(self.first_seen)
        baseline = max(BASELINE_FLOOR, before / elapsed) if elapsed > 0 else BASELINE_FLOOR
        return recent / baseline

    def with_posts(
        self,
        seen: list[datetime],
        platforms: list[str],
        subjects: list[str],
        now: datetime,
    ) -> Cluster:
        """The cluster after adding posts seen at ``seen`` (their times), without risks yet."""
        windows = dict(self.windows)
        for moment in seen:
            key = window_of(moment)
            windows[key] = windows.get(key, 0) + 1
        kept = dict(sorted(windows.items())[-WINDOWS_KEPT:])
        merged = replace(
            self,
            count=self.count + len(seen),
            first_seen=min([self.first_seen, *seen]),
            last_seen=max([self.last_seen, *seen]),
            platforms=tuple(sorted({*self.platforms, *platforms})),
            subjects=tuple(sorted({*self.subjects, *subjects})),
            windows=kept,
        )
        return replace(merged, growth=round(merged.growth_at(now), 3))

    def with_risks(self, posts: list[PostSummary], levels: list[str | None]) -> Cluster:
        """The cluster after its new posts were scored: top posts, max risk, level (never down)."""
        top = sorted(
            {p.post_id: p for p in (*self.top_posts, *posts)}.values(),
            key=lambda p: (-p.risk, p.post_id),
        )[:TOP_POSTS]
        level = self.level
        for candidate in levels:
            if candidate and more_severe(candidate, level):
                level = candidate
        return replace(
            self,
            top_posts=tuple(top),
            max_risk=max([self.max_risk, *(p.risk for p in posts)]),
            level=level,
        )
