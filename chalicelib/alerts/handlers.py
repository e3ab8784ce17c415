"""The alerts' schedule (告警调度).

``alert_dispatch`` every minute: publish due messages, repeat, escalate, catch up a failed
reconciliation, and emit the backlog (``PendingAlerts``, ``OldestPendingAlertAge``).
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate

from chalicelib.alerts.wiring import alert_service
from chalicelib.core.observability import record_alert_backlog

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="alert_dispatch")
def alert_dispatch(event: Any) -> dict[str, Any]:
    """Every minute: retries with backoff, repeats, escalation, reconciliation catch-up; then
    the backlog as metrics (``AlertBacklogAlarm``; none when the outbox could not be read, which
    the alarm counts as breaching)."""
    report = alert_service().dispatch_due()
    if report.backlog is not None:
        record_alert_backlog(report.backlog["pending"], report.backlog["oldest_age_seconds"])
    return report.as_dict()
