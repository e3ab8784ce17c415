"""The example sources and the demo site local mode serves: seeded once, crawlable offline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.deploy.template import PROJECT_DIR
from chalicelib.local.demo_site import DemoSite
from chalicelib.posts.sink import StoreOnlySink
from chalicelib.posts.store import PostStore
from chalicelib.sources.alerts import RecordingAlerts
from chalicelib.sources.fetcher import Fetcher, FetchPolicy
from chalicelib.sources.models import parse_definition
from chalicelib.sources.seed import example_sources, seed_sources
from chalicelib.sources.service import CrawlService
from chalicelib.sources.store import SourceStore

EXAMPLES = PROJECT_DIR / "examples" / "sources.json"


@pytest.fixture
def demo_site() -> Iterator[DemoSite]:
    site = DemoSite()
    site.start()
    yield site
    site.stop()


def test_every_example_is_a_valid_definition_and_public_ones_poll_slowly():
    for body in example_sources(EXAMPLES, "http://127.0.0.1:9"):
        source = parse_definition(body)
        if not source.local:
            assert source.interval_minutes >= 10, source.id
    ids = [b["id"] for b in example_sources(EXAMPLES, "http://127.0.0.1:9")]
    assert len({b for b in ids if b.endswith("-hot")}) >= 6


def test_seeding_fills_an_empty_table_once_and_never_overwrites(
    clients: AwsClients, settings: Settings, demo_site: DemoSite
):
    store = SourceStore(clients.table(settings.tables.sources))
    seeded = seed_sources(store, EXAMPLES, demo_site.url)
    assert "demo-weibo" in seeded
    assert store.require("demo-weibo").definition.url == f"{demo_site.url}/feed.xml"
    store.delete("weibo-hot")
    assert seed_sources(store, EXAMPLES, demo_site.url) == []
    assert store.get("weibo-hot") is None


def test_the_demo_sources_crawl_offline_into_posts(
    clients: AwsClients, settings: Settings, demo_site: DemoSite
):
    store = SourceStore(clients.table(settings.tables.sources))
    seed_sources(store, EXAMPLES, demo_site.url)
    posts = clients.table(settings.tables.posts)
    service = CrawlService(
        store,
        Fetcher(FetchPolicy(host_interval_seconds=0)),
        StoreOnlySink(PostStore(posts)),
        RecordingAlerts(),
        local_sites=frozenset({demo_site.site}),
        offline=True,
    )
    weibo = service.crawl("demo-weibo")
    forum = service.crawl("demo-forum")
    assert (weibo.outcome, weibo.new) == ("ok", 12)
    assert (forum.outcome, forum.new) == ("ok", 3)
    texts = [item["text"] for item in posts.scan()["Items"]]
    assert sum("//@" in text for text in texts) >= 4  # the repost storm
    public = service.crawl("weibo-hot")
    assert public.error is not None
    assert public.error["code"] == "offline"
