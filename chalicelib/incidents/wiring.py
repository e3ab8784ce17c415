"""Building the incident services from settings and clients: their composition in one place."""

from __future__ import annotations

from chalicelib.alerts.wiring import alert_service
from chalicelib.core.aws import get_clients
from chalicelib.core.settings import get_settings
from chalicelib.incidents.actions import IncidentActions
from chalicelib.incidents.evidence import EvidenceService
from chalicelib.incidents.queries import IncidentQueries
from chalicelib.incidents.revisions import RevisionProposals
from chalicelib.incidents.store import IncidentStore
from chalicelib.incidents.tokens import TokenDesk
from chalicelib.plan.models import publicity_group
from chalicelib.plan.service import current_or_example
from chalicelib.plan.store import PlanStore
from chalicelib.posts.store import PostStore
from chalicelib.sources.wiring import api_fetcher, request_guard
from chalicelib.workflow.statemachine import StateMachine


def incident_store() -> IncidentStore:
    return IncidentStore(get_clients().table(get_settings().tables.incidents))


def current_publicity_group() -> str | None:
    """The current plan's publicity group (the example plan's while none is stored)."""
    plans = PlanStore(get_clients().table(get_settings().tables.plan))
    return publicity_group(current_or_example(plans))


def incident_actions() -> IncidentActions:
    store = incident_store()
    return IncidentActions(
        store,
        TokenDesk(store, StateMachine.of(get_settings(), get_clients())),
        alert_service(),
        publicity=current_publicity_group,
    )


def incident_queries() -> IncidentQueries:
    return IncidentQueries(incident_store(), StateMachine.of(get_settings(), get_clients()))


def evidence_service() -> EvidenceService:
    settings, clients = get_settings(), get_clients()
    return EvidenceService(
        incident_store(),
        PostStore(clients.table(settings.tables.posts)),
        api_fetcher(),
        request_guard(settings),
    )


def revision_proposals() -> RevisionProposals:
    return RevisionProposals(incident_store())
