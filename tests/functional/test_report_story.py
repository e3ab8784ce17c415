"""Many people reporting one story make one incident (decision 77), against moto.

The story here is about no subject of the plan and carries no crisis word, so the scoring sink
would not cluster a crawled post of it for itself: only the reports make it a story. Each
report is submitted through the report service as ``POST /reports`` wires it (the stored plan,
the scoring sink, the incidents seam that pages the HQ on a rise); the clock is injected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.alerts.wiring import alert_service
from chalicelib.auth.models import Principal, Role
from chalicelib.auth.store import TokenStore
from chalicelib.core import aws
from chalicelib.core.aws import AwsClients, get_clients
from chalicelib.core.dynamo import from_item
from chalicelib.core.settings import Settings, get_settings, reset_settings
from chalicelib.deploy.template import render
from chalicelib.incidents.store import IncidentStore
from chalicelib.ingest.wiring import build_scoring_sink
from chalicelib.local.functions import register_functions
from chalicelib.local.provision import TemplateProvisioner
from chalicelib.plan.service import PlanService, current_or_example, subject_ids
from chalicelib.plan.store import PlanStore
from chalicelib.posts.models import Item, Platform
from chalicelib.posts.store import PostStore
from chalicelib.reports.service import ReportService, parse_report
from chalicelib.reports.wiring import report_service
from chalicelib.scoring.risk import can_reach_level
from chalicelib.scoring.scorer import scorer_for_plan
from chalicelib.workflow.wiring import incident_opener
from tests.functional.test_scoring_sink import Clock
from tests.moto_harness import ACCOUNT, REGION, executing_moto
from tests.plan_helpers import quick_plan
from tests.waiting import wait_for

START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
# About nothing the plan watches, and no crisis word: a crawled post of it is not clustered.
STORY = "城南新开的网红奶茶店今天排队排到了马路上，店员说买一送一的活动要一直持续到这个周末结束"
OTHER = "市图书馆周末举办亲子绘本阅读会，现场还有志愿者讲故事，欢迎家长带孩子报名参加"
# Six people report it: reposts with //@ chains, small edits, their own titles.
SIX = [
    ("网红奶茶店排长队", STORY),
    ("奶茶店门口好多人", f"转发微博//@城南小事:{STORY}"),
    ("城南奶茶店", f"真的假的？//@吃货日记:排了两小时//@城南小事:{STORY}"),
    ("奶茶店活动", STORY.replace("店员说", "听店员说") + "！"),
    ("网红店排队", f"{STORY.replace('马路上', '马路边')} #城南生活# http://t.cn/A6x"),
    ("奶茶店买一送一", f"[哈哈]//@路人:{STORY.replace('今天', '今天中午')}"),
]
PEOPLE = ["张三", "李四", "王五", "赵六", "钱七", "孙八"]


@pytest.fixture
def world(moto: dict[str, str], settings: Settings, clients: AwsClients) -> dict[str, Any]:
    alerts = alert_service(settings, clients)
    plans = PlanStore(clients.table(settings.tables.plan))
    PlanService(plans, after_save=alerts.reconcile_plan).save(quick_plan(), "test")
    clock = Clock()
    clock.now = START
    sink = build_scoring_sink(
        settings, clients, plan=lambda: current_or_example(plans), clock=clock
    )
    posts = PostStore(clients.table(settings.tables.posts))
    incidents = IncidentStore(clients.table(settings.tables.incidents))
    service = ReportService(
        sink, posts, incident_opener(settings, clients, clock), incidents, clock
    )
    sfn = clients.client("stepfunctions")
    machine = clients.state_machine_arn(settings.state_machine)
    return {
        "service": service,
        "sink": sink,
        "clock": clock,
        "subjects": subject_ids(plans),
        "plan": current_or_example(plans),
        "incidents": clients.table(settings.tables.incidents),
        "posts": clients.table(settings.tables.posts),
        "clusters": clients.table(settings.tables.clusters),
        "outbox": clients.table(settings.tables.outbox),
        "executions": lambda: [
            e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]
        ],
    }


def submit(
    world: dict[str, Any], who: str, title: str, content: str, **fields: Any
) -> dict[str, Any]:
    world["clock"].now += timedelta(minutes=3)
    body = {"title": title, "content": content, **fields}
    report = parse_report(body, world["subjects"])
    report_id = "r" + hashlib.sha256(f"{who}\x1f{body}".encode()).hexdigest()[:20]
    answer: dict[str, Any] = world["service"].submit(
        Principal(who, Role.REPORTER), report, report_id
    )
    return answer


def crawled(i: int, text: str, **extra: Any) -> Item:
    return Item(
        source_id="weibo-hot",
        platform=Platform.WEIBO,
        title="",
        text=text,
        fetched_at=START + timedelta(minutes=30, seconds=i),
        external_id=f"w{i}",
        **extra,
    )


def rows(table: Any) -> list[dict[str, Any]]:
    return [from_item(r) for r in table.scan()["Items"]]


def metas(world: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in rows(world["incidents"]) if r["sk"] == "META"]


def of(world: dict[str, Any], incident_id: str, prefix: str) -> list[dict[str, Any]]:
    return [
        r
        for r in rows(world["incidents"])
        if r["pk"] == incident_id and str(r["sk"]).startswith(prefix)
    ]


def hq_pages(world: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in rows(world["outbox"]) if r["group"] == "hq"]


def test_the_story_would_not_be_clustered_for_itself(world: dict[str, Any]) -> None:
    """GIVEN the plan's scorer THEN no text of the story can reach a level by itself — so the
    tests below prove that reports cluster whatever they are about."""
    scorer = scorer_for_plan(world["plan"])
    for title, content in [*SIX, ("图书馆", OTHER)]:
        analysis = scorer.analyse(f"{title}\n{content}")
        assert not can_reach_level(analysis, 0.7, scorer.config), title


def test_six_reports_of_one_story_are_one_incident_with_six_reports_on_its_timeline(
    world: dict[str, Any],
) -> None:
    # WHEN six people report the story, each in their own words
    answers = [submit(world, who, *told) for who, told in zip(PEOPLE, SIX, strict=True)]

    # THEN there is one incident, opened by the first report only, with one workflow
    incident = answers[0]["incident_id"]
    assert {a["incident_id"] for a in answers} == {incident}
    assert [a["opened"] for a in answers] == [True] + [False] * 5
    assert [m["pk"] for m in metas(world)] == [incident]
    assert world["executions"]() == [f"incident-{incident}"]
    # AND every report, with its reporter and time, is on the incident and its timeline
    reports = sorted(of(world, incident, "REPORT#"), key=lambda r: r["at"])
    assert [(r["by"], r["title"]) for r in reports] == [
        (who, title) for who, (title, _) in zip(PEOPLE, SIX, strict=True)
    ]
    timeline = sorted(of(world, incident, "TL#report#"), key=lambda r: r["at"])
    assert [e["data"]["by"] for e in timeline] == PEOPLE
    assert [e["at"] for e in timeline] == [r["at"] for r in reports]
    assert all(e["note"].startswith("上报人 ") and e["step"] == "report" for e in timeline)
    # AND no report paged the HQ as a rise (all at the same level), nor escalated
    assert hq_pages(world) == []
    assert of(world, incident, "ESC#") == []
    # AND the reports are one cluster (the story's), every report post in the feed
    posts = rows(world["posts"])
    assert len(posts) == 6
    assert {p["cluster_id"] for p in posts} == {incident.removeprefix("c-")}
    assert all(p["level"] == "IV" and p.get("day") for p in posts)


def test_a_report_of_another_story_opens_its_own_incident(world: dict[str, Any]) -> None:
    first = submit(world, "张三", *SIX[0])
    second = submit(world, "李四", *SIX[1])
    other = submit(world, "王五", "图书馆活动", OTHER)
    assert first["incident_id"] == second["incident_id"]
    assert other["incident_id"] != first["incident_id"]
    assert other["opened"] is True
    assert len(metas(world)) == 2


def test_a_later_report_at_a_higher_level_raises_the_incident_and_pages_as_a_rise(
    world: dict[str, Any],
) -> None:
    first = submit(world, "张三", *SIX[0])
    # WHEN another person reports the same story and rates it II
    raised = submit(world, "李四", *SIX[1], level="II")

    # THEN the same incident rises to II (no second incident), the HQ is paged once, as a rise
    incident = first["incident_id"]
    assert raised["incident_id"] == incident
    assert raised["opened"] is False
    assert raised["level"] == "II"
    assert [(m["pk"], m["level"]) for m in metas(world)] == [(incident, "II")]
    assert [e["sk"] for e in of(world, incident, "ESC#")] == ["ESC#II"]
    [page] = hq_pages(world)
    assert (page["incident_id"], page["event"], page["level"]) == (incident, "reported#II", "II")
    assert world["executions"]() == [f"incident-{incident}"]


def test_crawled_reposts_of_a_reported_story_join_its_cluster(world: dict[str, Any]) -> None:
    # GIVEN a reported story
    incident = submit(world, "张三", *SIX[0])["incident_id"]
    cluster = incident.removeprefix("c-")

    # WHEN the crawler finds reposts of it, and a post about something else, in one batch
    reposts = [crawled(i, f"排队也太夸张了//@网友{i}:{STORY}") for i in range(5)]
    unrelated = crawled(99, "今天天气不错，下午去公园散步，看到好多人在放风筝")
    world["clock"].now = START + timedelta(hours=1)
    world["sink"].ingest([*reposts, unrelated], credibility=0.5)

    # THEN the reposts are in the story's cluster and its incident (its spread counts), the
    # other post in none; no incident is opened and nobody is paged
    posts = {p["pk"]: p for p in rows(world["posts"])}
    assert {posts[r.post_id].get("cluster_id") for r in reposts} == {cluster}
    assert "cluster_id" not in posts[unrelated.post_id]
    clusters = {r["cluster_id"]: r for r in rows(world["clusters"]) if r.get("sk") == "META"}
    assert clusters[cluster]["count"] == 6
    assert "weibo" in clusters[cluster]["platforms"]
    assert [m["pk"] for m in metas(world)] == [incident]
    assert hq_pages(world) == []


def test_a_reported_story_stops_drawing_posts_in_a_week_after_its_last_report(
    world: dict[str, Any],
) -> None:
    submit(world, "张三", *SIX[0])
    world["clock"].now = START + timedelta(days=8)
    late = crawled(1, f"还在排//@网友:{STORY}", published_at=START + timedelta(days=8))
    world["sink"].ingest([late], credibility=0.5)
    post = next(p for p in rows(world["posts"]) if p["pk"] == late.post_id)
    assert "cluster_id" not in post


def test_drills_never_join_real_stories_nor_real_posts_drill_ones(world: dict[str, Any]) -> None:
    real = submit(world, "张三", *SIX[0])
    drill = submit(world, "演练员", *SIX[1], drill=True)
    assert drill["incident_id"] != real["incident_id"]
    world["sink"].ingest([crawled(1, f"转发//@网友:{STORY}")], credibility=0.5)
    world["sink"].ingest([crawled(2, f"转发//@网友:{STORY}", drill=True)], credibility=0.5)
    by_post = {p["pk"]: p.get("cluster_id") for p in rows(world["posts"])}
    assert by_post[crawled(1, "").post_id] == real["incident_id"].removeprefix("c-")
    assert by_post[crawled(2, "").post_id] == drill["incident_id"].removeprefix("c-")


def test_reports_of_a_link_the_crawler_stored_in_no_cluster_are_one_incident(
    world: dict[str, Any],
) -> None:
    # GIVEN a post the crawler stored about nothing of ours: in no cluster
    url = "https://weibo.com/1234567/NaIcha1"
    world["sink"].ingest([crawled(1, STORY, url=url)], credibility=0.5)
    (stored,) = rows(world["posts"])
    assert "cluster_id" not in stored

    # WHEN three people report that link (shared with tracking parameters), each in few words
    answers = [
        submit(world, who, title, "看这条", url=f"{url}?from=share{n}&wfr=app")
        for n, (who, title) in enumerate([("张三", "奶茶店"), ("李四", "排队"), ("王五", "网红店")])
    ]

    # THEN they are one incident, and the post is now in the story's cluster, in the feed
    incident = answers[0]["incident_id"]
    assert {a["incident_id"] for a in answers} == {incident}
    assert [m["pk"] for m in metas(world)] == [incident]
    (post,) = rows(world["posts"])
    assert post["cluster_id"] == incident.removeprefix("c-")
    assert post["level"] == "IV"
    assert post["day"]
    assert len(of(world, incident, "REPORT#")) == 3


@pytest.mark.parametrize(
    ("fields", "platform"),
    [
        ({"platform": "微博"}, "weibo"),
        ({"platform": " 抖音 "}, "video"),
        ({"url": "https://m.weibo.cn/status/5012345678"}, "weibo"),
        ({"url": "https://mp.weixin.qq.com/s/AbCdEf"}, "wechat"),
        ({"url": "https://www.example.org/a"}, "report"),
        ({"url": "https://www.douyin.com/video/7", "platform": "论坛"}, "forum"),
        ({}, "report"),
    ],
)
def test_a_report_is_stored_on_the_platform_people_name_or_its_link_shows(
    world: dict[str, Any], fields: dict[str, Any], platform: str
) -> None:
    submit(world, "张三", *SIX[0], **fields)
    (post,) = rows(world["posts"])
    assert post["platform"] == platform


# -- through the API ------------------------------------------------------------------------


def test_the_api_takes_platform_names_and_lists_every_report_on_the_incident(
    api_client: Client, settings: Settings, clients: AwsClients
) -> None:
    store = TokenStore(clients.table(settings.tables.tokens))
    reporters = {who: store.issue(who, Role.REPORTER) for who in PEOPLE}
    viewer = store.issue("值班查看", Role.VIEWER)

    def report(who: str, body: dict[str, Any], key: str) -> Any:
        return api_client.http.post(
            "/reports",
            headers={
                "Authorization": f"Bearer {reporters[who]}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
            body=json.dumps(body, ensure_ascii=False),
        )

    # WHEN six people report the story, naming the platform as they speak of it
    names = ["微博", "weibo", "论坛", "抖音", "微信", "问答"]
    answers = []
    for n, (who, (title, content)) in enumerate(zip(PEOPLE, SIX, strict=True)):
        body = {"title": title, "content": content, "platform": names[n]}
        response = report(who, body, f"story-key-{n:04d}")
        assert response.status_code == 201, response.body
        answers.append(response.json_body)
    # AND one of them retries with the same key: the same answer, nothing new
    again = report(
        PEOPLE[2], {"title": SIX[2][0], "content": SIX[2][1], "platform": "论坛"}, "story-key-0002"
    )
    assert again.status_code == 201
    assert again.json_body == answers[2]

    # THEN one incident lists all six reports, each with its reporter and time, oldest first
    incident = answers[0]["incident_id"]
    assert {a["incident_id"] for a in answers} == {incident}
    shown = api_client.http.get(
        f"/incidents/{incident}", headers={"Authorization": f"Bearer {viewer}"}
    ).json_body
    assert [(r["by"], r["title"]) for r in shown["reports"]] == [
        (who, title) for who, (title, _) in zip(PEOPLE, SIX, strict=True)
    ]
    assert all(r["at"] for r in shown["reports"])
    on_timeline = [e for e in shown["timeline"] if e["id"].startswith("report#")]
    assert [e["data"]["by"] for e in on_timeline] == PEOPLE
    platforms = {p["platform"] for p in rows(clients.table(settings.tables.posts))}
    assert platforms == {"weibo", "forum", "video", "wechat", "qa"}


# -- with the workflow running ----------------------------------------------------------------


@pytest.fixture
def running(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """GIVEN the local stage in moto with Step Functions executing the real workflow handler,
    at a time scale of 1/1000, and the quick plan stored."""
    monkeypatch.setenv("YUQING_TIME_SCALE", "0.001")
    reset_settings()
    aws.set_clients(None)
    with executing_moto(monkeypatch) as world:
        from app import app

        functions = register_functions(app, "local", world.client, world.registry, {})
        TemplateProvisioner(
            render("local"), world.client, ACCOUNT, REGION, external=functions.provisioned
        ).provision_all()
        settings, clients = get_settings(), get_clients()
        PlanService(
            PlanStore(clients.table(settings.tables.plan)),
            after_save=alert_service(settings, clients).reconcile_plan,
        ).save(quick_plan(), "test")
        yield


def test_six_reports_of_one_story_page_the_hq_once(running: None) -> None:
    settings, clients = get_settings(), get_clients()
    service = report_service()
    subjects = subject_ids(PlanStore(clients.table(settings.tables.plan)))
    store = IncidentStore(clients.table(settings.tables.incidents))
    outbox = clients.table(settings.tables.outbox)

    # WHEN six people report the story
    answers = []
    for n, (who, (title, content)) in enumerate(zip(PEOPLE, SIX, strict=True)):
        report = parse_report({"title": title, "content": content}, subjects)
        answers.append(service.submit(Principal(who, Role.REPORTER), report, f"rlive{n:04d}"))
    incident = answers[0]["incident_id"]
    assert {a["incident_id"] for a in answers} == {incident}

    # THEN once the workflow has reported to the HQ and waits for its 研判, the outbox holds
    # one page to the HQ of a new or risen incident: the new incident's
    wait_for(lambda: (w := store.get(incident, "TOKEN#decision")) and w["status"] == "waiting", 30)
    pages = [
        (r["incident_id"], r["event"])
        for r in map(from_item, outbox.scan()["Items"])
        if r["group"] == "hq" and str(r["event"]).startswith("reported")
    ]
    assert pages == [(incident, "reported")]
    sfn = clients.client("stepfunctions")
    machine = clients.state_machine_arn(settings.state_machine)
    (execution,) = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert execution["name"] == f"incident-{incident}"
    sfn.stop_execution(executionArn=execution["executionArn"])
