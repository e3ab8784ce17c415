"""Building the plan service from settings and clients: its save reconciles the alert topics,
and a revision may answer only incidents that exist."""

from __future__ import annotations

from chalicelib.alerts.wiring import alert_service
from chalicelib.core.aws import get_clients
from chalicelib.core.settings import get_settings
from chalicelib.incidents.models import INCIDENT_ID
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.service import PlanService, scoring_rule_check
from chalicelib.plan.store import PlanStore


def plan_service() -> PlanService:
    settings = get_settings()
    alerts = alert_service(settings)
    incidents = IncidentStore(get_clients().table(settings.tables.incidents))
    return PlanService(
        PlanStore(get_clients().table(settings.tables.plan)),
        rule_check=scoring_rule_check(),
        after_save=alerts.reconcile_plan,
        incident_exists=lambda i: INCIDENT_ID.match(i) is not None and incidents.get(i) is not None,
    )
