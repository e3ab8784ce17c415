"""MinHash LSH: reposts of one story share bands; different stories do not."""

from datetime import UTC, datetime, timedelta

from chalicelib.clusters.minhash import JOIN_SIMILARITY, bands, shingles, signature, similarity
from chalicelib.clusters.models import Cluster, PostSummary
from chalicelib.scoring.text import story_text

STORY = "市第一人民医院发生医疗纠纷，一名患者在手术后死亡，家属在医院门口聚集要求说法"
OTHER = "某化工厂凌晨发生爆炸，现场浓烟滚滚，消防部门已赶赴现场处置，伤亡情况不明"


def sig(text: str) -> tuple[int, ...]:
    return signature(shingles(story_text(text)))


def test_reposts_with_different_chains_are_the_same_story():
    reposts = [
        f"{comment}//@用户{i}:{STORY} #医疗纠纷# http://t.cn/x{i}"
        for i, comment in enumerate(["太可怕了", "转发", "[怒][怒]", "求真相", "心疼家属"])
    ]
    signatures = [sig(r) for r in reposts]
    assert len({tuple(s) for s in signatures}) == 1
    assert len({frozenset(bands(s)) for s in signatures}) == 1


def test_a_light_rewrite_shares_a_band_and_passes_the_join_threshold():
    rewrite = STORY.replace("一名患者", "一位患者").replace("要求说法", "讨要说法")
    a, b = sig(STORY), sig(rewrite)
    assert set(bands(a)) & set(bands(b))
    assert similarity(a, b) >= JOIN_SIMILARITY


def test_different_stories_share_no_band():
    a, b = sig(STORY), sig(OTHER)
    assert not set(bands(a)) & set(bands(b))
    assert similarity(a, b) < JOIN_SIMILARITY


def test_signatures_are_stable_and_empty_text_has_none():
    assert sig(STORY) == sig(STORY)
    assert signature(shingles("")) == ()
    assert len(signature(shingles("短"))) == 18


def test_growth_is_measured_against_the_clusters_own_baseline():
    start = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    cluster = Cluster(
        id="k1", story=STORY, signature=(), band_keys=(), first_seen=start, last_seen=start
    )
    # A slow story: one post an hour for ten hours.
    slow = cluster.with_posts(
        [start + timedelta(hours=h) for h in range(10)], ["weibo"], [], start + timedelta(hours=10)
    )
    assert slow.growth == 0.0
    # Then forty posts in five minutes: far above its own baseline of ≈ 1 per window.
    now = start + timedelta(hours=10, minutes=5)
    burst = slow.with_posts([now - timedelta(seconds=s) for s in range(40)], ["news"], ["h"], now)
    assert burst.count == 50
    assert burst.growth >= 20
    assert burst.platforms == ("news", "weibo")
    assert burst.subjects == ("h",)


def test_a_clusters_level_never_goes_down_and_keeps_its_top_posts():
    now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    cluster = Cluster(id="k1", story="", signature=(), band_keys=(), first_seen=now, last_seen=now)
    posts = [PostSummary(f"p{i}", f"t{i}", risk=i / 10, platform="weibo") for i in range(8)]
    raised = cluster.with_risks(posts, [None, "IV", "II"])
    assert raised.level == "II"
    assert [p.post_id for p in raised.top_posts] == ["p7", "p6", "p5", "p4", "p3"]
    assert raised.with_risks([], ["IV"]).level == "II"
