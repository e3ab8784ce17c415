"""``GET /health`` and the scheduled health probe.

Anyone may ask ``/health`` whether the deployment is well (a load balancer, an uptime checker,
the HQ's phone when SMS stays silent): without a token the answer is the status alone, 200
``{"status": "ok"}`` or 503 ``{"status": "degraded"}``. What is wrong — components, queue depths,
subscriptions, the alert backlog — names the deployment's resources and is for viewer and up,
with a bearer token (decision 73). Both answers come from the process's cached report.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Blueprint, Rate, Response

from chalicelib.auth.models import Role
from chalicelib.auth.views import require
from chalicelib.core.aws import get_clients
from chalicelib.core.http import api, json_response
from chalicelib.core.observability import logger, metrics
from chalicelib.core.settings import get_settings
from chalicelib.health.service import HealthReport, HealthService, report_cache

bp = Blueprint(__name__)

# Intermediaries must not keep a health answer: its value is being current.
NO_STORE = {"Cache-Control": "no-store"}


def health_service() -> HealthService:
    return HealthService(get_settings(), get_clients())


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


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="health_probe")
def health_probe(event: Any) -> dict[str, Any]:
    """Every 5 minutes: check components, record the result, emit ``ComponentsDown``.

    A CloudWatch alarm on the metric (infra/resources.yaml) tells the ops topic.
    """
    service = health_service()
    report = service.check()
    down = [c.name for c in report.components if not c.ok]
    metrics.add_metric(name="ComponentsDown", unit=MetricUnit.Count, value=len(down))
    if down:
        logger.error("components down", extra={"components": down})
    service.record(report)
    _refresh_cache(report)
    return {"ok": report.ok, "down": down}


def _refresh_cache(report: HealthReport) -> None:
    """The probe's report is the freshest this process has: /health answers from it."""
    body = report.as_dict()
    body["last_probe"] = {"checked_at": report.checked_at, "status": body["status"]}
    report_cache.put(get_clients(), body)
