"""``/sources``: define, inspect and crawl sources.

Reading (definitions, health) needs ``viewer``: everyone on duty should see that a source is
down. Changing a definition or crawling now needs ``lead``: sources decide what the system
watches and where it sends requests, which is a 组长's or the HQ's call (hq ranks above lead).
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.auth.models import Role
from chalicelib.auth.views import require
from chalicelib.core.http import api, json_body, json_response
from chalicelib.sources.service import check_source_id
from chalicelib.sources.wiring import api_fetcher, crawl_service, source_service

bp = Blueprint(__name__)


@bp.route("/sources", methods=["GET"])
@api
def list_sources() -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    return {"sources": [record.as_dict() for record in source_service().list()]}


@bp.route("/sources", methods=["POST"])
@api
def create_source() -> Response:
    require(bp.current_request, Role.LEAD)
    record = source_service().create(json_body(bp.current_request))
    return json_response(record.as_dict(), status=201)


@bp.route("/sources/{source_id}", methods=["GET"])
@api
def get_source(source_id: str) -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    return source_service().get(check_source_id(source_id)).as_dict()


@bp.route("/sources/{source_id}", methods=["PUT"])
@api
def replace_source(source_id: str) -> dict[str, Any]:
    require(bp.current_request, Role.LEAD)
    body = json_body(bp.current_request)
    return source_service().replace(check_source_id(source_id), body).as_dict()


@bp.route("/sources/{source_id}", methods=["DELETE"])
@api
def delete_source(source_id: str) -> dict[str, Any]:
    require(bp.current_request, Role.LEAD)
    source_service().delete(check_source_id(source_id))
    return {"deleted": source_id}


@bp.route("/sources/{source_id}/crawl", methods=["POST"])
@api
def crawl_now(source_id: str) -> dict[str, Any]:
    """Crawl now, synchronously; the answer has the counts and any error (status 200 either way:
    the request worked, the source may not have). The fetch has the API paths' deadline, so a
    slow site is a ``timeout`` in the answer, not API Gateway's own 504."""
    require(bp.current_request, Role.LEAD)
    return crawl_service(api_fetcher()).crawl(check_source_id(source_id)).as_dict()


@bp.route("/sources/{source_id}/health", methods=["GET"])
@api
def source_health(source_id: str) -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    record = source_service().get(check_source_id(source_id))
    return {
        "id": record.definition.id,
        "enabled": record.definition.enabled,
        "next_due_at": record.next_due_at,
        **record.health.as_dict(),
    }
