"""``GET /health`` (no auth) and the scheduled health probe."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Blueprint, Rate, Response

from chalicelib.core.aws import get_clients
from chalicelib.core.http import api, json_response
from chalicelib.core.observability import logger, metrics
from chalicelib.core.settings import get_settings
from chalicelib.health.service import HealthService

bp = Blueprint(__name__)


def health_service() -> HealthService:
    return HealthService(get_settings(), get_clients())


@bp.route("/health", methods=["GET"])
@api
def health() -> Response:
    """200 when every component answers, 503 naming the ones that do not.

    Also says when the scheduled probe last ran (``last_probe``), so a stalled schedule shows.
    """
    service = health_service()
    report = service.check()
    body = report.as_dict()
    if report.ok:
        last = service.last_recorded()
        body["last_probe"] = (
            {"checked_at": last["checked_at"], "status": last["status"]} if last else None
        )
    return json_response(body, status=200 if report.ok else 503)


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
    return {"ok": report.ok, "down": down}
