"""``GET /posts``, ``GET /clusters``, ``GET /trends``, ``GET /trends/words``: the live picture
for the dashboard. ``GET /posts?q=…`` searches the feed posts instead (:mod:`chalicelib.search`).

Viewer and up: everyone on duty reads the same picture. Thin: parse, one query, shape. The feed
and the clusters are lists officials forward: ``?format=xlsx`` answers the same rows as an Excel
workbook (:mod:`chalicelib.exports`).
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.auth.models import Role
from chalicelib.auth.views import require
from chalicelib.core.http import api, query_params
from chalicelib.exports import sheets
from chalicelib.exports.views import requested_format, respond
from chalicelib.search.service import parse_search_query
from chalicelib.search.wiring import post_search
from chalicelib.trends.service import (
    parse_cluster_query,
    parse_feed_query,
    parse_trend_query,
    parse_words_query,
)
from chalicelib.trends.wiring import trend_queries

bp = Blueprint(__name__)


@bp.route("/posts", methods=["GET"])
@api
def feed() -> Response:
    request = bp.current_request
    require(request, Role.VIEWER)
    fmt = requested_format(request)
    params = query_params(request)
    if "q" in params:  # a search (检索) over the feed posts of a window, by a subject rule
        answer = post_search().search(parse_search_query(params))
    else:
        answer = trend_queries().feed(parse_feed_query(params))
    return respond(answer, fmt, sheets.feed, "GET /posts", request)


@bp.route("/clusters", methods=["GET"])
@api
def clusters() -> Response:
    request = bp.current_request
    require(request, Role.VIEWER)
    fmt = requested_format(request)
    answer = trend_queries().clusters(parse_cluster_query(query_params(request)))
    return respond(answer, fmt, sheets.clusters, "GET /clusters", request)


@bp.route("/trends", methods=["GET"])
@api
def trends() -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    return trend_queries().trends(parse_trend_query(query_params(bp.current_request)))


@bp.route("/trends/words", methods=["GET"])
@api
def hot_words() -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    return trend_queries().words(parse_words_query(query_params(bp.current_request)))
