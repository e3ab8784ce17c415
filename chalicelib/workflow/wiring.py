"""Adapters that connect the workflow's seams to the rest of the system.

The workflow's service depends on three small protocols (plan, alerts, cluster levels); this
module is the one place that knows which concrete services fill them, so the step logic and the
service stay testable with fakes and free of the other packages' details.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from chalicelib.alerts.models import AlertRequest
from chalicelib.alerts.service import AlertService
from chalicelib.alerts.wiring import alert_service
from chalicelib.clusters.store import ClusterStore
from chalicelib.core.aws import AwsClients, get_clients
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.errors import ConfigError, YuqingError
from chalicelib.core.observability import logger
from chalicelib.core.settings import Settings, get_settings
from chalicelib.incidents.models import BEFORE_DECISION
from chalicelib.incidents.opener import IncidentOpener
from chalicelib.incidents.store import IncidentStore
from chalicelib.incidents.tokens import TokenDesk
from chalicelib.plan.defaults import default_plan
from chalicelib.plan.store import PlanStore
from chalicelib.workflow import logic
from chalicelib.workflow.service import ClusterLevels, WorkflowService
from chalicelib.workflow.statemachine import StateMachine

# The waits a rise may cut short (token kinds): the HQ's 研判 and the public-deadline timer.
INTERRUPTIBLE_WAITS = ("decision", logic.TIMER_PUBLIC)


class StoredPlans:
    """Plan versions from the plan table: an incident keeps running under the version it
    started with, even after the plan is revised."""

    def __init__(self, store: PlanStore) -> None:
        self._store = store

    def plan(self, version: int | None) -> tuple[Mapping[str, Any], int]:
        found = self._store.get(version) if version else self._store.latest()
        if found is not None:
            return found.doc, found.version
        if version:
            raise ConfigError(f"plan version {version} is not stored")
        # No plan stored yet (a new deployment): run under the example plan, as scoring does,
        # rather than failing every incident.
        return default_plan(), 0


class StoredClusters:
    """A cluster's level while it keeps growing (levels never go down; quiet means calm)."""

    def __init__(self, store: ClusterStore) -> None:
        self._store = store

    def level_of(self, cluster_id: str, since: datetime) -> str | None:
        cluster = self._store.get(cluster_id)
        if cluster is None or cluster.last_seen < since:
            return None
        return cluster.level


class AlertNotifier:
    """Workflow notices as alerts through the outbox (deduplicated per incident and key)."""

    def __init__(self, alerts: AlertService) -> None:
        self._alerts = alerts

    def notify(self, incident_id: str, notice: logic.Notify, *, drill: bool) -> None:
        self._alerts.send(
            AlertRequest(
                incident_key=incident_id,
                event=notice.key,
                level=notice.level or "IV",
                template_id=notice.template,
                variables=dict(notice.variables),
                groups=notice.groups,
                email_subject=notice.subject,
                email_body=notice.body,
                drill=drill,
                requires_ack=notice.requires_ack,
            )
        )


def rise_checker(
    settings: Settings | None = None, clients: AwsClients | None = None, clock: Clock = utcnow
) -> Callable[[Mapping[str, Any]], bool]:
    """``check(incident)``: fail, with ``LEVEL_ROSE``, each of the incident's waits that is for a
    level the incident has since outgrown (:func:`logic.wait_outdated`): the HQ's decision wait
    (the workflow restarts it at the new level's 研判 deadline, decision 57) and the
    public-deadline timer during the response (the workflow alerts the new level's groups and
    counts its deadlines, decision 58). True if it interrupted one. One check for the three
    places that may see a rise first: the incidents seam, the workflow service right after a
    wait's token is kept, and the minute sweep."""
    settings = settings or get_settings()
    clients = clients or get_clients()
    desk = TokenDesk(
        IncidentStore(clients.table(settings.tables.incidents)),
        StateMachine.of(settings, clients),
        clock,
    )

    def check(incident: Mapping[str, Any]) -> bool:
        interrupted = False
        for kind in INTERRUPTIBLE_WAITS:
            interrupted |= desk.interrupt(
                str(incident["pk"]),
                kind,
                logic.LEVEL_ROSE,
                f"level {incident.get('level')}",
                when=lambda token: logic.wait_outdated(incident, token),
            )
        return interrupted

    return check


def incident_opener(
    settings: Settings | None = None, clients: AwsClients | None = None, clock: Clock = utcnow
) -> IncidentOpener:
    """The incidents seam as the sink and reports use it: opens start the workflow, and a rise
    is handed to the running workflow (which then alerts, with the new deadlines), or, before
    the HQ's decision with no wait to restart yet, pages the HQ at once."""
    settings = settings or get_settings()
    clients = clients or get_clients()
    notifier = AlertNotifier(alert_service(settings, clients, clock))
    restart_waits = rise_checker(settings, clients, clock)

    def on_rise(meta: Mapping[str, Any], before: str | None) -> None:
        try:
            if restart_waits(meta):
                return  # triage_rise / next_deadline alert, with the new deadlines
        except YuqingError as err:
            logger.warning(
                "wait not restarted; the sweep will retry",
                extra={"incident_id": meta.get("pk"), "error": err.code},
            )
        if meta.get("status") in BEFORE_DECISION:
            notice = logic.rise_before_decision(meta, before)
            notifier.notify(str(meta["pk"]), notice, drill=bool(meta.get("drill")))

    return IncidentOpener(
        IncidentStore(clients.table(settings.tables.incidents)),
        StateMachine.of(settings, clients).start,
        clock,
        on_rise=on_rise,
    )


def workflow_service(
    settings: Settings | None = None,
    clients: AwsClients | None = None,
    clusters: ClusterLevels | None = None,
    clock: Clock = utcnow,
) -> WorkflowService:
    settings = settings or get_settings()
    clients = clients or get_clients()
    return WorkflowService(
        settings,
        clients,
        plans=StoredPlans(PlanStore(clients.table(settings.tables.plan))),
        notifier=AlertNotifier(alert_service(settings, clients, clock)),
        clusters=clusters or StoredClusters(ClusterStore(clients.table(settings.tables.clusters))),
        clock=clock,
        after_wait=rise_checker(settings, clients, clock),
    )
