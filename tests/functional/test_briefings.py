"""Briefings against moto: built from trend counts, clusters, incidents and sources; stored once;
mailed once; rendered as HTML and Word; the routes' errors; the evaluation and drill reports."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client
from docx import Document as open_docx

from chalicelib.alerts.service import AlertService
from chalicelib.alerts.store import OutboxStore, SmsCounter, SystemMarks
from chalicelib.alerts.topics import SnsGateway
from chalicelib.auth.store import TokenStore
from chalicelib.briefings import daily, render_html
from chalicelib.briefings.models import DOCX_TYPE
from chalicelib.briefings.service import BriefingService
from chalicelib.briefings.store import BriefingStore
from chalicelib.clusters.models import Cluster, PostSummary
from chalicelib.clusters.store import ClusterStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.clock import CHINA
from chalicelib.core.settings import Settings
from chalicelib.incidents.queries import board_facts
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.service import PlanService
from chalicelib.plan.store import PlanStore
from chalicelib.sources.models import SourceHealth, parse_definition
from chalicelib.sources.store import SourceStore
from chalicelib.trends.models import ClusterPage, Counted, hour_counts
from chalicelib.trends.store import TrendStore
from chalicelib.trends.words import ALL, WordCounts
from tests.auth_helpers import role_tokens
from tests.plan_helpers import example_plan

# 2026-03-02 09:30 China time: the briefing of 03-02 (08:00) covers 03-01 00:00–03-02 00:00 UTC.
NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
DAY = "2026-03-02"
HOSTILE = "<script>alert('x')</script>滨江一院医疗事故"
EXPIRES = 2_000_000_000


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class World:
    def __init__(self, settings: Settings, clients: AwsClients) -> None:
        self.clock = Clock()
        table = clients.table
        system = table(settings.tables.system)
        self.alerts = AlertService(
            settings,
            outbox=OutboxStore(table(settings.tables.outbox)),
            plans=PlanStore(table(settings.tables.plan)),
            gateway=SnsGateway(clients.client("sns"), clients.topic_arn),
            counter=SmsCounter(system),
            marks=SystemMarks(system),
            clock=self.clock,
        )
        PlanService(
            PlanStore(table(settings.tables.plan)), after_save=self.alerts.reconcile_plan
        ).save(example_plan(), "test")
        self.trends = TrendStore(table(settings.tables.trends))
        self.clusters = ClusterStore(table(settings.tables.clusters))
        self.incidents = IncidentStore(table(settings.tables.incidents))
        self.sources = SourceStore(table(settings.tables.sources))
        self.store = BriefingStore(table(settings.tables.trends))
        self.service = BriefingService(
            store=self.store,
            trends=self.trends,
            clusters=self.clusters,
            incidents=self.incidents,
            sources=self.sources,
            plans=PlanStore(table(settings.tables.plan)),
            notifier=self.alerts,
            public_url="https://yq.example.org/api",
            clock=self.clock,
        )

    def seed(self) -> None:
        """GIVEN a day of posts on two platforms, one cluster, one open incident, a source down."""
        posts = [
            Counted(f"2026-03-01T{h:02d}:10:00+00:00", "weibo", h % 3 == 0, -0.2, "II")
            for h in range(24)
        ] + [Counted("2026-03-01T05:20:00+00:00", "forum", True, -0.8, None)]
        # Outside the period: the hour before and the hour after.
        posts += [Counted("2026-02-28T23:59:00+00:00", "weibo", True, -0.5, None)]
        posts += [Counted("2026-03-02T00:05:00+00:00", "weibo", True, -0.5, None)]
        self.trends.add_hours(hour_counts(posts), EXPIRES)
        seen = ("2026-03-01T04:00:00+00:00", "2026-03-01T05:00:00+00:00")
        self.trends.add_page(
            ClusterPage("2026-03-01", "kabc", ("p1", "p2"), seen, (0.8, 0.7), 2, 3.0, "II", 0.8),
            EXPIRES,
        )
        first = datetime(2026, 3, 1, 4, tzinfo=UTC)
        self.clusters.save(
            Cluster(
                id="kabc",
                story=HOSTILE,
                signature=(1, 2),
                band_keys=(),
                first_seen=first,
                last_seen=first + timedelta(hours=1),
                count=2,
                platforms=("weibo",),
                level="II",
                max_risk=0.8,
                top_posts=(PostSummary("p1", HOSTILE, 0.8, "weibo", "https://weibo.example/1"),),
            ),
            EXPIRES,
        )
        self.incidents.put_once(
            "c-kabc",
            "META",
            {
                "status": "active",
                "level": "II",
                "level_rank": 3,
                "opened_at": "2026-03-01T04:05:00+00:00",
                "cluster_id": "kabc",
                "title": HOSTILE,
                "drill": False,
                # As the workflow writes them: triage with due_at only (never done_at), the
                # missed public deadline with done_at None — neither is the next deadline.
                "deadlines": {
                    "triage": {"due_at": "2026-03-01T04:35:00+00:00"},
                    "authoritative_info": {
                        "due_at": "2026-03-01T09:05:00+00:00",
                        "met": False,
                        "done_at": None,
                    },
                },
                "breaches": [{"kind": "triage", "at": "2026-03-01T04:35:00+00:00"}],
                "public_deadline": {
                    "kind": "press_conference",
                    "due_at": "2026-03-02T04:05:00+00:00",
                    "group": "publicity",
                },
            },
        )
        # A task whose ack was late (a breach on the task) and whose completion is awaited.
        self.incidents.put_once(
            "c-kabc",
            "TASK#t1",
            {"group": "publicity", "breaches": [{"kind": "ack", "at": "2026-03-01T06:00:00Z"}]},
        )
        self.incidents.put_once(
            "c-kabc",
            "TOKEN#done#t1",
            {
                "status": "waiting",
                "token": "tok",
                "group": "publicity",
                "since": "2026-03-01T06:00:00+00:00",
                "deadline_at": "2026-03-02T02:00:00+00:00",
            },
        )
        self.sources.create(
            parse_definition(
                {"id": "forum", "name": "滨江论坛", "kind": "rss", "url": "https://f.example/x"}
            ),
            NOW.isoformat(),
        )
        self.sources.record_crawl(
            "forum",
            SourceHealth(healthy=False, status="failed", unhealthy_reason="3 failed crawls"),
            None,
        )


@pytest.fixture
def world(settings: Settings, clients: AwsClients) -> World:
    return World(settings, clients)


def test_a_briefing_is_built_from_trends_clusters_incidents_and_sources(world: World) -> None:
    world.seed()

    # WHEN the briefing of the day is asked for after its time
    data = world.service.get(datetime(2026, 3, 2).date())

    # THEN it counts only the 24 hours before 08:00 China time, per hour and platform
    assert data["provisional"] is False
    assert data["volume"]["posts"] == 25
    assert data["volume"]["negative"] == 8 + 1
    assert len(data["hourly"]) == 24
    assert data["hourly"][0]["hour"] == "08:00"
    assert [p["platform"] for p in data["platforms"]] == ["weibo", "forum"]
    # AND its charts speak Chinese: platforms by name, the cluster by its story
    drawn = {c.caption[:2]: c for s in daily.document(data).sections for c in s.charts}
    assert drawn["图2"].labels == ["微博", "论坛"]
    assert drawn["图3"].labels == [f"1. {HOSTILE}"]
    # AND the cluster with its key post, the open incident with its overdue deadline, the source
    [top] = data["top_clusters"]
    assert top["story"] == HOSTILE
    assert top["key_posts"][0]["post_id"] == "p1"
    # AND the incident's next deadline and breaches are the board's: the group's awaited task,
    # not the triage deadline that was met long ago; breaches of triage, task and public deadline
    [incident] = data["incidents"]
    facts = board_facts(world.incidents.items("c-kabc"))
    assert incident["next_deadline"]["kind"] == facts["next_deadline"]["kind"] == "done#t1"
    assert incident["next_deadline"]["label"] == "宣传组 完成任务"
    assert incident["next_deadline"]["overdue"] is False
    assert incident["breaches"] == facts["breaches"] == 3
    # AND the document says so in the board's words
    [row] = next(s for s in daily.document(data).sections if s.heading == "五、在办舆情事件").tables
    assert row.rows[0][2:] == ["响应中", "03-01 12:05", "宣传组 完成任务 03-02 10:00", "3"]
    # AND platforms by name in the key posts and the sources table
    text = [p for s in daily.document(data).sections for p in s.paragraphs]
    assert any(p.startswith("[1] 微博：") for p in text)
    [sources] = [s for s in daily.document(data).sections if s.heading == "六、信息源状态"]
    assert sources.tables[0].rows[0][1] == "新闻"  # an rss source of platform news
    assert data["sources"]["unhealthy"] == ["forum"]
    # AND a summary of at most 200 characters ending in the risk conclusion
    assert len(data["summary"]) <= 200
    assert data["summary"].split("\n")[-1].startswith("风险结论：高")
    # AND it is stored: a later change of the data does not change the briefing of that date
    late = Counted("2026-03-01T10:00:00+00:00", "weibo", False, 0.1, None)
    world.trends.add_hours(hour_counts([late]), EXPIRES)
    assert world.service.get(datetime(2026, 3, 2).date())["volume"]["posts"] == 25
    assert world.store.dates() == [{"date": DAY, "built_at": NOW.isoformat()}]


def test_the_briefing_lists_the_days_hot_words_against_the_week_before(world: World) -> None:
    """GIVEN a week in which 食堂 was in one post of two, and a day of the briefing in which 停水
    (never used before) and 食堂 fill the posts WHEN the briefing is built THEN 停水 is its hot
    word, marked new, and 食堂 (at its usual share) is not; section 四 shows the table."""
    week = [WordCounts(f"2026-02-{d:02d}", 6, ALL, 2, Counter({"食堂": 1})) for d in range(22, 29)]
    day = [WordCounts("2026-03-01", h, ALL, 2, Counter({"停水": 2, "食堂": 1})) for h in (3, 9)]
    late = WordCounts("2026-03-02", 1, ALL, 5, Counter({"深夜": 5}))  # after the period
    world.trends.add_words([*week, *day, late], EXPIRES)

    data = world.service.get(datetime(2026, 3, 2).date())

    assert data["hot_words"] == [
        {"word": "停水", "count": 4, "expected": 0.0, "rise": 5.0, "new": True}
    ]
    [section] = [s for s in daily.document(data).sections if s.heading.startswith("四、")]
    [table] = section.tables[:1]
    assert table.columns[0] == "热词"
    assert table.rows == [["停水", "4", "新出现", "5.0"]]


def test_before_its_time_todays_briefing_is_provisional_and_not_stored(world: World) -> None:
    world.clock.now = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)  # 06:00 China time
    data = world.service.get(datetime(2026, 3, 2).date())
    assert data["provisional"] is True
    assert world.store.dates() == []


def test_the_latest_briefing_is_the_24_hours_up_to_now_and_is_never_stored(
    world: World, api_client: Client, tokens: dict[str, str]
) -> None:
    world.seed()
    # WHEN the HQ asks at 09:30 China time for a briefing now, not the 08:00 one
    data = world.service.latest()
    # THEN it covers 02:00 UTC yesterday up to the end of the current hour: the post at 08:05
    # China time is in, the first two hours of the dated briefing's day are out
    assert data["provisional"] is True
    assert data["period"]["label"].startswith("2026-03-01 10:00 至 2026-03-02 10:00")
    assert data["volume"]["posts"] == 22 + 1 + 1
    # AND nothing is stored: the dated briefing is built from its own period later
    assert world.store.dates() == []
    assert world.service.get(datetime(2026, 3, 2).date())["volume"]["posts"] == 25
    # AND over HTTP it downloads as Word like any briefing
    response = get(api_client, "/briefings/latest?format=docx", tokens["viewer"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == DOCX_TYPE


def test_the_schedule_builds_once_and_mails_once_even_when_it_fires_twice(
    world: World, settings: Settings, clients: AwsClients
) -> None:
    world.seed()
    outbox = OutboxStore(clients.table(settings.tables.outbox))
    # GIVEN yesterday's briefing already went out
    world.store.put_new({"date": "2026-03-01", "built_at": "2026-03-01T00:00:00+00:00"})
    world.store.mark_mailed("2026-03-01", "2026-03-01T00:00:00+00:00")
    # AND a tick before the briefing time does nothing
    world.clock.now = datetime(2026, 3, 1, 23, 50, tzinfo=UTC)
    assert world.service.tick()["briefings"][1] == {"date": DAY, "due": False}
    assert outbox.by_incident("briefing") == []

    # WHEN the schedule fires twice after 08:00
    world.clock.now = NOW
    first = world.service.tick()["briefings"]
    world.clock.now = NOW + timedelta(minutes=15)
    second = world.service.tick()["briefings"]

    # THEN one briefing is stored and one e-mail is in the outbox, linking to the dashboard
    assert [b["mailed"] is not None for b in first] == [False, True]
    assert [b["mailed"] for b in second] == [None, None]
    assert [d["date"] for d in world.store.dates()] == [DAY, "2026-03-01"]
    [mail] = outbox.by_incident("briefing")
    assert mail["channels"] == ["email"]
    assert mail["group"] == "hq"
    assert f"https://yq.example.org/api/#/briefing/{DAY}" in mail["email_body"]
    assert "/briefings/" not in mail["email_body"]  # the API link a mail client cannot open
    assert mail["status"] == "sent"
    assert world.store.mailed_at(DAY) == NOW.isoformat()


def test_a_late_briefing_time_is_stored_and_mailed_by_the_next_dates_first_tick(
    world: World, settings: Settings, clients: AwsClients
) -> None:
    """GIVEN a plan whose briefing time is 23:50 China time WHEN the last tick of the day (23:45)
    finds it not due THEN the next date's first tick (00:00) stores and mails it, once."""
    world.seed()
    plan = example_plan()
    plan["briefing"] = {"time": "23:50"}
    PlanService(PlanStore(clients.table(settings.tables.plan))).save(plan, "test")
    outbox = OutboxStore(clients.table(settings.tables.outbox))
    # 2026-03-01 23:45 China time: not due yet (and 02-28's mail is out)
    world.store.put_new({"date": "2026-02-28", "built_at": "2026-02-28T16:00:00+00:00"})
    world.store.mark_mailed("2026-02-28", "2026-02-28T16:00:00+00:00")
    world.clock.now = datetime(2026, 3, 1, 15, 45, tzinfo=UTC)
    assert [b["due"] for b in world.service.tick()["briefings"]] == [True, False]
    assert outbox.by_incident("briefing") == []

    # WHEN the ticks of 03-02 00:00 and 00:15 fire
    world.clock.now = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    [late, today] = world.service.tick()["briefings"]
    world.clock.now = datetime(2026, 3, 1, 16, 15, tzinfo=UTC)
    again = world.service.tick()["briefings"]

    # THEN 03-01's briefing is stored with its full period and mailed once; 03-02 is not due
    assert (late["date"], late["due"], bool(late["mailed"])) == ("2026-03-01", True, True)
    assert today == {"date": DAY, "due": False}
    assert again[0]["mailed"] is None
    [mail] = outbox.by_incident("briefing")
    assert "#/briefing/2026-03-01" in mail["email_body"]
    stored = world.store.get("2026-03-01")
    assert stored is not None
    assert stored["provisional"] is False
    assert stored["period"]["end"] == "2026-03-01T15:00:00+00:00"


