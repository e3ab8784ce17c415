"""Building the crawl pieces from settings and clients: the composition seams in one place.

The sink (:func:`build_sink`) and who hears about broken sources (:func:`build_alerts`) are
chosen here and nowhere else.
The fetcher is process-wide so its per-host rate limit and robots cache carry over between
invocations of a warm Lambda and across the threads of local mode. What a fetch may reach on
loopback (:func:`local_sites`) and how long a fetch on an API path may take
(:data:`API_FETCH_SECONDS`) are decided here too.
"""

from __future__ import annotations

from chalicelib.alerts.topics import SnsGateway
from chalicelib.alerts.wiring import alert_service
from chalicelib.core.aws import AwsClients, get_clients
from chalicelib.core.settings import Settings, get_settings
from chalicelib.ingest.wiring import build_scoring_sink
from chalicelib.plan.service import current_or_example
from chalicelib.plan.store import PlanStore
from chalicelib.posts.sink import ItemSink
from chalicelib.sources.alerts import (
    TECH_GROUP,
    AlertServiceSourceAlerts,
    OpsTopicAlerts,
    SourceAlerts,
)
from chalicelib.sources.fetcher import Fetcher
from chalicelib.sources.guard import LOCAL_SITES, Guard, LocalSite
from chalicelib.sources.service import CrawlQueue, CrawlService, Dispatcher, SourceService
from chalicelib.sources.store import SourceStore

_FETCHER = Fetcher()
# API Gateway ends a request at 29 s: a fetch on an API path (evidence, crawl-now) ends within
# this, everything included, leaving time to store what was fetched (decision 69).
API_FETCH_SECONDS = 20.0


def build_sink(settings: Settings, clients: AwsClients) -> ItemSink:
    """Where crawled items go: scored, clustered and stored in one write per post, under the
    stored plan's subjects and levels (the example plan until one is stored)."""
    plans = PlanStore(clients.table(settings.tables.plan))
    return build_scoring_sink(settings, clients, plan=lambda: current_or_example(plans))


def build_alerts(settings: Settings, clients: AwsClients) -> SourceAlerts:
    """Who hears about a broken source: the tech group through the alert service, or the ops
    topic if that fails."""
    gateway = SnsGateway.of(clients)
    fallback = OpsTopicAlerts(gateway, gateway.arn(settings.ops_topic))
    latest = PlanStore(clients.table(settings.tables.plan)).latest()
    ops = latest.doc.get("alerting", {}).get("ops_group") if latest else None
    return AlertServiceSourceAlerts(alert_service(settings, clients), fallback, ops or TECH_GROUP)


def shared_fetcher() -> Fetcher:
    """The process-wide fetcher (rate limits and robots cache shared): scheduled crawls."""
    return _FETCHER


def api_fetcher() -> Fetcher:
    """The process-wide fetcher with the API paths' deadline (:data:`API_FETCH_SECONDS`)."""
    return _FETCHER.with_deadline(API_FETCH_SECONDS)


def local_sites(settings: Settings) -> frozenset[LocalSite]:
    """What a fetch may reach on loopback: the sites local mode serves (the demo site), and
    nothing at all outside local mode."""
    return LOCAL_SITES.current() if settings.local_mode else frozenset()


def request_guard(settings: Settings) -> Guard:
    """The guard for a URL given in a request (evidence): public addresses and the local sites."""
    return Guard(local_sites=local_sites(settings), offline=settings.offline)


def source_store(
    settings: Settings | None = None, clients: AwsClients | None = None
) -> SourceStore:
    settings = settings or get_settings()
    clients = clients or get_clients()
    return SourceStore(clients.table(settings.tables.sources))


def crawl_service(fetcher: Fetcher | None = None) -> CrawlService:
    settings, clients = get_settings(), get_clients()
    return CrawlService(
        source_store(settings, clients),
        fetcher or _FETCHER,
        build_sink(settings, clients),
        build_alerts(settings, clients),
        local_sites=local_sites(settings),
        offline=settings.offline,
    )


def dispatcher() -> Dispatcher:
    settings, clients = get_settings(), get_clients()
    queue = CrawlQueue(clients.client("sqs"), clients.queue_url(settings.crawl_queue))
    return Dispatcher(source_store(settings, clients), queue.send)


def source_service() -> SourceService:
    settings = get_settings()
    return SourceService(
        source_store(settings),
        local_mode=settings.local_mode,
        local_sites=local_sites(settings),
    )
