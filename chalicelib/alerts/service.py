"""The alert service (告警服务): the one object the other domains hold to send and acknowledge.

Each use case lives in its own module — sending (:mod:`~chalicelib.alerts.sending`), repeats,
escalation and acknowledgement (:mod:`~chalicelib.alerts.followups`), the schedule
(:mod:`~chalicelib.alerts.dispatch`), reconciliation with the plan
(:class:`~chalicelib.alerts.topics.PlanReconciliation`) and reading
(:mod:`~chalicelib.alerts.queries`). This class builds them over one outbox, one plan cache and
one SNS gateway, so a request or a workflow step shares one outage state and reads each plan
version once, and the callers keep one name for all of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chalicelib.alerts.dispatch import Dispatcher, DispatchReport
from chalicelib.alerts.followups import FollowUps
from chalicelib.alerts.models import AlertRequest, Backlog, Status
from chalicelib.alerts.queries import OutboxQueries
from chalicelib.alerts.sending import Sender
from chalicelib.alerts.store import OutboxStore, PlanCache, SmsCounter, SystemMarks
from chalicelib.alerts.topics import PlanReconciliation, Reconciler, SnsGateway
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.settings import Settings
from chalicelib.plan.models import PlanView
from chalicelib.plan.store import PlanStore


class AlertService:
    def __init__(
        self,
        settings: Settings,
        *,
        outbox: OutboxStore,
        plans: PlanStore,
        gateway: SnsGateway,
        counter: SmsCounter,
        marks: SystemMarks,
        clock: Clock = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.outbox = outbox
        self._counter = counter
        cache = PlanCache(plans)
        self._sender = Sender(
            settings,
            outbox=outbox,
            plans=cache,
            gateway=gateway,
            counter=counter,
            clock=clock,
            sleep=sleep,
        )
        self._follow_ups = FollowUps(
            outbox=outbox,
            plans=cache,
            sender=self._sender,
            time_scale=settings.time_scale,
            clock=clock,
        )
        self.reconciliation = PlanReconciliation(Reconciler(settings, gateway), cache, marks, clock)
        self._dispatcher = Dispatcher(
            outbox=outbox,
            sender=self._sender,
            follow_ups=self._follow_ups,
            reconciliation=self.reconciliation,
            clock=clock,
        )
        self._queries = OutboxQueries(outbox=outbox, plans=cache, gateway=gateway)

    # -- sending -----------------------------------------------------------------------------
    def send(self, request: AlertRequest) -> list[str]:
        """Write the alert's messages to the outbox and publish them; returns their ids."""
        return self._sender.send(request)

    def notify_hq(self, *, key: str, event: str, subject: str, body: str) -> str | None:
        """E-mail the 指挥部 once per (key, event); None if it was already sent."""
        return self._sender.notify_hq(key=key, event=event, subject=subject, body=body)

    # -- acknowledgement ---------------------------------------------------------------------
    def acknowledge(self, message_id: str, by: str, *, group: str | None) -> list[str]:
        """Acknowledge the alert a message belongs to, for ``group`` (None: the 指挥部)."""
        return self._follow_ups.acknowledge(message_id, by, group=group)

    def acknowledge_incident(self, incident_key: str, by: str, *, group: str | None) -> list[str]:
        """Acknowledge the incident's open alerts for ``group`` (None: every group's)."""
        return self._follow_ups.acknowledge_incident(incident_key, by, group=group)

    # -- the schedule ------------------------------------------------------------------------
    def dispatch_due(self) -> DispatchReport:
        """The ``alert_dispatch`` schedule's run."""
        return self._dispatcher.dispatch_due()

    def retry_now(self, message_id: str) -> str:
        """Publish one pending message now (tests, operators)."""
        return self._dispatcher.retry_now(message_id)

    # -- reconciliation ----------------------------------------------------------------------
    def reconcile_plan(self, plan: PlanView, previous: PlanView | None) -> dict[str, Any]:
        """``PlanService.after_save``: reconcile now; on failure the schedule catches up."""
        return self.reconciliation.reconcile_plan(plan, previous)

    # -- reading -----------------------------------------------------------------------------
    def backlog(self) -> Backlog:
        """The messages not yet published (积压): how many, and the oldest one's time."""
        return self._queries.backlog()

    def list_messages(
        self, *, incident: str | None, status: Status | None, limit: int, live: bool
    ) -> list[dict[str, Any]]:
        return self._queries.list_messages(incident=incident, status=status, limit=limit, live=live)
