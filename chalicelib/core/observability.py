"""The single Powertools Logger, Metrics and Tracer of the application.

One instance each, shared by every handler, so log keys, metric dimensions and traces stay
consistent. Phone numbers and e-mail addresses must never reach the logs unmasked: log
through :func:`mask_contact` when a contact is involved.

Metric names that alarms in ``infra/resources.yaml`` watch are constants here, beside the one
function that emits each, so the template and the code cannot drift apart unnoticed.
"""

from __future__ import annotations

import re

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "yuqing"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Yuqing", service=SERVICE)
tracer = Tracer(service=SERVICE)

# Emitted by the alert_dispatch schedule every minute; AlertBacklogAlarm watches the age.
PENDING_ALERTS = "PendingAlerts"
OLDEST_PENDING_ALERT_AGE = "OldestPendingAlertAge"


def record_alert_backlog(pending: int, oldest_age_seconds: float) -> None:
    """How many alerts wait in the outbox unpublished, and how long the oldest has waited."""
    metrics.add_metric(name=PENDING_ALERTS, unit=MetricUnit.Count, value=pending)
    metrics.add_metric(
        name=OLDEST_PENDING_ALERT_AGE, unit=MetricUnit.Seconds, value=round(oldest_age_seconds)
    )


_PHONE = re.compile(r"\+?\d[\d -]{6,}\d")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")


def mask_contact(text: str) -> str:
    """Mask phone numbers (keep the last 4 digits) and e-mail local parts in ``text``."""

    def _phone(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return "*" * max(len(digits) - 4, 0) + digits[-4:]

    return _PHONE.sub(_phone, _EMAIL.sub(r"\1***@\2", text))