def test_a_mail_that_failed_on_its_day_is_sent_by_the_next_days_ticks(
    world: World, settings: Settings, clients: AwsClients
) -> None:
    """GIVEN yesterday's briefing stored but its mail failed (nothing in the outbox) WHEN today's
    ticks run THEN yesterday's mail goes out once, and a rebuild does not send it again."""
    world.seed()
    outbox = OutboxStore(clients.table(settings.tables.outbox))
    world.clock.now = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 03-01 09:00
    assert world.service.get(datetime(2026, 3, 1).date())["provisional"] is False
    assert world.store.mailed_at("2026-03-01") is None

    world.clock.now = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # 03-02 00:00
    [yesterday, _] = world.service.tick()["briefings"]
    assert yesterday["mailed"]
    world.service.rebuild(datetime(2026, 3, 1).date())  # drops the mark
    world.clock.now = datetime(2026, 3, 1, 16, 15, tzinfo=UTC)
    assert world.service.tick()["briefings"][0]["mailed"] is None
    assert len(outbox.by_incident("briefing")) == 1
    assert world.store.mailed_at("2026-03-01") is not None


def test_a_bad_briefing_time_in_the_plan_is_a_clear_400() -> None:
    from chalicelib.plan.validation import validate_plan

    doc = example_plan()
    doc["briefing"] = {"time": "8 am"}
    problems = validate_plan(doc)
    assert [p.path for p in problems] == ["/briefing/time"]
    doc["briefing"] = {"time": "07:30"}
    assert validate_plan(doc) == []


