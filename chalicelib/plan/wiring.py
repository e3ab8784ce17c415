"""Building the plan service from settings and clients: its save reconciles the alert topics."""

from __future__ import annotations

from chalicelib.alerts.wiring import alert_service
from chalicelib.core.aws import get_clients
from chalicelib.core.settings import get_settings
from chalicelib.plan.service import PlanService, scoring_rule_check
from chalicelib.plan.store import PlanStore


def plan_service() -> PlanService:
    settings = get_settings()
    alerts = alert_service(settings)
    return PlanService(
        PlanStore(get_clients().table(settings.tables.plan)),
        rule_check=scoring_rule_check(),
        after_save=alerts.reconcile_plan,
    )
