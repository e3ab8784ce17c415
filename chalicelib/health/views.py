"""``GET /health`` (the scheduled probe is in :mod:`chalicelib.health.handlers`).

Anyone may ask ``/health`` whether the deployment is well (a load balancer, an uptime checker,
the HQ's phone when SMS stays silent): without a token the answer is the status alone, 200
``{"status": "ok"}`` or 503 ``{"status": "degraded"}``. What is wrong — components, queue depths,
subscriptions, the alert backlog — names the deployment's resources and is for viewer and up,
with a bearer token (decision 73). Both answers come from the process's cached report.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.auth.models import Role
from chalicelib.auth.views import require
from chalicelib.core.aws import get_clients
from chalicelib.core.http import api, json_response
from chalicelib.health.service import report_cache
from chalicelib.health.wiring import health_service

bp = Blueprint(__name__)

# Intermediaries must not keep a health answer: its value is being current.
NO_STORE = {"Cache-Control": "no-store"}


@bp.route("/health", methods=["GET"])
@api
def health() -> Response:
    """200 when every component answers and no alert waits too long, else 503.

    With a token (viewer and up): the components, the alert backlog and when the scheduled probe
    last ran (``last_probe``, so a stalled schedule shows); without one, the status alone.
    """
    request = bp.current_request
    assert request is not None
    detailed = bool(request.headers.get("authorization"))
    if detailed:
        require(request, Role.VIEWER)
    body = report_cache.get(get_clients(), lambda: health_service().answer())
    status = 200 if body["status"] == "ok" else 503
    shown = body if detailed else {"status": body["status"]}
    return json_response(shown, status=status, headers=NO_STORE)
