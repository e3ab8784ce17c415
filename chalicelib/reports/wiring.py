"""Building the report service from settings and clients: its composition in one place."""

from __future__ import annotations

from chalicelib.core.aws import get_clients
from chalicelib.core.settings import get_settings
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.service import subject_ids
from chalicelib.plan.store import PlanStore
from chalicelib.posts.store import PostStore
from chalicelib.reports.service import ReportService
from chalicelib.sources.wiring import build_sink
from chalicelib.workflow.wiring import incident_opener


def plan_subjects() -> set[str]:
    return subject_ids(PlanStore(get_clients().table(get_settings().tables.plan)))


def report_service() -> ReportService:
    settings, clients = get_settings(), get_clients()
    incidents = clients.table(settings.tables.incidents)
    return ReportService(
        build_sink(settings, clients),
        PostStore(clients.table(settings.tables.posts)),
        incident_opener(settings, clients),
        IncidentStore(incidents),
    )
