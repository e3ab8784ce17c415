"""The health probe (巡检): every 5 minutes, check the components, record, and emit a metric."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Blueprint, Rate

from chalicelib.core.aws import get_clients
from chalicelib.core.observability import logger, metrics
from chalicelib.health.service import HealthReport, report_cache
from chalicelib.health.wiring import health_service

bp = Blueprint(__name__)


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
