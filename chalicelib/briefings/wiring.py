"""Building the briefing services from settings and clients: their composition in one place."""

from __future__ import annotations

from chalicelib.alerts.store import OutboxStore
from chalicelib.alerts.wiring import alert_service
from chalicelib.briefings.periodic_service import PeriodicBriefings
from chalicelib.briefings.periods import KINDS
from chalicelib.briefings.service import BriefingService, EvaluationReports
from chalicelib.briefings.store import PK, BriefingStore
from chalicelib.clusters.store import ClusterStore
from chalicelib.core.aws import get_clients
from chalicelib.core.settings import get_settings
from chalicelib.drills.store import DrillStore
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.store import PlanStore
from chalicelib.sources.store import SourceStore
from chalicelib.trends.store import TrendStore


def briefing_service(*, with_mail: bool = False) -> BriefingService:
    settings, clients = get_settings(), get_clients()
    trends = clients.table(settings.tables.trends)
    return BriefingService(
        store=BriefingStore(trends),
        trends=TrendStore(trends),
        clusters=ClusterStore(clients.table(settings.tables.clusters)),
        incidents=IncidentStore(clients.table(settings.tables.incidents)),
        sources=SourceStore(clients.table(settings.tables.sources)),
        plans=PlanStore(clients.table(settings.tables.plan)),
        notifier=alert_service() if with_mail else None,
        public_url=settings.public_url,
    )


def periodic_briefings(*, with_mail: bool = False) -> PeriodicBriefings:
    """舆情周报 and 月报, stored beside the daily briefings under their own partitions."""
    settings, clients = get_settings(), get_clients()
    trends = clients.table(settings.tables.trends)
    incidents = clients.table(settings.tables.incidents)
    return PeriodicBriefings(
        stores={kind: BriefingStore(trends, pk=f"{PK}#{kind}", key="key") for kind in KINDS},
        trends=TrendStore(trends),
        clusters=ClusterStore(clients.table(settings.tables.clusters)),
        incidents=IncidentStore(incidents),
        drills=DrillStore(incidents),
        sources=SourceStore(clients.table(settings.tables.sources)),
        plans=PlanStore(clients.table(settings.tables.plan)),
        notifier=alert_service() if with_mail else None,
        public_url=settings.public_url,
    )


def evaluation_reports() -> EvaluationReports:
    settings, clients = get_settings(), get_clients()
    return EvaluationReports(
        IncidentStore(clients.table(settings.tables.incidents)),
        OutboxStore(clients.table(settings.tables.outbox)),
        ClusterStore(clients.table(settings.tables.clusters)),
        TrendStore(clients.table(settings.tables.trends)),
        settings.time_scale,
        plans=PlanStore(clients.table(settings.tables.plan)),
    )
