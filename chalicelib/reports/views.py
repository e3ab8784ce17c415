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
from chalicelib.reports.service import parse_report, report_id_for
from chalicelib.reports.wiring import plan_subjects, report_service

bp = Blueprint(__name__)


@bp.route("/reports", methods=["POST"])
@api
def submit_report() -> Response:
    request = bp.current_request
    who = require(request, Role.REPORTER)
    body = json_body(request)
    headers = request.headers if request else {}
    key = headers.get("idempotency-key")
    report = parse_report(body, plan_subjects())

    def work() -> dict[str, Any]:
        return report_service().submit(who, report, report_id_for(who, key))

    if key is None:
        return json_response(work(), status=201)
    store = IdempotencyStore(get_clients().table(get_settings().tables.idempotency))
    answer = store.run(f"report#{who.name}", check_key(key), body, work)
    return json_response(answer, status=201)
