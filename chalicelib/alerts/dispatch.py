"""The ``alert_dispatch`` schedule (告警调度): what is due goes out, every minute.

Each run publishes the pending messages whose time has come (retries after a backoff, messages
an outage held back), repeats and escalates the unacknowledged alerts that are due, catches up
a plan reconciliation that failed on save, and reports the backlog (积压) left. The run that
finds SNS back publishes every due message, up to :data:`MAX_PUBLISH_PER_RUN`; while SNS fails,
a run costs one attempt (its first publish is the probe, :class:`chalicelib.alerts.sending.Sender`).
The backlog — how many are pending and since when — is what ``/health``, the dashboard and the
``OldestPendingAlertAge`` metric show.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.alerts.followups import FollowUps
from chalicelib.alerts.models import Status
from chalicelib.alerts.sending import Sender
from chalicelib.alerts.store import OutboxStore
from chalicelib.alerts.topics import PlanReconciliation
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import NotFoundError, YuqingError

# One dispatch run publishes at most this many messages (~4 calls each): well inside the
# function's 60 s even after an hour's backlog; the next minute's run takes the rest.
MAX_PUBLISH_PER_RUN = 500


@dataclass
class DispatchReport:
    published: int = 0
    failed: int = 0
    # Why the run stopped publishing before the end ("unavailable", "throttled": SNS failing,
    # or the outbox refusing a lease); the messages not tried stay pending and due.
    held_back: str | None = None
    follow_ups: int = 0
    reconciled: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    backlog: dict[str, Any] | None = None  # Backlog.as_dict after the run (None: unreadable)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Dispatcher:
    def __init__(
        self,
        *,
        outbox: OutboxStore,
        sender: Sender,
        follow_ups: FollowUps,
        reconciliation: PlanReconciliation,
        clock: Clock = utcnow,
    ) -> None:
        self._outbox = outbox
        self._sender = sender
        self._follow_ups = follow_ups
        self._reconciliation = reconciliation
        self._clock = clock

    def dispatch_due(self) -> DispatchReport:
        """One run: publish what is due (all of it when SNS answers, one probe when it does
        not), repeat and escalate, and say what is left (the backlog)."""
        now = self._clock()
        report = DispatchReport()
        self._sender.probe_afresh()  # every run's first attempt is the probe
        try:
            report.reconciled = self._reconciliation.catch_up()
        except YuqingError as err:
            report.errors.append(f"reconcile: {err.code}")
        try:
            self._publish_due(now, report)
        except YuqingError as err:  # the outbox unreadable: the next run tries again
            report.errors.append(f"publish: {err.code}")
        try:
            for root in self._outbox.due(Status.AWAITING_ACK, iso(now)):
                try:
                    report.follow_ups += self._follow_ups.follow_up(root, now)
                except YuqingError as err:
                    report.errors.append(f"follow-up {root['pk']}: {err.code}")
        except YuqingError as err:
            report.errors.append(f"follow-ups: {err.code}")
        try:
            report.backlog = self._outbox.backlog().as_dict(now)
        except YuqingError as err:
            report.errors.append(f"backlog: {err.code}")
        return report

    def _publish_due(self, now: datetime, report: DispatchReport) -> None:
        for tried, item in enumerate(self._outbox.due(Status.PENDING, iso(now))):
            if tried >= MAX_PUBLISH_PER_RUN:
                report.held_back = "run limit"
                return
            try:
                outcome = self._sender.publish(item, now)
            except YuqingError as err:  # the outbox refused the lease or a mark: next run
                report.held_back = err.code
                return
            if outcome == "deferred":  # SNS failed just before: the rest wait for the next run
                report.held_back = self._sender.outage
                return
            report.published += outcome == "published"
            report.failed += outcome == "failed"

    def retry_now(self, message_id: str) -> str:
        """Publish one pending message now (tests, operators); "published"/"failed"/"skipped"."""
        item = self._outbox.get(message_id)
        if item is None:
            raise NotFoundError(f"no outbox message {message_id}")
        return self._sender.publish(item, self._clock())
