"""Trend counts per hour and platform, and clusters of a day from their pages (pure)."""

import pytest

from chalicelib.trends.models import (
    ClusterPage,
    Counted,
    clusters_of_day,
    hour_counts,
    summarise_day,
    top_clusters,
)


def counted(at: str, platform: str = "weibo", negative: bool = False, **kw: object) -> Counted:
    return Counted(
        seen_at=at,
        platform=platform,
        negative=negative,
        sentiment=-0.8 if negative else 0.4,
        level=kw.get("level"),  # type: ignore[arg-type]
        subjects=tuple(kw.get("subjects", ())),  # type: ignore[arg-type]
    )


def test_a_batch_becomes_one_group_per_hour_and_platform() -> None:
    groups = hour_counts(
        [
            counted("2026-11-25T08:10:00Z", negative=True, subjects=["hospital"], level="III"),
            counted("2026-11-25T08:50:00Z", subjects=["hospital"]),
            counted("2026-11-25T09:01:00Z"),
            counted("2026-11-25T08:20:00Z", platform="news", negative=True),
        ]
    )

    assert [(g.day, g.hour, g.platform, g.posts) for g in groups] == [
        ("2026-11-25", 8, "news", 1),
        ("2026-11-25", 8, "weibo", 2),
        ("2026-11-25", 9, "weibo", 1),
    ]
    weibo8 = groups[1]
    assert weibo8.negative == 1
    assert weibo8.negative_share == 0.5
    assert weibo8.levels == {"III": 1}
    assert weibo8.subjects == {"hospital": 2}
    assert weibo8.subjects_negative == {"hospital": 1}
    assert weibo8.mean_sentiment == pytest.approx(-0.2)


def test_a_day_summary_adds_the_hours() -> None:
    groups = hour_counts(
        [
            counted("2026-11-25T08:00:00Z", negative=True),
            counted("2026-11-25T08:30:00Z"),
            counted("2026-11-25T10:00:00Z", platform="news", negative=True),
        ]
    )

    summary = summarise_day("2026-11-25", groups)

    assert summary.posts == 3
    assert summary.negative == 2
    assert summary.by_platform == {"weibo": 2, "news": 1}
    assert summary.hourly == [(8, 2, 0.5), (10, 1, 1.0)]


def page(cluster: str, posts: int, count: int, growth: float, level: str | None = None, **kw):
    ids = tuple(f"p{cluster}{i}" for i in range(posts))
    return ClusterPage(
        day="2026-11-25",
        cluster_id=cluster,
        post_ids=ids,
        seen=tuple(f"2026-11-25T08:{count % 60:02d}:00Z" for _ in ids),
        risks=tuple(0.5 for _ in ids),
        count=count,
        growth=growth,
        level=level,
        max_risk=kw.get("max_risk", 0.5),
        drill=bool(kw.get("drill", False)),
    )


def test_clusters_of_a_day_fold_their_pages_and_rank_by_velocity_or_volume() -> None:
    pages = [
        page("a", 20, 20, 4.0, "III"),
        page("a", 30, 50, 9.0, "II", max_risk=0.8),
        page("b", 60, 60, 2.0),
        page("c", 5, 5, 1.0, drill=True),
    ]

    clusters = {c.cluster_id: c for c in clusters_of_day(pages)}

    assert set(clusters) == {"a", "b"}  # the drill cluster only when asked for
    a = clusters["a"]
    assert (a.posts_today, a.count, a.growth, a.level, a.max_risk) == (50, 50, 9.0, "II", 0.8)
    assert [c.cluster_id for c in top_clusters(clusters.values())] == ["a", "b"]
    assert [c.cluster_id for c in top_clusters(clusters.values(), by="posts")] == ["b", "a"]
    assert [c.cluster_id for c in clusters_of_day(pages, drill=True)] == ["c"]
    with pytest.raises(ValueError, match="unknown ordering"):
        top_clusters(clusters.values(), by="colour")
