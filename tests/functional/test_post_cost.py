"""The post layout against moto: one unit per post, a sparse feed, trends and cluster pages.

GIVEN the scoring sink wired as the crawl worker wires it, WHEN batches arrive (and arrive
again), THEN every post item fits one write unit, only feed posts are in ``by_day``, the hour
counts and cluster pages count each new post exactly once, and a redelivery writes nothing.
"""

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.clusters.store import ClusterStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.dynamo import from_item
from chalicelib.core.settings import Settings
from chalicelib.incidents.opener import IncidentOpener
from chalicelib.incidents.store import IncidentStore
from chalicelib.ingest.sink import ScoringSink
from chalicelib.ingest.wiring import build_scoring_sink
from chalicelib.plan.defaults import BUILTIN_PLAN
from chalicelib.posts.models import Item, Platform
from chalicelib.posts.sizing import UNIT_BYTES, item_size
from chalicelib.posts.store import FeedFilter, PostStore
from chalicelib.trends.models import clusters_of_day, summarise_day
from chalicelib.trends.store import TrendStore
from chalicelib.workflow.statemachine import StateMachine
from tests.functional.test_scoring_sink import START, STORY, Clock, repost

DAY = START.date().isoformat()


class WriteCounter:
    """A boto3 Table that counts the write requests made through it."""

    def __init__(self, table: Any, counts: Counter[str]) -> None:
        self._table = table
        self._counts = counts

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._table, attr)

    def put_item(self, **kwargs: Any) -> Any:
        self._counts["put"] += 1
        return self._table.put_item(**kwargs)


@pytest.fixture
def world(moto: dict[str, str], settings: Settings, clients: AwsClients) -> dict[str, Any]:
    clock = Clock()
    sink = build_scoring_sink(settings, clients, plan=lambda: BUILTIN_PLAN, clock=clock)
    posts = clients.table(settings.tables.posts)
    return {
        "sink": sink,
        "clock": clock,
        "posts": posts,
        "store": PostStore(posts),
        "trends": TrendStore(clients.table(settings.tables.trends)),
    }


def chatter(i: int, text: str, platform: Platform = Platform.NEWS) -> Item:
    return Item(
        source_id="news",
        platform=platform,
        title="",
        text=text,
        fetched_at=START + timedelta(minutes=i),
        external_id=f"n{i}",
    )


def stored_posts(world: dict[str, Any]) -> list[dict[str, Any]]:
    return [from_item(row) for row in world["posts"].scan()["Items"]]


def test_every_post_fits_one_unit_and_only_feed_posts_carry_the_feed_key(world):
    long_story = STORY + "。" + "家属表示医院至今没有给出任何解释，我们只想要一个真相，" * 40
    batch = [repost(i) for i in range(10)] + [
        repost(10, story=long_story),
        chatter(1, "今天天气真好，和朋友去公园散步了"),
        chatter(2, "堵车堵了两个小时，烦死了，再也不想开车上班了"),
    ]

    report = world["sink"].ingest(batch, credibility=0.6)

    assert report.new == 13
    posts = {p["pk"]: p for p in stored_posts(world)}
    assert all(item_size(p) < UNIT_BYTES for p in posts.values())
    cut = posts[batch[10].post_id]
    assert cut["text_cut"] == len(batch[10].text)
    assert len(cut["text"]) < len(batch[10].text)
    # The hospital posts are about a subject: in the feed. Chatter, even negative, is not.
    assert all(posts[i.post_id]["day"] == DAY for i in batch[:11])
    assert "day" not in posts[batch[11].post_id]
    assert "day" not in posts[batch[12].post_id]
    assert posts[batch[12].post_id]["negative"] is True


