"""Component checks behind ``GET /health`` and the scheduled health probe (技术保障).

Each component is asked one cheap read-only question; checks run concurrently so the route
answers within one round trip even with a dozen components. The alert backlog is part of the
answer: an alert that has waited in the outbox more than ``BACKLOG_STALE`` says that people are
not being told — the one failure whose alarm (through SNS) may not arrive (decision 72).

A check costs about 17 AWS calls, most of them control-plane reads with low rate limits, and
``/health`` may be called by anyone: :class:`ReportCache` keeps one report per process for
``CACHE_SECONDS``, so a flood of calls costs one check per half minute (decision 73).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from chalicelib.alerts.models import Backlog
from chalicelib.alerts.store import OutboxStore
from chalicelib.alerts.topics import SnsGateway
from chalicelib.core.aws import AwsClients
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import YuqingError, aws_errors
from chalicelib.core.settings import Settings
from chalicelib.health.store import ProbeStore
from chalicelib.workflow.statemachine import StateMachine

# An alert pending longer than this is not a retry in progress (those wait at most 2 minutes,
# plus a minute for the schedule): the alerts are not getting out.
BACKLOG_STALE = timedelta(minutes=5)
CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    kind: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class HealthReport:
    stage: str
    checked_at: str
    components: list[ComponentStatus]
    # The outbox's backlog (Backlog.as_dict) with ``ok``; or ``{"ok": False, "error": code}``.
    alerts: dict[str, Any] = field(default_factory=lambda: {"ok": True})

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.components) and bool(self.alerts.get("ok"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "degraded",
            "stage": self.stage,
            "checked_at": self.checked_at,
            "components": [asdict(c) for c in self.components],
            "alerts": dict(self.alerts),
        }


class HealthService:
    """Asks each deployed component whether it answers, and the outbox what it still holds."""

    def __init__(
        self,
        settings: Settings,
        clients: AwsClients,
        backlog: Callable[[], Backlog] | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._settings = settings
        self._clients = clients
        self._backlog = backlog or OutboxStore(clients.table(settings.tables.outbox)).backlog
        self._probes = ProbeStore(clients.table(settings.tables.system))
        self._clock = clock

    def _checks(self) -> list[tuple[str, str, Callable[[], str]]]:
        s = self._settings
        checks: list[tuple[str, str, Callable[[], str]]] = []
        for name in s.tables.all():
            checks.append(("table", name, functools.partial(self._table, name)))
        for name in (s.crawl_queue, s.crawl_dlq):
            checks.append(("queue", name, functools.partial(self._queue, name)))
        for name in (s.hq_topic, s.ops_topic):
            checks.append(("topic", name, functools.partial(self._topic, name)))
        checks.append(("state_machine", s.state_machine, self._state_machine))
        return checks

    def _table(self, name: str) -> str:
        table = self._clients.client("dynamodb").describe_table(TableName=name)["Table"]
        return str(table["TableStatus"])

    def _queue(self, name: str) -> str:
        attributes = self._clients.client("sqs").get_queue_attributes(
            QueueUrl=self._clients.queue_url(name),
            AttributeNames=["ApproximateNumberOfMessages"],
        )["Attributes"]
        return f"{attributes['ApproximateNumberOfMessages']} messages"

    def _topic(self, name: str) -> str:
        gateway = SnsGateway.of(self._clients)
        return f"{gateway.confirmed_subscriptions(gateway.arn(name))} subscriptions"

    def _state_machine(self) -> str:
        return StateMachine.of(self._settings, self._clients).status()

    @staticmethod
    def _run(kind: str, name: str, check: Callable[[], str]) -> ComponentStatus:
        try:
            with aws_errors(f"{kind} {name}"):
                detail = check()
        except YuqingError as err:
            return ComponentStatus(name, kind, False, err.message)
        return ComponentStatus(name, kind, True, detail)

    def _alerts(self) -> dict[str, Any]:
        try:
            backlog = self._backlog()
        except YuqingError as err:
            return {"ok": False, "error": err.code}
        now = self._clock()
        stale = backlog.oldest_age_seconds(now) > BACKLOG_STALE.total_seconds()
        return {
            "ok": not stale,
            **backlog.as_dict(now),
            "stale_after_seconds": int(BACKLOG_STALE.total_seconds()),
        }

    def check(self) -> HealthReport:
        checks = self._checks()
        with ThreadPoolExecutor(max_workers=8) as pool:
            backlog = pool.submit(self._alerts)
            results = list(pool.map(lambda t: self._run(*t), checks))
            alerts = backlog.result()
        return HealthReport(self._settings.stage, iso(self._clock()), results, alerts)

    def answer(self) -> dict[str, Any]:
        """What ``/health`` shows: the report and when the scheduled probe last ran (read only
        when the system table answers)."""
        report = self.check()
        body = report.as_dict()
        system_ok = all(c.ok for c in report.components if c.name == self._settings.tables.system)
        last = self.last_recorded() if system_ok else None
        body["last_probe"] = (
            {"checked_at": last["checked_at"], "status": last["status"]} if last else None
        )
        return body

    def record(self, report: HealthReport) -> None:
        """Keep the latest probe result for /health to report."""
        self._probes.put(report.as_dict())

    def last_recorded(self) -> dict[str, Any] | None:
        return self._probes.latest()


class ReportCache:
    """The last ``/health`` answer of this process, for ``ttl`` seconds.

    Keyed by the :class:`AwsClients` it was computed with, so that a process that swaps its
    clients (tests, local mode restarting) never serves another deployment's answer. One check
    at a time: callers arriving during a check wait for it instead of starting their own.
    """

    def __init__(
        self, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._entry: tuple[object, float, dict[str, Any]] | None = None

    def get(self, key: object, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            if self._entry is not None:
                owner, at, body = self._entry
                if owner is key and self.clock() - at < self.ttl:
                    return body
            body = compute()
            self._entry = (key, self.clock(), body)
            return body

    def put(self, key: object, body: dict[str, Any]) -> None:
        """A fresher answer computed elsewhere (the probe) replaces the cached one."""
        with self._lock:
            self._entry = (key, self.clock(), body)


# The process's cache: /health answers from it, the health probe refreshes it.
report_cache = ReportCache()
