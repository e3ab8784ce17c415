"""``GET /posts``, ``GET /clusters``, ``GET /trends``: the live picture for the dashboard.

Viewer and up: everyone on duty reads the same picture. Thin: parse, one query, shape.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.auth.models import Role
from chalicelib.auth.views import require
from chalicelib.clusters.store import ClusterStore
from chalicelib.core.aws import get_clients
from chalicelib.core.http import api, query_params
from chalicelib.core.settings import get_settings
from chalicelib.posts.store import PostStore
from chalicelib.trends.service import (
    TrendQueries,
    parse_cluster_query,
    parse_feed_query,
    parse_trend_query,
)
from chalicelib.trends.store import TrendStore

bp = Blueprint(__name__)


def queries() -> TrendQueries:
    settings, clients = get_settings(), get_clients()
    return TrendQueries(
        PostStore(clients.table(settings.tables.posts)),
        TrendStore(clients.table(settings.tables.trends)),
        ClusterStore(clients.table(settings.tables.clusters)),
    )


@bp.route("/posts", methods=["GET"])
@api
def feed() -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    return queries().feed(parse_feed_query(query_params(bp.current_request)))


@bp.route("/clusters", methods=["GET"])
@api
def clusters() -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    return queries().clusters(parse_cluster_query(query_params(bp.current_request)))


@bp.route("/trends", methods=["GET"])
@api
def trends() -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    return queries().trends(parse_trend_query(query_params(bp.current_request)))
