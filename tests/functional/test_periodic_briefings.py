"""舆情周报 and 月报 against moto, with fixed clocks: built from trend counts, clusters, incidents,
drills and sources; a finished span stored once, the current one provisional; the schedule's
mail once from Monday (the 1st) 09:00 China time; the routes' 400s; Word and HTML."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client
from docx import Document as open_docx

from chalicelib.alerts.store import OutboxStore
from chalicelib.auth.store import TokenStore
from chalicelib.briefings import periodic, render_html, views
from chalicelib.briefings.models import DOCX_TYPE
from chalicelib.briefings.periodic_service import PeriodicBriefings
from chalicelib.briefings.periods import KINDS, check_month, check_week
from chalicelib.briefings.store import PK, BriefingStore
from chalicelib.clusters.models import Cluster, PostSummary
from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import UnavailableError, ValidationError
from chalicelib.core.settings import Settings
from chalicelib.drills.store import DrillStore
from chalicelib.plan.store import PlanStore
from chalicelib.sources.models import SourceHealth, parse_definition
from chalicelib.trends.models import ClusterPage, Counted, hour_counts
from chalicelib.trends.words import ALL, WordCounts
from tests.auth_helpers import role_tokens
from tests.functional.test_briefings import World

EXPIRES = 2_000_000_000
WEEK = "2026-W49"  # Monday 2026-11-30 00:00 to 2026-12-07 00:00 China time
# Monday 2026-12-07 09:30 China time: W49 is over, its mail is due.
MONDAY = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)
# Tuesday 2026-12-01 09:30 China time: November is over, its mail is due.
FIRST = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script>滨江一院医疗事故"


class PeriodicWorld(World):
    def __init__(self, settings: Settings, clients: AwsClients) -> None:
        super().__init__(settings, clients)
        self.clock.now = MONDAY
        table = clients.table
        trends = table(settings.tables.trends)
        self.stores = {k: BriefingStore(trends, pk=f"{PK}#{k}", key="key") for k in KINDS}
        self.drills = DrillStore(table(settings.tables.incidents))
        self.outbox = OutboxStore(table(settings.tables.outbox))
        self.periodic = PeriodicBriefings(
            stores=self.stores,
            trends=self.trends,
            clusters=self.clusters,
            incidents=self.incidents,
            drills=self.drills,
            sources=self.sources,
            plans=PlanStore(table(settings.tables.plan)),
            notifier=self.alerts,
            public_url="https://yq.example.org/api",
            clock=self.clock,
        )

    def seed_span(self) -> None:
        """GIVEN posts on the week's first and last minutes and around it, one cluster, incidents
        in and out of the week (one a drill's), two drills, a source down."""
        posts = [
            Counted("2026-11-29T16:10:00+00:00", "weibo", True, -0.6, "II"),  # Mon 00:10
            Counted("2026-12-02T03:00:00+00:00", "weibo", True, -0.5, None),
            Counted("2026-12-02T03:20:00+00:00", "forum", False, 0.2, None),
            Counted("2026-12-02T04:00:00+00:00", "weibo", False, 0.1, None),
            Counted("2026-12-06T15:59:00+00:00", "weibo", False, 0.1, None),  # Sun 23:59
        ]
        # Outside the week: Sunday 23:50 before it (in November), Monday 00:00 after it.
        posts += [Counted("2026-11-29T15:50:00+00:00", "weibo", True, -0.5, None)]
        posts += [Counted("2026-12-06T16:00:00+00:00", "weibo", True, -0.5, None)]
        self.trends.add_hours(hour_counts(posts), EXPIRES)
        seen = ("2026-12-02T03:00:00+00:00", "2026-12-02T04:00:00+00:00")
        self.trends.add_page(
            ClusterPage("2026-12-02", "kwk", ("p1", "p2"), seen, (0.8, 0.7), 9, 2.0, "II", 0.8),
            EXPIRES,
        )
        first = datetime(2026, 12, 2, 3, tzinfo=UTC)
        self.clusters.save(
            Cluster(
                id="kwk",
                story=HOSTILE,
                signature=(1, 2),
                band_keys=(),
                first_seen=first,
                last_seen=first + timedelta(hours=1),
                count=9,
                platforms=("weibo",),
                level="II",
                max_risk=0.8,
                top_posts=(PostSummary("p1", HOSTILE, 0.8, "weibo", "https://weibo.example/1"),),
            ),
            EXPIRES,
        )
        incidents: list[tuple[str, dict[str, Any]]] = [
            (
                "c-kwk",
                {
                    "status": "closed",
                    "level": "II",
                    "opened_at": "2026-12-02T03:05:00+00:00",
                    "closed_at": "2026-12-03T03:05:00+00:00",
                    "title": HOSTILE,
                    "drill": False,
                    "deadlines": {
                        "triage": {"due_at": "2026-12-02T03:35:00+00:00"},
                        "report_hq": {
                            "due_at": "2026-12-02T03:35:00+00:00",
                            "done_at": "2026-12-02T03:10:00+00:00",
                            "met": True,
                        },
                        "authoritative_info": {
                            "due_at": "2026-12-02T08:05:00+00:00",
                            "done_at": None,
                            "met": False,
                        },
                    },
                },
            ),
            (
                "c-small",
                {
                    "status": "dismissed",
                    "level": "IV",
                    "opened_at": "2026-11-29T16:00:00+00:00",  # the week's first instant
                    "title": "食堂排队",
                    "drill": False,
                },
            ),
            (
                "c-drilled",
                {
                    "status": "active",
                    "level": "I",
                    "opened_at": "2026-12-04T02:00:00+00:00",
                    "title": "演练事件",
                    "drill": True,
                },
            ),
            (
                "c-next",
                {
                    "status": "open",
                    "level": "I",
                    "opened_at": "2026-12-06T16:00:00+00:00",  # next week's first instant
                    "title": "下周事件",
                    "drill": False,
                },
            ),
            (
                "c-november",
                {
                    "status": "closed",
                    "level": "III",
                    "opened_at": "2026-11-10T02:00:00+00:00",
                    "title": "十一月事件",
                    "drill": False,
                },
            ),
        ]
        for incident_id, meta in incidents:
            self.incidents.put_once(incident_id, "META", meta)
        for drill_id, name, started in (
            ("d-week", "医疗事故舆情演练", "2026-12-04T02:00:00+00:00"),
            ("d-nov", "停水舆情演练", "2026-11-10T02:00:00+00:00"),
        ):
            self.drills.create(
                {
                    "drill_id": drill_id,
                    "name": name,
                    "started_at": started,
                    "opened_at": started,
                    "state": "injected",
                    "incidents": {"c-drilled"},
                },
                [],
            )
        self.sources.create(
            parse_definition(
                {"id": "forum", "name": "滨江论坛", "kind": "rss", "url": "https://f.example/x"}
            ),
            MONDAY.isoformat(),
        )
        self.sources.record_crawl(
            "forum",
            SourceHealth(healthy=False, status="failed", unhealthy_reason="3 failed crawls"),
            None,
        )
        # Hot words: 停水 new this week; 食堂 at the share it had the week before.
        before = [
            WordCounts(f"2026-11-{d:02d}", 6, ALL, 2, Counter({"食堂": 1})) for d in range(23, 29)
        ]
        during = [
            WordCounts(f"2026-12-0{d}", 6, ALL, 2, Counter({"停水": 2, "食堂": 1})) for d in (1, 2)
        ]
        self.trends.add_words([*before, *during], EXPIRES)


@pytest.fixture
def world(settings: Settings, clients: AwsClients) -> PeriodicWorld:
    return PeriodicWorld(settings, clients)


def test_a_weekly_briefing_counts_per_china_day_and_lists_the_weeks_incidents_and_drills(
    world: PeriodicWorld,
) -> None:
    world.seed_span()

    # WHEN the HQ asks for last week's briefing on Monday morning
    data = world.periodic.get(check_week(WEEK))

    # THEN it covers Monday 00:00 to Monday 00:00 China time, per China day
    assert (data["kind"], data["key"], data["title"], data["provisional"]) == (
        "week",
        WEEK,
        "舆情周报",
        False,
    )
    assert data["period"]["label"] == "2026-11-30 00:00 至 2026-12-07 00:00（北京时间）"
    assert [d["date"] for d in data["daily"]] == [
        "2026-11-30",
        *(f"2026-12-0{d}" for d in range(1, 7)),
    ]
    assert [d["posts"] for d in data["daily"]] == [1, 0, 3, 0, 0, 0, 1]
    assert data["volume"] == {
        "posts": 5,
        "negative": 2,
        "negative_share": 0.4,
        "levels": {"II": 1},
    }
    assert [p["platform"] for p in data["platforms"]] == ["weibo", "forum"]
    # AND the top cluster with its key post, the hot word against the week before
    [top] = data["top_clusters"]
    assert (top["story"], top["posts_in_period"], top["key_posts"][0]["post_id"]) == (
        HOSTILE,
        2,
        "p1",
    )
    assert [w["word"] for w in data["hot_words"]] == ["停水"]
    # AND the week's incidents, highest level first, with their outcome and deadlines met/missed;
    # not the drill's, nor next week's or November's
    assert [(i["incident_id"], i["level"], i["status"]) for i in data["incidents"]] == [
        ("c-kwk", "II", "closed"),
        ("c-small", "IV", "dismissed"),
    ]
    assert data["incidents"][0]["deadlines"] == {"met": 1, "missed": 1, "pending": 1}
    assert data["incidents"][0]["missed"] == ["authoritative_info"]
    assert data["deadlines"] == {"met": 1, "missed": 1, "pending": 1}
    # AND the drill held that week, and the sources now
    assert [(d["drill_id"], d["name"], d["state"], d["incidents"]) for d in data["drills"]] == [
        ("d-week", "医疗事故舆情演练", "injected", 1)
    ]
    assert data["sources"]["unhealthy"] == ["forum"]
    # AND a summary of at most 200 characters ending in the risk conclusion
    assert len(data["summary"]) <= 200
    assert "时限按时1项、超时1项" in data["summary"]
    assert data["summary"].split("\n")[-1].startswith("风险结论：高。本周发生 1 起 I/II 级事件")
    # AND the document's sections, with the day chart labelled by China date
    doc = periodic.document(data)
    assert [s.heading for s in doc.sections] == [
        "一、综述",
        "二、声量与情感走势",
        "三、平台分布",
        "四、热点事件簇及重点信息",
        "五、舆情事件及处置时限",
        "六、演练",
        "七、信息源状态",
    ]
    assert doc.sections[1].charts[0].labels[0] == "11-30"
    assert doc.filename == f"舆情周报-{WEEK}"
    [incidents] = doc.sections[4].tables
    assert incidents.rows[0][2:] == [
        "已结束",
        "12-02 11:05",
        "12-03 11:05",
        "1",
        "1",
        "发布权威信息",
    ]
    assert doc.sections[3].tables[0].columns[2] == "按上周占比应有"


def test_a_monthly_briefing_covers_the_month_in_china_time(world: PeriodicWorld) -> None:
    world.seed_span()
    world.clock.now = MONDAY

    data = world.periodic.get(check_month("2026-11"))

    # THEN November 1st 00:00 to December 1st 00:00 China time: 30 days; the week's first posts
    # (Monday 11-30) are in, the 12-02 ones are not
    assert len(data["daily"]) == 30
    assert data["daily"][-1] == {
        "date": "2026-11-30",
        "posts": 1,
        "negative": 1,
        "negative_share": 1.0,
    }
    assert data["daily"][-2]["posts"] == 1  # Sunday 11-29 23:50
    assert data["volume"]["posts"] == 2
    assert [i["incident_id"] for i in data["incidents"]] == ["c-november", "c-small"]
    assert [d["drill_id"] for d in data["drills"]] == ["d-nov"]
    assert data["summary"].split("\n")[-1].startswith("风险结论：较高。本月存在 III 级舆情")
    assert periodic.document(data).filename == "舆情月报-2026-11"


def test_a_finished_span_is_stored_once_and_served_unchanged_apart_from_the_daily_ones(
    world: PeriodicWorld,
) -> None:
    world.seed_span()
    first = world.periodic.get(check_week(WEEK))

    # WHEN data of the week arrives late and the week is asked for again
    late = Counted("2026-12-03T03:00:00+00:00", "weibo", False, 0.1, None)
    world.trends.add_hours(hour_counts([late]), EXPIRES)
    world.clock.now = MONDAY + timedelta(hours=2)

    # THEN the stored briefing is served, unchanged
    assert world.periodic.get(check_week(WEEK)) == first
    assert world.stores["week"].dates() == [{"date": WEEK, "built_at": MONDAY.isoformat()}]
    # AND the daily briefings' listing does not show it
    assert world.store.dates() == []


def test_the_current_span_is_provisional_and_not_stored(world: PeriodicWorld) -> None:
    world.seed_span()
    world.clock.now = datetime(2026, 12, 2, 3, 30, tzinfo=UTC)  # Wednesday 11:30 China time

    week = world.periodic.get(check_week(WEEK))
    month = world.periodic.get(check_month("2026-12"))

    assert week["provisional"] is True
    assert week["period"]["end"] == "2026-12-02T04:00:00+00:00"
    assert [d["date"] for d in week["daily"]] == ["2026-11-30", "2026-12-01", "2026-12-02"]
    assert week["volume"]["posts"] == 3  # the 04:00 post is after the current hour
    assert month["provisional"] is True
    assert world.stores["week"].dates() == world.stores["month"].dates() == []
    doc = periodic.document(week)
    assert doc.banner.startswith("临时版")
    assert doc.filename == f"舆情周报-{WEEK}-临时版"


@pytest.mark.parametrize(
    ("kind", "key", "message"),
    [
        ("week", "2026-W50", "no briefing for a future week"),
        ("month", "2027-01", "no briefing for a future month"),
        ("week", "2025-W44", "too old: trend counts are kept for 400 days"),  # began 2025-10-27
        ("month", "2025-10", "too old: trend counts are kept for 400 days"),
    ],
)
def test_a_future_or_too_old_span_is_a_400_naming_its_parameter(
    world: PeriodicWorld, kind: str, key: str, message: str
) -> None:
    span = check_week(key) if kind == "week" else check_month(key)
    world.clock.now = datetime(2026, 12, 6, 15, 59, tzinfo=UTC)  # Sunday 23:59: W49 is current
    with pytest.raises(ValidationError) as caught:
        world.periodic.get(span)
    assert str(caught.value) == message
    assert [p.path for p in caught.value.problems] == [f"/{kind}"]
    # a week that began 398 days ago is still served
    assert world.periodic.get(check_week("2025-W45"))["provisional"] is False


def _mails(world: PeriodicWorld) -> list[dict[str, Any]]:
    return [
        m for m in world.outbox.by_incident("briefing") if "#/briefing/2026-" in m["email_body"]
    ]


def test_the_schedule_mails_last_week_once_from_monday_0900_china_time(
    world: PeriodicWorld,
) -> None:
    world.seed_span()
    # GIVEN Monday 08:45 China time: not due, nothing built
    world.clock.now = datetime(2026, 12, 7, 0, 45, tzinfo=UTC)
    [week, month] = world.periodic.tick()["periodic"]
    assert week == {"kind": "week", "key": WEEK, "due": False}
    assert month == {"kind": "month", "key": "2026-11", "due": False}
    assert world.stores["week"].dates() == []

    # WHEN the schedule fires at 09:00 and again at 09:15
    world.clock.now = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    [first, _] = world.periodic.tick()["periodic"]
    world.clock.now = datetime(2026, 12, 7, 1, 15, tzinfo=UTC)
    [second, _] = world.periodic.tick()["periodic"]

    # THEN the week is stored and mailed once, linking to the dashboard's page of the week
    assert first["mailed"]
    assert second["mailed"] is None
    [mail] = world.outbox.by_incident("briefing")
    assert mail["group"] == "hq"
    assert mail["channels"] == ["email"]
    assert f"https://yq.example.org/api/#/briefing/{WEEK}" in mail["email_body"]
    assert "舆情周报" in mail["email_body"]
    stored = world.stores["week"].get(WEEK)
    assert stored is not None
    assert stored["provisional"] is False
    assert world.stores["week"].mailed_at(WEEK) == "2026-12-07T01:00:00+00:00"


def test_the_schedule_mails_last_month_once_from_the_first_0900_china_time(
    world: PeriodicWorld,
) -> None:
    world.seed_span()
    # GIVEN last week's mail already went out (12-01 is in W48's retry window)
    world.stores["week"].put_new({"key": "2026-W48", "built_at": "2026-11-30T01:00:00+00:00"})
    world.stores["week"].mark_mailed("2026-W48", "2026-11-30T01:00:00+00:00")
    world.clock.now = datetime(2026, 12, 1, 0, 59, tzinfo=UTC)  # 08:59
    assert world.periodic.tick()["periodic"][1]["due"] is False

    world.clock.now = FIRST
    [week, month] = world.periodic.tick()["periodic"]
    world.clock.now = FIRST + timedelta(minutes=15)
    [_, again] = world.periodic.tick()["periodic"]

    assert (week["key"], week["mailed"]) == ("2026-W48", None)
    assert (month["key"], bool(month["mailed"]), again["mailed"]) == ("2026-11", True, None)
    [mail] = world.outbox.by_incident("briefing")
    assert "#/briefing/2026-11" in mail["email_body"]
    assert "舆情月报" in mail["email_body"]
    assert world.stores["month"].mailed_at("2026-11") == FIRST.isoformat()


class FailingOnce:
    """The alert service, failing its first mail as an outbox write that did not happen."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failed = False

    def notify_hq(self, *, key: str, event: str, subject: str, body: str) -> str | None:
        if not self.failed:
            self.failed = True
            raise UnavailableError("outbox table unavailable")
        return str(self.inner.notify_hq(key=key, event=event, subject=subject, body=body))


def test_a_failed_mail_is_retried_by_later_ticks_and_not_after_the_next_day(
    world: PeriodicWorld, settings: Settings, clients: AwsClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.seed_span()
    failing = FailingOnce(world.alerts)
    monkeypatch.setattr(world.periodic, "_notifier", failing)
    world.clock.now = MONDAY
    [week, _] = world.periodic.tick()["periodic"]
    assert week["error"] == "unavailable"
    assert world.stores["week"].get(WEEK) is not None  # stored all the same
    assert world.stores["week"].mailed_at(WEEK) is None

    # Tuesday 23:45 China time: still in the window, the mail goes out
    world.clock.now = datetime(2026, 12, 8, 15, 45, tzinfo=UTC)
    [week, _] = world.periodic.tick()["periodic"]
    assert week["mailed"]
    assert len(world.outbox.by_incident("briefing")) == 1

    # Wednesday 00:00: out of the window, nothing more is tried
    world.stores["week"].replace(world.stores["week"].get(WEEK) or {})  # drops the mark
    world.clock.now = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)
    assert world.periodic.tick()["periodic"][0] == {"kind": "week", "key": WEEK, "due": False}


# -- the API -----------------------------------------------------------------------------------
@pytest.fixture
def tokens(clients: AwsClients, settings: Settings) -> dict[str, str]:
    return role_tokens(TokenStore(clients.table(settings.tables.tokens)))


@pytest.fixture
def served(world: PeriodicWorld, monkeypatch: pytest.MonkeyPatch) -> PeriodicWorld:
    """The routes answer from the world's service and its fixed clock, not the machine's."""
    monkeypatch.setattr(views, "periodic_briefings", lambda: world.periodic)
    return world


def get(client: Client, path: str, token: str) -> Any:
    return client.http.get(path, headers={"Authorization": f"Bearer {token}", "Accept": "*/*"})


def test_the_weekly_briefing_downloads_as_word_with_its_headings_and_charts(
    api_client: Client, tokens: dict[str, str], served: PeriodicWorld
) -> None:
    served.seed_span()
    response = get(api_client, f"/briefings/week/{WEEK}?format=docx", tokens["viewer"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == DOCX_TYPE
    # 舆情周报-2026-W49.docx
    assert (
        "filename*=UTF-8''%E8%88%86%E6%83%85%E5%91%A8%E6%8A%A5-2026-W49.docx"
        in response.headers["Content-Disposition"]
    )
    doc = open_docx(io.BytesIO(response.body))
    headings = [
        p.text for p in doc.paragraphs if p.style and str(p.style.name).startswith("Heading")
    ]
    assert {"二、声量与情感走势", "五、舆情事件及处置时限", "六、演练", "七、信息源状态"} <= set(
        headings
    )
    assert len(doc.inline_shapes) >= 2


def test_the_monthly_briefing_as_html_and_json(
    api_client: Client, tokens: dict[str, str], served: PeriodicWorld
) -> None:
    served.seed_span()
    page = get(api_client, "/briefings/month/2026-11?format=html", tokens["viewer"])
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    text = page.body.decode("utf-8")
    assert "舆情月报" in text
    assert "六、演练" in text
    body = json.loads(get(api_client, "/briefings/month/2026-11", tokens["viewer"]).body)
    assert (body["key"], body["title"]) == ("2026-11", "舆情月报")
    html = render_html.render(periodic.document(served.periodic.get(check_week(WEEK))))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/briefings/week/2026-W7", "/week"),
        ("/briefings/week/2027-W53", "/week"),
        ("/briefings/week/2026-W51", "/week"),  # the future
        ("/briefings/week/2024-W01", "/week"),  # older than 400 days
        ("/briefings/month/2026-13", "/month"),
        ("/briefings/month/2027-01", "/month"),
        ("/briefings/month/2024-12", "/month"),
        (f"/briefings/week/{WEEK}?format=pdf", "/format"),
    ],
)
def test_bad_future_and_too_old_spans_are_400_naming_the_parameter(
    api_client: Client, tokens: dict[str, str], served: PeriodicWorld, path: str, parameter: str
) -> None:
    response = get(api_client, path, tokens["viewer"])
    assert response.status_code == 400, response.body
    body = json.loads(response.body)
    assert body["error"] == "validation_error"
    assert [p["path"] for p in body["problems"]] == [parameter]
    assert get(api_client, f"/briefings/week/{WEEK}", "no-token").status_code == 401


def test_the_briefing_tick_also_answers_for_last_week_and_last_month(clients: AwsClients) -> None:
    """The schedule's handler runs the daily and the periodic briefings' ticks (what each does
    at a given time is tested above with fixed clocks)."""
    from chalicelib.briefings.handlers import briefing_tick

    event = {
        "version": "0",
        "id": "e-1",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-12-07T01:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }
    answer = briefing_tick(event, None)
    assert len(answer["briefings"]) == 2
    assert [p["kind"] for p in answer["periodic"]] == ["week", "month"]
