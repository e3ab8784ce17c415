"""Building the drill service from settings and clients: its composition in one place."""

from __future__ import annotations

from chalicelib.alerts.store import OutboxStore
from chalicelib.core.aws import get_clients
from chalicelib.core.settings import get_settings
from chalicelib.drills.service import DrillService, PipelineInjector
from chalicelib.drills.store import DrillStore
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.service import subject_ids
from chalicelib.plan.store import PlanStore
from chalicelib.posts.store import PostStore
from chalicelib.reports.wiring import report_service
from chalicelib.sources.wiring import build_sink


def plan_subjects() -> set[str]:
    return subject_ids(PlanStore(get_clients().table(get_settings().tables.plan)))


def drill_service() -> DrillService:
    settings, clients = get_settings(), get_clients()
    incidents = IncidentStore(clients.table(settings.tables.incidents))
    injector = PipelineInjector(
        report_service(),
        build_sink(settings, clients),
        PostStore(clients.table(settings.tables.posts)),
        incidents,
        plan_subjects,
    )
    return DrillService(
        DrillStore(clients.table(settings.tables.incidents)),
        injector,
        incidents,
        OutboxStore(clients.table(settings.tables.outbox)),
        settings.time_scale,
    )