def test_hour_counts_and_cluster_pages_count_each_new_post_once(world):
    batches = [[repost(i) for i in range(s, s + 10)] for s in range(0, 30, 10)]
    batches[0].append(chatter(3, "堵车堵了两个小时，烦死了，再也不想开车上班了"))
    for batch in batches:
        world["sink"].ingest(batch, credibility=0.6)
    # Every batch again: duplicates, nothing counted twice.
    for batch in batches:
        report = world["sink"].ingest(batch, credibility=0.6)
        assert (report.new, report.duplicates) == (0, len(batch))

    day = world["trends"].day(DAY)
    summary = summarise_day(DAY, day.hours)
    assert summary.posts == 31
    assert summary.by_platform == {"weibo": 30, "news": 1}
    assert summary.by_subject == {"hospital": 30}
    assert summary.negative == 31
    clusters = clusters_of_day(day.pages)
    assert len(clusters) == 1
    (cluster,) = clusters
    assert (cluster.posts_today, cluster.count) == (30, 30)
    assert cluster.level is not None
    # The posts of one cluster, from its pages, in time order.
    pages = world["trends"].cluster_pages(cluster.cluster_id, [DAY])
    listed = [pid for p in pages for pid in p.post_ids]
    assert listed == [i.post_id for b in batches for i in b if i.platform is Platform.WEIBO]


def test_a_redelivered_batch_makes_no_write_at_all(world, settings, clients):
    counts: Counter[str] = Counter()
    opener = IncidentOpener(
        IncidentStore(clients.table(settings.tables.incidents)),
        StateMachine.of(settings, clients).start,
        world["clock"],
    )
    sink = ScoringSink(
        PostStore(WriteCounter(world["posts"], counts)),
        ClusterStore(clients.table(settings.tables.clusters)),
        opener,
        plan=lambda: BUILTIN_PLAN,
        clock=world["clock"],
        trends=world["trends"],
    )
    batch = [repost(i) for i in range(5)] + [repost(2)]  # one post twice in the batch

    first = sink.ingest(batch, credibility=0.6)
    writes_first = counts["put"]
    second = sink.ingest(batch, credibility=0.6)

    assert (first.new, first.duplicates) == (5, 1)
    assert writes_first == 5
    assert (second.new, second.duplicates) == (0, 6)
    assert counts["put"] == writes_first  # known ids are read, not written again


def test_drill_posts_stay_out_of_the_trend_counts(world):
    world["sink"].ingest([repost(i, drill=True) for i in range(5)], credibility=0.6)

    day = world["trends"].day(DAY)
    assert day.hours == []
    assert clusters_of_day(day.pages) == []
    assert [c.posts_today for c in clusters_of_day(day.pages, drill=True)] == [5]


def test_the_feed_is_newest_first_filtered_and_paged(world):
    weibo = [repost(i) for i in range(6)]
    news = [
        chatter(i, f"市第一人民医院发布通报{i}：患者家属维权一事正在调查") for i in range(20, 24)
    ]
    world["sink"].ingest(weibo + news, credibility=0.6)
    world["sink"].ingest([repost(50, drill=True)], credibility=0.6)
    store: PostStore = world["store"]

    everything = store.feed(DAY, limit=100).posts
    assert len(everything) == 10  # the drill post only when asked for
    seen = [p["seen_at"] for p in everything]
    assert seen == sorted(seen, reverse=True)

    only_news = store.feed(DAY, FeedFilter(platform="news"), limit=100).posts
    assert {p["pk"] for p in only_news} == {i.post_id for i in news}
    assert all("hospital" in p["subjects"] for p in store.feed(DAY, FeedFilter("hospital")).posts)
    negative = store.feed(DAY, FeedFilter(negative_only=True), limit=100).posts
    assert negative
    assert all(p["negative"] for p in negative)
    level = everything[0]["level"]
    assert all(p["level"] == level for p in store.feed(DAY, FeedFilter(level=level)).posts)
    assert [p["pk"] for p in store.feed(DAY, FeedFilter(drill=True)).posts] == [
        repost(50, drill=True).post_id
    ]

    first = store.feed(DAY, limit=4)
    assert len(first.posts) == 4
    assert first.cursor is not None
    rest = store.feed(DAY, limit=100, start=first.cursor)
    assert [p["pk"] for p in first.posts + rest.posts] == [p["pk"] for p in everything]
    assert store.feed("2026-11-24").posts == []
