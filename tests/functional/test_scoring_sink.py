"""The scoring sink against moto: one cluster per story, one incident per cluster, escalation."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.clusters.minhash import bands
from chalicelib.clusters.models import Cluster
from chalicelib.clusters.store import ClusterStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import ConflictError
from chalicelib.core.settings import Settings
from chalicelib.incidents.models import IncidentDraft, incident_id_for
from chalicelib.incidents.opener import IncidentOpener
from chalicelib.incidents.store import IncidentStore
from chalicelib.ingest.wiring import build_scoring_sink
from chalicelib.plan.defaults import BUILTIN_PLAN
from chalicelib.posts.models import Item, Platform
from chalicelib.workflow.statemachine import StateMachine

START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
STORY = "市第一人民医院发生医疗事故，一名患者在手术后死亡，家属在医院门口聚集维权，太让人愤怒了"
OTHER = "市第一人民医院食堂被曝使用过期食材，多名职工就餐后腹泻，院方称正在调查，真是寒心"
COMMENTS = ["太可怕了", "求真相", "[怒][怒]", "转发", "心疼家属", "必须严查", "这也太过分了"]


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(moto: dict[str, str], settings: Settings, clients: AwsClients) -> dict[str, Any]:
    clock = Clock()
    incidents_table = clients.table(settings.tables.incidents)
    sink = build_scoring_sink(settings, clients, plan=lambda: BUILTIN_PLAN, clock=clock)
    return {
        "sink": sink,
        "clock": clock,
        "clusters": clients.table(settings.tables.clusters),
        "posts": clients.table(settings.tables.posts),
        "incidents": incidents_table,
        "sfn": clients.client("stepfunctions"),
        "machine": clients.state_machine_arn(settings.state_machine),
    }


def repost(i: int, story: str = STORY, **extra: Any) -> Item:
    comment = COMMENTS[i % len(COMMENTS)]
    text = f"{comment}//@网友{i % 37}:{comment}//@当事人家属:{story} #市一院# http://t.cn/{i}"
    return Item(
        source_id="weibo-search",
        platform=Platform.WEIBO,
        title="",
        text=text,
        fetched_at=START + timedelta(seconds=i),
        external_id=f"w{i}",
        engagement={"reposts": 50 + i, "comments": 10},
        **extra,
    )


def scan(table: Any) -> list[dict[str, Any]]:
    return list(table.scan()["Items"])


def cluster_metas(world: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in scan(world["clusters"]) if i["sk"] == "META"]


def incident_metas(world: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in scan(world["incidents"]) if i["sk"] == "META"]


def executions(world: dict[str, Any]) -> list[str]:
    found = world["sfn"].list_executions(stateMachineArn=world["machine"])["executions"]
    return [e["name"] for e in found]


def ingest_storm(world: dict[str, Any], count: int, batch: int = 20) -> None:
    for start in range(0, count, batch):
        world["clock"].now = START + timedelta(seconds=start + batch)
        items = [repost(i) for i in range(start, min(count, start + batch))]
        report = world["sink"].ingest(items, credibility=0.6)
        assert report.new == len(items)


def test_a_storm_of_200_reposts_is_one_cluster_and_one_incident(world):
    ingest_storm(world, 200)

    clusters = cluster_metas(world)
    assert len(clusters) == 1
    cluster = clusters[0]
    assert cluster["count"] == 200
    assert cluster["platforms"] == ["weibo"]
    assert cluster["subjects"] == ["hospital"]
    assert len(cluster["top_posts"]) == 5
    assert cluster["level"] in {"I", "II", "III", "IV"}
    # Bands were written once, by the cluster's first post.
    bands = [i for i in scan(world["clusters"]) if i["sk"] == "BAND"]
    assert len(bands) == 6
    assert {b["cluster_id"] for b in bands} == {cluster["cluster_id"]}

    incidents = incident_metas(world)
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident["pk"] == incident_id_for(cluster["cluster_id"])
    assert incident["status"] == "open"
    assert incident["cluster_id"] == cluster["cluster_id"]
    assert incident["title"] == f"市第一人民医院：{STORY[:60]}"
    assert "同一事件" in incident["summary"]
    assert "平台：微博" in incident["summary"]  # people read it in alerts: the label, not the id
    assert incident["reasons"]
    assert executions(world) == [f"incident-{incident['pk']}"]

    # Every stored post carries its scores and its cluster.
    posts = scan(world["posts"])
    assert len(posts) == 200
    assert {p["cluster_id"] for p in posts} == {cluster["cluster_id"]}
    assert all(p["negative"] and p["subjects"] == ["hospital"] and p["reasons"] for p in posts)


def test_the_level_rises_as_the_storm_grows_and_the_incident_is_escalated(world):
    # One early post opens the incident at a lower level ...
    world["sink"].ingest([repost(1000)], credibility=0.6)
    (opened,) = incident_metas(world)
    # ... then the storm (size and growth against the cluster's baseline) raises it.
    ingest_storm(world, 200)
    (incident,) = incident_metas(world)
    escalations = [i for i in scan(world["incidents"]) if i["sk"].startswith("ESC#")]
    assert opened["level"] != "I"
    assert incident["level"] == cluster_metas(world)[0]["level"] == "I"
    assert [e["sk"] for e in escalations] == ["ESC#I"]
    assert escalations[0]["from_level"] == opened["level"]
    assert incident["opened_at"] == opened["opened_at"]
    assert len(executions(world)) == 1


def test_duplicate_delivery_opens_one_incident_and_counts_nothing_twice(world):
    batch = [repost(i) for i in range(30)]
    first = world["sink"].ingest(batch)
    before = cluster_metas(world)[0]
    second = world["sink"].ingest(batch)
    third = world["sink"].ingest(batch[:5] + batch[:5])

    assert (first.new, second.new, second.duplicates) == (30, 0, 30)
    assert (third.new, third.duplicates) == (0, 10)
    after = cluster_metas(world)
    assert len(after) == 1
    assert after[0]["count"] == before["count"] == 30
    assert after[0]["version"] == before["version"]
    assert len(incident_metas(world)) == 1
    assert len(executions(world)) == 1


def test_two_stories_are_two_clusters(world):
    items = [repost(i) for i in range(10)] + [repost(i + 100, story=OTHER) for i in range(10)]
    world["sink"].ingest(items)
    clusters = cluster_metas(world)
    assert sorted(c["count"] for c in clusters) == [10, 10]
    posts = scan(world["posts"])
    by_story = {p["cluster_id"] for p in posts if "医疗事故" in p["text"]}
    other = {p["cluster_id"] for p in posts if "过期食材" in p["text"]}
    assert len(by_story) == len(other) == 1
    assert by_story != other


def test_a_later_batch_finds_the_cluster_through_the_stored_bands(world):
    world["sink"].ingest([repost(0)])
    world["sink"].ingest([repost(1)])  # a new batch: only the table knows the cluster
    clusters = cluster_metas(world)
    assert len(clusters) == 1
    assert clusters[0]["count"] == 2


def test_posts_that_can_never_reach_a_level_are_stored_but_not_clustered(world):
    happy = Item(
        source_id="s",
        platform=Platform.WEIBO,
        title="",
        text="今天天气真好，和朋友去公园散步，开心[哈哈]",
        fetched_at=START,
    )
    report = world["sink"].ingest([happy])
    assert report.new == 1
    (post,) = scan(world["posts"])
    assert "cluster_id" not in post
    assert "level" not in post  # no level: the attribute is absent
    assert scan(world["clusters"]) == []


def test_drill_posts_form_their_own_cluster(world):
    world["sink"].ingest([repost(0), repost(1, drill=True)])
    clusters = cluster_metas(world)
    assert sorted(c["drill"] for c in clusters) == [False, True]


def test_a_stale_cluster_write_is_refused(world):
    store = ClusterStore(world["clusters"])
    cluster = Cluster(
        id="k1",
        story="s",
        signature=(1, 2),
        band_keys=tuple(bands((1, 2))),  # not stored: they follow from the signature
        first_seen=START,
        last_seen=START,
        count=1,
    )
    saved = store.save(cluster, expires_at=0)
    assert saved.version == 1
    with pytest.raises(ConflictError):
        store.save(cluster, expires_at=0)  # written as if version 0 were still current
    assert store.get("k1") == saved


def test_the_opener_is_idempotent_and_only_escalates_upwards(world, settings, clients):
    opener = IncidentOpener(
        IncidentStore(world["incidents"]), StateMachine.of(settings, clients).start, world["clock"]
    )
    draft = IncidentDraft("kx", "III", "标题", "摘要", ["原因"])
    assert opener.open(draft) is True
    assert opener.open(draft) is False
    higher = IncidentDraft("kx", "I", "标题", "摘要", ["原因"])
    assert opener.escalate(higher, "III") is True
    assert opener.escalate(higher, "III") is False
    assert opener.escalate(IncidentDraft("kx", "II", "t", "s", []), "I") is False
    items = {i["sk"]: i for i in scan(world["incidents"])}
    assert set(items) == {"META", "ESC#I"}
    assert items["META"]["level"] == "I"
    assert executions(world) == ["incident-c-kx"]


def test_an_escalation_without_an_incident_opens_it(world, settings, clients):
    opener = IncidentOpener(
        IncidentStore(world["incidents"]), StateMachine.of(settings, clients).start, world["clock"]
    )
    # An earlier open was lost (a crash before it): the rise to II opens the incident at II.
    assert opener.escalate(IncidentDraft("ky", "II", "标题", "摘要", []), "III") is True
    (meta,) = incident_metas(world)
    assert (meta["pk"], meta["level"]) == ("c-ky", "II")
    assert executions(world) == ["incident-c-ky"]
