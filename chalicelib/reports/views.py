"""``POST /reports`` — 人工上报, for reporters and up; ``Idempotency-Key`` makes retries safe."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.auth.models import Role
from chalicelib.auth.views import require
from chalicelib.core.aws import get_clients
from chalicelib.core.http import api, json_body, json_response
from chalicelib.core.idempotency import IdempotencyStore, check_key
from chalicelib.core.settings import get_settings
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.service import subject_ids
from chalicelib.plan.store import PlanStore
from chalicelib.posts.store import PostStore
from chalicelib.reports.service import ReportService, parse_report, report_id_for
from chalicelib.sources.factory import build_sink
from chalicelib.workflow.wiring import incident_opener

bp = Blueprint(__name__)


def _subjects() -> set[str]:
    return subject_ids(PlanStore(get_clients().table(get_settings().tables.plan)))


def report_service() -> ReportService:
    settings, clients = get_settings(), get_clients()
    incidents = clients.table(settings.tables.incidents)
    return ReportService(
        build_sink(settings, clients),
        PostStore(clients.table(settings.tables.posts)),
        incident_opener(settings, clients),
        IncidentStore(incidents),
    )


@bp.route("/reports", methods=["POST"])
@api
def submit_report() -> Response:
    request = bp.current_request
    who = require(request, Role.REPORTER)
    body = json_body(request)
    headers = request.headers if request else {}
    key = headers.get("idempotency-key")
    report = parse_report(body, _subjects())

    def work() -> dict[str, Any]:
        return report_service().submit(who, report, report_id_for(who, key))

    if key is None:
        return json_response(work(), status=201)
    store = IdempotencyStore(get_clients().table(get_settings().tables.idempotency))
    answer = store.run(f"report#{who.name}", check_key(key), body, work)
    return json_response(answer, status=201)
