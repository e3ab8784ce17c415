"""Hot words (热词) from the scoring sink to ``GET /trends/words``, against moto.

GIVEN a week of posts about the hospital's canteen and, today, posts about the water being cut
off, all through the real scoring sink, WHEN an analyst asks for today's hot words THEN 停水 is
first and the canteen's everyday words are not hot; per subject and per hour too. Counting is
once per stored post (a redelivered batch counts nothing, a drill nothing), and a failure to
count words never fails the batch.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.auth.models import Role
from chalicelib.auth.store import TokenStore
from chalicelib.clusters.store import ClusterStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import UnavailableError, ValidationError
from chalicelib.core.settings import Settings
from chalicelib.incidents.opener import IncidentOpener
from chalicelib.incidents.store import IncidentStore
from chalicelib.ingest.sink import ScoringSink
from chalicelib.ingest.wiring import build_scoring_sink
from chalicelib.plan.defaults import BUILTIN_PLAN
from chalicelib.posts.models import Item, Platform
from chalicelib.posts.store import PostStore
from chalicelib.trends import store as trend_store
from chalicelib.trends.service import TrendQueries, WordsQuery, parse_words_query
from chalicelib.trends.store import TrendStore
from chalicelib.trends.words import ALL, WordCounts, total

# 10:00 on 9 March 2026, China time; the China day began at 16:00 UTC on the 8th.
NOW = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
TODAY = "2026-03-09"


def post(n: int, text: str, at: datetime, *, drill: bool = False) -> Item:
    return Item(
        source_id="drill" if drill else "weibo-search",
        platform=Platform.WEIBO,
        title="",
        text=text,
        fetched_at=at,
        external_id=f"p{n}",
        drill=drill,
    )


def week_and_today() -> list[Item]:
    """Seven days of canteen talk (one post a day), then today: four posts on the water cut
    and one more about the canteen, in the China day's first hours."""
    items = [
        post(d, f"市一院食堂今天的饭菜一般，排队的人很多 第{d}天", NOW - timedelta(days=d))
        for d in range(1, 8)
    ]
    water = (
        "市一院突然停水，病房没有水用",
        "市一院停水一整天了，家属只能去外面买水",
        "停水原因不明，市一院至今没有说明",
        "市一院停水，手术推迟",
    )
    items += [post(10 + i, text, NOW - timedelta(minutes=50 - i)) for i, text in enumerate(water)]
    items.append(post(20, "市一院食堂今天的饭菜一般，排队的人很多", NOW - timedelta(minutes=30)))
    return items


def stores(clients: AwsClients, settings: Settings) -> tuple[TrendStore, TrendQueries]:
    trends = TrendStore(clients.table(settings.tables.trends))
    queries = TrendQueries(
        PostStore(clients.table(settings.tables.posts)),
        trends,
        ClusterStore(clients.table(settings.tables.clusters)),
        clock=lambda: NOW,
    )
    return trends, queries


def sink(clients: AwsClients, settings: Settings) -> ScoringSink:
    return build_scoring_sink(settings, clients, plan=lambda: BUILTIN_PLAN, clock=lambda: NOW)


def words_of(answer: dict[str, Any]) -> list[str]:
    return [w["word"] for w in answer["words"]]


def test_todays_new_word_is_hot_and_everyday_words_are_not(
    clients: AwsClients, settings: Settings
) -> None:
    sink(clients, settings).ingest(week_and_today())
    _, queries = stores(clients, settings)

    day = queries.words(WordsQuery(limit=5))
    assert day["day"] == TODAY
    assert day["period"] == {
        "start": "2026-03-08T16:00:00+00:00",
        "end": "2026-03-09T03:00:00+00:00",
    }
    assert (day["posts"], day["baseline_posts"]) == (5, 7)
    # 停水 alone: 市一院 is in every post of the week too, the other words in one post each
    assert day["words"] == [{"word": "停水", "count": 4, "expected": 0.0, "rise": 5.0, "new": True}]

    # per subject: the hospital's rule matches both stories (市一院)
    hospital = queries.words(WordsQuery(subject="hospital"))
    assert words_of(hospital) == ["停水"]
    assert hospital["subject"] == "hospital"
    assert queries.words(WordsQuery(subject="food-safety"))["words"] == []

    # per hour: the China hour 09:00 holds the posts of 01:xx UTC
    hour = queries.words(WordsQuery(hour=9))
    assert hour["period"]["start"] == "2026-03-09T01:00:00+00:00"
    assert "停水" in words_of(hour)
    assert queries.words(WordsQuery(hour=8))["posts"] == 0

    # a week ago, the canteen's words were no rise against the week before (nothing before)
    past = queries.words(WordsQuery(day="2026-03-02"))
    assert past["posts"] == 1
    assert past["words"] == []  # below the minimum of 3 posts


