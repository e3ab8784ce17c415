"""Posts are written once per id, whatever the number of deliveries."""

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.posts.models import Item, Platform
from chalicelib.posts.sink import StoreOnlySink
from chalicelib.posts.store import FeedFilter, PostStore

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _item(url: str | None = "https://example.org/a", title: str = "标题") -> Item:
    return Item(source_id="s1", platform=Platform.NEWS, title=title, fetched_at=NOW, url=url)


def test_a_repeated_batch_writes_nothing_new(
    moto: dict[str, str], settings: Settings, clients: AwsClients
) -> None:
    store = PostStore(clients.table(settings.tables.posts))
    sink = StoreOnlySink(store)
    batch = [_item(), _item(url=None, title="另一条")]

    first = sink.ingest(batch)
    second = sink.ingest(batch)

    assert (first.new, first.duplicates) == (2, 0)
    assert (second.new, second.duplicates) == (0, 2)
    stored = store.get(batch[0].post_id)
    assert stored is not None
    assert stored["seen_at"].startswith("2026-11-25")
    assert "day" not in stored  # unscored posts stay out of the feed index
    assert stored["platform"] == "news"
    assert "author" not in stored  # None is not stored, so sparse indexes stay sparse


def test_post_id_prefers_url_then_external_id() -> None:
    with_url = _item()
    assert with_url.post_id == _item(title="改了标题").post_id
    assert _item(url=None).post_id != _item(url=None, title="别的").post_id


class CountingTable:
    """The posts table, counting the queries made through it."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self.queries = 0

    def query(self, **request: Any) -> Any:
        self.queries += 1
        return self._table.query(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _feed_posts(table: Any, count: int, level_i: set[int]) -> list[str]:
    """``count`` feed posts of one day, newest first by index; those in ``level_i`` are level I."""
    ids = []
    with table.batch_writer() as batch:
        for n in range(count):
            seen = NOW - timedelta(seconds=n)
            batch.put_item(
                Item={
                    "pk": f"p{n:05d}",
                    "day": "2026-11-25",
                    "seen_at": seen.isoformat(),
                    "level": "I" if n in level_i else "IV",
                    "drill": False,
                }
            )
            ids.append(f"p{n:05d}")
    return [ids[n] for n in sorted(level_i)]


def test_a_narrow_feed_filter_reads_a_few_pages_and_hands_back_a_cursor(
    moto: dict[str, str], settings: Settings, clients: AwsClients
) -> None:
    """GIVEN 300 feed posts of one day, two of them level I and far down the day
    WHEN the feed for level I is read, ten at a time, in pages of 40 with a budget of 3 queries
    THEN no read makes more than 3 queries; the first answers with no post but a cursor, and
    following the cursors yields exactly the two level I posts, newest first, then no cursor."""
    table = CountingTable(clients.table(settings.tables.posts))
    wanted = _feed_posts(table, 300, {120, 250})
    store = PostStore(table)
    level_i = FeedFilter(level="I")

    pages = []
    start = None
    for _ in range(20):
        before = table.queries
        page = store.feed("2026-11-25", level_i, 10, start, pages=3, page_size=40)
        assert table.queries - before <= 3
        pages.append(page)
        start = page.cursor
        if start is None:
            break

    assert pages[0].posts == []
    assert pages[0].cursor is not None
    assert [p["pk"] for page in pages for p in page.posts] == wanted
    assert pages[-1].cursor is None


def test_an_unfiltered_feed_page_is_one_query(
    moto: dict[str, str], settings: Settings, clients: AwsClients
) -> None:
    """GIVEN 30 feed posts WHEN ten are asked for without a filter
    THEN one query answers with the ten newest and a cursor to the rest."""
    table = CountingTable(clients.table(settings.tables.posts))
    _feed_posts(table, 30, set())
    table.queries = 0

    page = PostStore(table).feed("2026-11-25", None, 10)

    assert table.queries == 1
    assert [p["pk"] for p in page.posts] == [f"p{n:05d}" for n in range(10)]
    assert page.cursor is not None