# -- the API -----------------------------------------------------------------------------------
@pytest.fixture
def tokens(clients: AwsClients, settings: Settings) -> dict[str, str]:
    store = TokenStore(clients.table(settings.tables.tokens))
    return role_tokens(store)


def get(client: Client, path: str, token: str, accept: str = "*/*") -> Any:
    return client.http.get(path, headers={"Authorization": f"Bearer {token}", "Accept": accept})


def test_todays_briefing_downloads_as_word_with_headings_tables_and_a_chart(
    api_client: Client, tokens: dict[str, str], world: World
) -> None:
    world.seed()
    today = datetime.now(UTC).astimezone(CHINA).date()

    response = get(api_client, f"/briefings/{today}?format=docx", tokens["viewer"])

    assert response.status_code == 200
    assert response.headers["Content-Type"] == DOCX_TYPE
    assert (
        "filename*=UTF-8''%E8%88%86%E6%83%85%E6%97%A5%E6%8A%A5-"
        in response.headers["Content-Disposition"]
    )
    doc = open_docx(io.BytesIO(response.body))
    headings = [
        p.text for p in doc.paragraphs if p.style and str(p.style.name).startswith("Heading")
    ]
    assert "二、声量与情感走势" in headings
    assert "六、信息源状态" in headings
    assert len(doc.tables) >= 2  # incidents and sources at least
    assert len(doc.inline_shapes) >= 1


