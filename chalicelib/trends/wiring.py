"""Building the trend queries from settings and clients."""

from __future__ import annotations

from chalicelib.clusters.store import ClusterStore
from chalicelib.core.aws import get_clients
from chalicelib.core.settings import get_settings
from chalicelib.posts.store import PostStore
from chalicelib.trends.service import (
    TrendQueries,
)
from chalicelib.trends.store import TrendStore


def trend_queries() -> TrendQueries:
    settings, clients = get_settings(), get_clients()
    return TrendQueries(
        PostStore(clients.table(settings.tables.posts)),
        TrendStore(clients.table(settings.tables.trends)),
        ClusterStore(clients.table(settings.tables.clusters)),
    )
