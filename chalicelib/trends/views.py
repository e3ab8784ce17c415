"""``GET /posts``, ``GET /clusters``, ``GET /trends``: the live picture for the dashboard.
``GET /posts?q=…`` searches the feed posts instead (:mod:`chalicelib.search`).

Viewer and up: everyone on duty reads the same picture. Thin: parse, one query, shape.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.auth.models import Role
from chalicelib.auth.views import require
from chalicelib.core.http import api, query_params
from chalicelib.search.service import parse_search_query
from chalicelib.search.wiring import post_search
from chalicelib.trends.service import (
    parse_cluster_query,
    parse_feed_query,
    parse_trend_query,
)
from chalicelib.trends.wiring import trend_queries

bp = Blueprint(__name__)


@bp.route("/posts", methods=["GET"])
@api
def feed() -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    params = query_params(bp.current_request)
    if "q" in params:  # a search (检索) over the feed posts of a window, by a subject rule
        return post_search().search(parse_search_query(params))
    return trend_queries().feed(parse_feed_query(params))


@bp.route("/clusters", methods=["GET"])
@api
def clusters() -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    return trend_queries().clusters(parse_cluster_query(query_params(bp.current_request)))


@bp.route("/trends", methods=["GET"])
@api
def trends() -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    return trend_queries().trends(parse_trend_query(query_params(bp.current_request)))