def test_an_html_briefing_runs_nothing_but_keeps_its_style_and_charts(
    api_client: Client, tokens: dict[str, str], world: World
) -> None:
    """GIVEN a briefing with a hostile story WHEN served as HTML THEN its CSP forbids scripts,
    fetches and frames but allows the inline style and the data: chart images the page uses,
    and no answer may be sniffed into another type."""
    world.seed()
    today = datetime.now(UTC).astimezone(CHINA).date()
    answer = get(api_client, f"/briefings/{today}?format=html", tokens["viewer"])
    assert answer.status_code == 200
    directives = [
        d.strip().split(" ", 1) for d in answer.headers["Content-Security-Policy"].split(";")
    ]
    csp = {d[0]: d[1] for d in directives}
    assert csp["default-src"] == "'none'"
    assert csp["img-src"] == "data:"
    assert csp["style-src"] == "'unsafe-inline'"
    assert "script-src" not in csp
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    page = answer.body.decode("utf-8")
    assert "<style>" in page
    assert '<img src="data:image/png;base64,' in page
    assert "<script" not in page.lower()
    word = get(api_client, f"/briefings/{today}?format=docx", tokens["viewer"])
    assert word.headers["X-Content-Type-Options"] == "nosniff"
    report = get(api_client, "/incidents/c-kabc/report?format=html", tokens["viewer"])
    assert report.headers["Content-Security-Policy"] == answer.headers["Content-Security-Policy"]