def test_a_word_is_counted_once_per_stored_post_never_for_drills(
    clients: AwsClients, settings: Settings
) -> None:
    batch = week_and_today()
    drill = [
        post(30 + i, "市一院演练停水演练停水", NOW - timedelta(minutes=5), drill=True)
        for i in range(5)
    ]
    the_sink = sink(clients, settings)
    the_sink.ingest(batch + drill)
    the_sink.ingest(batch + drill)  # the same batch delivered again
    trends, _ = stores(clients, settings)
    posts, used = total(c for c in trends.words(ALL, ["2026-03-09"]) if c.hour == 1)
    assert posts == 5
    assert used["停水"] == 4
    assert "演练" not in used


class NoWordsTrendStore(TrendStore):
    """The trends table, except that adding word counts fails (throttled, item too large)."""

    def add_words(self, counts: Any, expires_at: int) -> tuple[int, int]:
        raise UnavailableError("trends table unavailable")


def test_a_failure_to_count_words_does_not_fail_the_batch(
    clients: AwsClients, settings: Settings
) -> None:
    trends = NoWordsTrendStore(clients.table(settings.tables.trends))
    failing = ScoringSink(
        PostStore(clients.table(settings.tables.posts)),
        ClusterStore(clients.table(settings.tables.clusters)),
        # no workflow to start here: the starter names the execution it would have started
        IncidentOpener(
            IncidentStore(clients.table(settings.tables.incidents)),
            lambda incident_id, drill: f"incident-{incident_id}",
        ),
        plan=lambda: BUILTIN_PLAN,
        clock=lambda: NOW,
        trends=trends,
    )
    batch = week_and_today()
    report = failing.ingest(batch)
    assert report.new == len(batch)  # stored, clustered, counted by hour; words left out
    assert sum(c.posts for c in trends.hours(TODAY)) == 5  # the UTC day's posts
    assert trends.words(ALL, [TODAY]) == []


def test_word_items_round_trip_with_any_word(clients: AwsClients, settings: Settings) -> None:
    trends, _ = stores(clients, settings)
    odd = WordCounts(TODAY, 5, "hospital", posts=2, slot=3)
    odd.words.update({"停水": 2, "a.b#c": 1, "#w0": 1, "医院#": 1})
    assert trends.add_words([odd, odd], expires_at=0) == (2, 0)
    (back,) = trends.words("hospital", [TODAY])
    assert (back.posts, back.hour, back.slot, back.key) == (4, 5, 3, "hospital")
    assert back.words == odd.words + odd.words


def test_a_slots_item_stops_growing_at_its_cap(
    clients: AwsClients, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a slot's item that has taken 25 word additions of at most 30 WHEN a batch brings 10
    more THEN they are left out (the item does not grow past the cap), while a batch of 5 fits;
    the other slots are untouched."""
    monkeypatch.setattr(trend_store, "WORDS_PER_ITEM", 30)
    trends, _ = stores(clients, settings)

    def group(n: int, slot: int = 2) -> WordCounts:
        return WordCounts(
            TODAY, 1, ALL, posts=1, words=Counter({f"词{i}": 1 for i in range(n)}), slot=slot
        )

    assert trends.add_words([group(25)], 0) == (1, 0)
    assert trends.add_words([group(10), group(10, slot=3)], 0) == (1, 1)
    assert trends.add_words([group(5)], 0) == (1, 0)
    by_slot = {c.slot: c for c in trends.words(ALL, [TODAY])}
    assert (by_slot[2].posts, len(by_slot[2].words)) == (2, 25)
    assert (by_slot[3].posts, len(by_slot[3].words)) == (1, 10)


@pytest.mark.parametrize(
    ("query", "paths"),
    [
        ("hour=24&limit=0&subject=Bad!&day=2026-02-30", {"/hour", "/limit", "/subject", "/day"}),
        ("hour=-1&limit=51", {"/hour", "/limit"}),
        ("hour=9.5", {"/hour"}),
    ],
)
def test_bad_word_parameters_are_a_400_naming_each(query: str, paths: set[str]) -> None:
    params = dict(p.split("=", 1) for p in query.split("&"))
    with pytest.raises(ValidationError) as raised:
        parse_words_query(params)
    assert {p.path for p in raised.value.problems} == paths


def test_a_day_in_the_future_is_a_400(clients: AwsClients, settings: Settings) -> None:
    _, queries = stores(clients, settings)
    with pytest.raises(ValidationError):
        queries.words(WordsQuery(day="2026-03-10"))


@pytest.fixture
def viewer(clients: AwsClients, settings: Settings) -> dict[str, str]:
    token = TokenStore(clients.table(settings.tables.tokens)).issue("看板", Role.VIEWER)
    return {"Authorization": f"Bearer {token}"}


def test_the_route_answers_viewers_and_names_bad_parameters(
    api_client: Client, viewer: dict[str, str], clients: AwsClients, settings: Settings
) -> None:
    sink(clients, settings).ingest(week_and_today())
    ok = api_client.http.get(f"/trends/words?day={TODAY}&limit=3", headers=viewer)
    assert ok.status_code == 200, ok.body
    assert ok.json_body["words"][0]["word"] == "停水"
    bad = api_client.http.get("/trends/words?hour=25", headers=viewer)
    assert bad.status_code == 400
    assert [p["path"] for p in bad.json_body["problems"]] == ["/hour"]
    assert api_client.http.get("/trends/words").status_code == 401
