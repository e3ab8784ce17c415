"""``GET /posts?q=<rule>``: the search (检索) over the feed posts of a window, against moto.

GIVEN feed posts stored as the scoring sink stores them (one item each, ``day`` set, cut to one
write unit) on fixed days of March 2026, WHEN a viewer searches them with a subject rule, THEN
the posts the rule matches come newest first, page after page without a repeat or a gap, within
a read budget that a cursor continues past; a bad rule is a 400 naming its position, and bad
cursors and windows are 400s. Every window is given (or the clock is a fake): nothing depends on
today's date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.auth.models import Role
from chalicelib.auth.store import TokenStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.posts.models import Item, Platform, feed_day
from chalicelib.posts.sizing import fit_post
from chalicelib.posts.store import PostStore
from chalicelib.search.models import Position, SearchCursor, Window, encode_cursor
from chalicelib.search.service import PostSearch, parse_search_query
from chalicelib.trends import views
from chalicelib.trends.service import encode_cursor as feed_cursor

# China noon on 10 March 2026; the posts are from the days before.
NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
EXPIRES = 2_000_000_000
WINDOW = {"from": "2026-03-01", "to": "2026-03-10"}


def feed_post(
    label: str,
    text: str,
    seen: datetime,
    *,
    title: str = "",
    platform: Platform = Platform.WEIBO,
    drill: bool = False,
) -> dict[str, Any]:
    """A post as the sink stores a feed post (``external_id`` is the test's label)."""
    item = Item(
        source_id="search-test",
        platform=platform,
        title=title,
        text=text,
        fetched_at=seen,
        external_id=label,
        drill=drill,
    )
    record = item.to_record()
    record.update(
        day=feed_day(record["seen_at"]),
        subjects=["hospital"],
        sentiment=-0.4,
        negative=True,
        risk=0.5,
        level="IV",
        reasons=["命中主体"],
        expires_at=EXPIRES,
    )
    return fit_post(record)


@pytest.fixture
def store(clients: AwsClients, settings: Settings) -> PostStore:
    return PostStore(clients.table(settings.tables.posts))


@pytest.fixture
def stored(store: PostStore) -> Callable[..., dict[str, Any]]:
    def put(*args: Any, **kwargs: Any) -> dict[str, Any]:
        record = feed_post(*args, **kwargs)
        assert store.put_new(record)
        return record

    return put


@pytest.fixture
def viewer(clients: AwsClients, settings: Settings) -> dict[str, str]:
    token = TokenStore(clients.table(settings.tables.tokens)).issue("看板", Role.VIEWER)
    return {"Authorization": f"Bearer {token}"}


def search(client: Client, headers: dict[str, str], **params: Any) -> Any:
    return client.http.get(f"/posts?{urlencode(params)}", headers=headers)


def labels(posts: list[dict[str, Any]]) -> list[str]:
    return [p["external_id"] for p in posts]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def corpus(stored: Callable[..., dict[str, Any]]) -> None:
    """Hospital, chemical plant and phrase posts on 3–9 March (UTC hours, all in the window)."""
    stored("riot", "市第一医院发生医闹，患者家属聚集在门诊大厅", at(9, 3))
    stored("hiring", "一院门诊纠纷频发？其实是招聘启事里写的", at(9, 2))
    stored("dispute", "一院的医疗纠纷仍未解决", at(8, 23))
    stored("blast", "化工厂昨夜发生爆炸，周边居民已撤离", at(8, 10))
    stored("far", "仓库的消防检查合格。另据报道，" + "城" * 30 + "郊昨日发生爆炸", at(7, 12))
    stored("phrase", "据悉患者 死亡原因尚不明确", at(6, 5), title="医院通报")
    stored("no-phrase", "患者已死亡，家属要求说法", at(5, 5))
    stored("latin", "ＡＢＣ医药公司回应质疑", at(4, 5), platform=Platform.NEWS)
    stored("drill", "【演练】市第一医院发生医闹", at(9, 4), drill=True)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("医闹 OR 纠纷", ["riot", "hiring", "dispute"]),
        ("医闹 纠纷", []),  # adjacent keywords mean AND
        ("(市第一医院 OR 一院) AND (医闹 OR 纠纷) NOT 招聘", ["riot", "dispute"]),
        ("爆炸 NEAR/10 (化工厂 OR 仓库)", ["blast"]),
        ("爆炸 AND 仓库", ["far"]),
        ('"患者 死亡"', ["phrase"]),
        ("“患者 死亡”", ["phrase"]),
        ("医院通报", ["phrase"]),  # the title is searched too
        ("abc", ["latin"]),  # ＡＢＣ: full-width, upper case
    ],
)
def test_a_rule_matches_with_and_or_not_near_and_phrases(
    api_client: Client, viewer: dict[str, str], corpus: None, rule: str, expected: list[str]
) -> None:
    # WHEN a viewer searches March 2026 with the rule
    answer = search(api_client, viewer, q=rule, **WINDOW)
    # THEN exactly the posts the rule matches come back, newest first, drill posts left out
    assert answer.status_code == 200, answer.body
    body = answer.json_body
    assert labels(body["posts"]) == expected
    assert body["more"] is False
    assert body["next_cursor"] is None
    assert body["budget_spent"] is False
    assert body["q"] == rule
    assert all(p["matched"] and "pk" not in p and "day" not in p for p in body["posts"])


