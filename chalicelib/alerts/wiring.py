"""Building the alert service from settings and clients: its composition in one place."""

from __future__ import annotations

from chalicelib.alerts.service import AlertService
from chalicelib.alerts.store import OutboxStore, SmsCounter, SystemMarks
from chalicelib.alerts.topics import SnsGateway
from chalicelib.core.aws import AwsClients, get_clients
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.settings import Settings, get_settings
from chalicelib.plan.store import PlanStore


def alert_service(
    settings: Settings | None = None, clients: AwsClients | None = None, clock: Clock = utcnow
) -> AlertService:
    settings = settings or get_settings()
    clients = clients or get_clients()
    system = clients.table(settings.tables.system)
    return AlertService(
        settings,
        outbox=OutboxStore(clients.table(settings.tables.outbox)),
        plans=PlanStore(clients.table(settings.tables.plan)),
        gateway=SnsGateway.of(clients),
        counter=SmsCounter(system),
        marks=SystemMarks(system),
        clock=clock,
    )