def test_html_escapes_hostile_post_text(world: World) -> None:
    world.seed()
    data = world.service.get(datetime(2026, 3, 2).date())

    html = render_html.render(daily.document(data))

    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "data:image/png;base64," in html


@pytest.mark.parametrize(
    "path",
    [
        "/briefings/2026-13-01",
        "/briefings/yesterday",
        "/briefings/2999-01-01",
        "/briefings/1999-01-01",
        f"/briefings/{DAY}?format=pdf",
        "/briefings/latest?format=",
        "/incidents/bad%20id/report",
        "/incidents/c-kabc/report?format=xml",
    ],
)
def test_bad_dates_formats_and_ids_are_400(
    api_client: Client, tokens: dict[str, str], path: str
) -> None:
    response = get(api_client, path, tokens["viewer"])
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["error"] == "validation_error"


def test_building_a_briefing_is_for_leads_and_checks_its_body(
    api_client: Client, tokens: dict[str, str], world: World
) -> None:
    def post(token: str, body: str) -> Any:
        return api_client.http.post(
            "/briefings",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            body=body,
        )

    assert post(tokens["viewer"], "").status_code == 403
    assert post(tokens["lead"], '{"date": 5}').status_code == 400
    assert post(tokens["lead"], '{"date": null}').status_code == 400
    assert post(tokens["lead"], '{"day": "2026-03-01"}').status_code == 400
    built = post(tokens["lead"], "")
    assert built.status_code == 201
    assert json.loads(built.body)["title"] == "舆情日报"


def test_an_incident_evaluation_report_in_three_formats(
    api_client: Client, tokens: dict[str, str], world: World
) -> None:
    world.seed()
    data = json.loads(get(api_client, "/incidents/c-kabc/report", tokens["viewer"]).body)
    assert data["evaluated"] is False
    assert data["spread"] == [{"at": "03-01 12:00", "posts": 1}, {"at": "03-01 13:00", "posts": 1}]
    steps = {s["key"]: s["status"] for s in data["response"]["steps"]}
    assert steps["authoritative_info"] == "missed"

    html = get(api_client, "/incidents/c-kabc/report?format=html", tokens["viewer"]).body
    assert b"<script>" not in html
    assert b"&lt;script&gt;" in html
    word = get(api_client, "/incidents/c-kabc/report?format=docx", tokens["viewer"])
    doc = open_docx(io.BytesIO(word.body))
    assert "七、经验教训与预案修订建议" in [p.text for p in doc.paragraphs]
    assert len(doc.inline_shapes) == 1
    assert get(api_client, "/incidents/c-none/report", tokens["viewer"]).status_code == 404


def test_a_docx_without_an_accept_header_is_refused_not_a_500(
    api_client: Client, tokens: dict[str, str], world: World
) -> None:
    world.seed()
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    response = api_client.http.get("/incidents/c-kabc/report?format=docx", headers=viewer)
    assert response.status_code == 400