def test_each_post_names_the_keywords_that_matched_and_filters_combine(
    api_client: Client, viewer: dict[str, str], corpus: None
) -> None:
    body = search(api_client, viewer, q="医闹 OR 纠纷 OR abc", **WINDOW).json_body
    matched = {p["external_id"]: p["matched"] for p in body["posts"]}
    assert matched["riot"] == ["医闹"]
    assert matched["hiring"] == ["纠纷"]
    assert matched["latin"] == ["abc"]
    # AND the feed's filters narrow the search: one platform, or the drill posts alone
    news = search(api_client, viewer, q="医闹 OR 纠纷 OR abc", platform="news", **WINDOW)
    assert labels(news.json_body["posts"]) == ["latin"]
    drill = search(api_client, viewer, q="医闹", drill="true", **WINDOW)
    assert labels(drill.json_body["posts"]) == ["drill"]


def test_the_window_is_china_days_and_results_come_newest_first_across_days(
    api_client: Client, viewer: dict[str, str], stored: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN posts on both sides of China midnight between 8 and 9 March (16:00 UTC)
    stored("before", "医院排队 1", at(8, 15, 59))
    stored("first", "医院排队 2", at(8, 16, 0))
    stored("utc-day", "医院排队 3", at(9, 1))
    stored("late", "医院排队 4", at(9, 15, 59))
    stored("next", "医院排队 5", at(9, 16, 0))
    # WHEN the search asks for 9 March, China time
    body = search(api_client, viewer, q="排队", **{"from": "2026-03-09", "to": "2026-03-09"})
    # THEN that China day's posts come, newest first, across the two UTC days it touches
    assert body.status_code == 200, body.body
    assert labels(body.json_body["posts"]) == ["late", "utc-day", "first"]
    assert body.json_body["from"] == "2026-03-08T16:00:00+00:00"
    assert body.json_body["to"] == "2026-03-09T16:00:00+00:00"
    # AND instants with an offset bound it to the second, `to` excluded
    instants = {"from": "2026-03-09T00:00:00+08:00", "to": "2026-03-09T23:59:00+08:00"}
    narrow = search(api_client, viewer, q="排队", **instants).json_body
    assert labels(narrow["posts"]) == ["utc-day", "first"]


def test_pages_follow_each_other_without_duplicates_or_gaps(
    api_client: Client, viewer: dict[str, str], stored: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN 13 matching posts among 26 over four days (two at the same second)
    for n in range(26):
        text = "医院收费投诉" if n % 2 == 0 else "天气晴好"
        stored(f"p{n:02d}", text, at(3, 0) + timedelta(hours=5 * n))
    stored("twin", "医院收费投诉（另一条）", at(3, 0) + timedelta(hours=10))
    whole = search(api_client, viewer, q="收费 AND 投诉", limit=200, **WINDOW).json_body
    assert len(whole["posts"]) == 14
    assert whole["more"] is False
    seen = [p["seen_at"] for p in whole["posts"]]
    assert seen == sorted(seen, reverse=True)
    # WHEN the same search is read four at a time, each next page from the cursor alone
    collected: list[str] = []
    params: dict[str, Any] = {"q": "收费 AND 投诉", "limit": 4, **WINDOW}
    for _ in range(10):
        page = search(api_client, viewer, **params).json_body
        collected += labels(page["posts"])
        if not page["more"]:
            break
        assert len(page["posts"]) == 4
        assert page["next_cursor"]
        params = {"q": "收费 AND 投诉", "limit": 4, "cursor": page["next_cursor"]}
    # THEN the pages hold every post once, in the same order
    assert collected == labels(whole["posts"])


def test_a_spent_budget_answers_a_short_page_and_a_cursor_that_goes_on(
    store: PostStore, stored: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN twelve posts over two days, of which only the two oldest match
    for n in range(12):
        text = "药品短缺" if n < 2 else "门诊排队"
        stored(f"p{n:02d}", text, at(8, 12) + timedelta(hours=2 * n))
    # AND a search whose budget is five index entries a request
    searcher = PostSearch(store, clock=lambda: NOW, budget=5, first_read=2)
    query = parse_search_query({"q": "短缺", "limit": "10", **WINDOW})
    # WHEN it is asked, then continued from its cursor until it ends
    pages = [searcher.search(query)]
    while pages[-1]["more"] and len(pages) < 10:
        params = {"q": "短缺", "limit": "10", "cursor": pages[-1]["next_cursor"]}
        pages.append(searcher.search(parse_search_query(params)))
    # THEN the first page is empty but says why, and how far it read
    first = pages[0]
    assert first["posts"] == []
    assert first["more"] is True
    assert first["budget_spent"] is True
    assert first["examined"] == 5
    assert first["searched_to"] == (at(8, 12) + timedelta(hours=14)).isoformat()
    # AND the pages together read every entry once and found both posts, newest first
    assert [labels(p["posts"]) for p in pages] == [[], [], ["p01", "p00"]]
    assert sum(p["examined"] for p in pages) == 12
    assert pages[-1]["more"] is False
    assert pages[-1]["budget_spent"] is False
    assert pages[-1]["searched_to"] == "2026-02-28T16:00:00+00:00"  # 1 March, China time


def test_through_the_api_a_spent_budget_is_said_with_more(
    api_client: Client,
    viewer: dict[str, str],
    store: PostStore,
    stored: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(4):
        stored(f"p{n}", "门诊排队", at(9, n))
    monkeypatch.setattr(views, "post_search", lambda: PostSearch(store, budget=3, first_read=1))
    body = search(api_client, viewer, q="短缺", **WINDOW).json_body
    assert body["posts"] == []
    assert body["more"] is True
    assert body["budget_spent"] is True
    assert body["examined"] == 3
    assert body["next_cursor"]


def test_without_from_and_to_the_last_seven_days_are_searched(
    store: PostStore, stored: Callable[..., dict[str, Any]]
) -> None:
    stored("newer", "医院排队", NOW - timedelta(days=1))
    stored("recent", "医院排队", NOW - timedelta(days=6, hours=23))
    stored("old", "医院排队", NOW - timedelta(days=7, minutes=1))
    searcher = PostSearch(store, clock=lambda: NOW)
    body = searcher.search(parse_search_query({"q": "排队"}))
    assert labels(body["posts"]) == ["newer", "recent"]
    assert body["from"] == (NOW - timedelta(days=7)).isoformat()
    assert body["to"] == NOW.isoformat()
    # AND a cursor keeps the window it was made in, though the clock moves on
    page = searcher.search(parse_search_query({"q": "排队", "limit": "1"}))
    later = PostSearch(store, clock=lambda: NOW + timedelta(hours=1))
    params = {"q": "排队", "limit": "1", "cursor": page["next_cursor"]}
    rest = later.search(parse_search_query(params))
    assert (rest["from"], rest["to"]) == (body["from"], body["to"])
    assert labels(page["posts"]) == ["newer"]
    assert labels(rest["posts"]) == ["recent"]
    assert rest["more"] is False


@pytest.mark.parametrize(
    ("rule", "position"),
    [
        ("医院 AND", 6),  # the rule ends where a keyword is expected
        ("(医院 OR 一院", 0),  # '(' is never closed
        ("医院 NEAR 一院", 3),  # NEAR needs a distance
        ('医院 "患者 死亡', 3),  # unclosed quotation mark
        ("医院 OR NOT", 9),
        ("NOT 招聘", 0),  # only excludes
        ("医院 )", 3),
    ],
)
def test_a_bad_rule_is_a_400_naming_its_position(
    api_client: Client, viewer: dict[str, str], rule: str, position: int
) -> None:
    answer = search(api_client, viewer, q=rule, **WINDOW)
    assert answer.status_code == 400, answer.body
    [problem] = answer.json_body["problems"]
    assert problem["path"] == "/q"
    assert problem["position"] == position
    assert f"position {position}" in problem["message"]


def test_an_empty_rule_is_a_400(api_client: Client, viewer: dict[str, str]) -> None:
    answer = api_client.http.get("/posts?q=", headers=viewer)
    assert answer.status_code == 400
    assert answer.json_body["problems"][0]["path"] == "/q"


@pytest.fixture
def cursor(api_client: Client, viewer: dict[str, str], corpus: None) -> str:
    page = search(api_client, viewer, q="医闹 OR 纠纷", limit=1, **WINDOW).json_body
    assert page["more"] is True
    return str(page["next_cursor"])


def _flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


def test_bad_cursors_are_400s_never_500s(
    api_client: Client, viewer: dict[str, str], cursor: str
) -> None:
    # A good one works
    good = search(api_client, viewer, q="医闹 OR 纠纷", limit=1, cursor=cursor)
    assert good.status_code == 200
    assert labels(good.json_body["posts"]) == ["hiring"]
    other_window = Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))
    outside = SearchCursor(
        "0" * 16,
        other_window,
        Position(
            "2026-03-01", {"pk": "p1", "day": "2026-03-01", "seen_at": "2026-03-05T00:00:00+00:00"}
        ),
    )
    feed = feed_cursor({"pk": "p1", "day": "2026-03-09", "seen_at": "2026-03-09T03:00:00+00:00"})
    bad = {
        "garbage": "not-a-cursor",
        "tampered": _flip(cursor, len(cursor) // 2),
        "truncated": cursor[:-6],
        "too long": cursor * 3,
        "a feed cursor": feed,
        "a position outside its window": encode_cursor(outside),
    }
    for name, value in bad.items():
        answer = search(api_client, viewer, q="医闹 OR 纠纷", limit=1, cursor=value)
        assert answer.status_code == 400, (name, answer.body)
        assert [p["path"] for p in answer.json_body["problems"]] == ["/cursor"], name
    # AND a cursor of another rule, other filters or another window is refused, not misread
    for params in (
        {"q": "医闹"},
        {"q": "医闹 OR 纠纷", "platform": "news"},
        {"q": "医闹 OR 纠纷", "from": "2026-03-02"},
    ):
        answer = search(api_client, viewer, limit=1, cursor=cursor, **params)
        assert answer.status_code == 400, (params, answer.body)
        assert [p["path"] for p in answer.json_body["problems"]] == ["/cursor"]
    # AND the window it was made for may be repeated
    again = search(api_client, viewer, q="医闹 OR 纠纷", limit=1, cursor=cursor, **WINDOW)
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("params", "paths"),
    [
        ({"from": "2026-03-10", "to": "2026-03-01"}, ["/to"]),
        ({"from": "2099-12-01"}, ["/from"]),  # after now, where `to` defaults
        ({"from": "2026-03-01", "to": "2026-04-01"}, ["/to"]),  # 32 days
        ({"from": "2000-01-01"}, ["/from"]),  # to defaults to now: far more than 31 days
        ({"from": "1999-12-31", "to": "2000-01-01"}, ["/from"]),  # before 2000
        ({"from": "2026-02-30"}, ["/from"]),
        ({"from": "yesterday", "to": "2026-03-01T08:00"}, ["/from", "/to"]),  # no offset
        ({"to": "9999-12-31"}, ["/to"]),
        ({"to": "9999-12-31T23:59:59Z"}, ["/to"]),
        ({"day": "2026-03-01"}, ["/day"]),
        ({"limit": "0", "level": "V"}, ["/level", "/limit"]),
    ],
)
def test_bad_windows_and_parameters_are_400s_naming_each(
    api_client: Client, viewer: dict[str, str], params: dict[str, str], paths: list[str]
) -> None:
    answer = search(api_client, viewer, q="医院", **params)
    assert answer.status_code == 400, answer.body
    assert sorted(p["path"] for p in answer.json_body["problems"]) == paths


def test_a_31_day_window_is_allowed(api_client: Client, viewer: dict[str, str]) -> None:
    answer = search(api_client, viewer, q="医院", **{"from": "2026-03-01", "to": "2026-03-31"})
    assert answer.status_code == 200, answer.body
    assert answer.json_body["posts"] == []


def test_searching_needs_a_token_like_the_feed(api_client: Client) -> None:
    answer = search(api_client, {}, q="医院", **WINDOW)
    assert answer.status_code == 401
