"""Posts are written once per id, whatever the number of deliveries."""

from datetime import UTC, datetime

from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.posts.models import Item, Platform
from chalicelib.posts.sink import StoreOnlySink
from chalicelib.posts.store import PostStore

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
