"""Component checks behind ``GET /health`` and the scheduled health probe (技术保障).

Each component is asked one cheap read-only question; checks run concurrently so the route
answers within one round trip even with a dozen components.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import YuqingError, aws_errors
from chalicelib.core.settings import Settings


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

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.components)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "degraded",
            "stage": self.stage,
            "checked_at": self.checked_at,
            "components": [asdict(c) for c in self.components],
        }


class HealthService:
    """Asks each deployed component whether it answers."""

    def __init__(self, settings: Settings, clients: AwsClients) -> None:
        self._settings = settings
        self._clients = clients

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
        attributes = self._clients.client("sns").get_topic_attributes(
            TopicArn=self._clients.topic_arn(name)
        )["Attributes"]
        return f"{attributes.get('SubscriptionsConfirmed', '0')} subscriptions"

    def _state_machine(self) -> str:
        machine = self._clients.client("stepfunctions").describe_state_machine(
            stateMachineArn=self._clients.state_machine_arn(self._settings.state_machine)
        )
        return str(machine["status"])

    @staticmethod
    def _run(kind: str, name: str, check: Callable[[], str]) -> ComponentStatus:
        try:
            with aws_errors(f"{kind} {name}"):
                detail = check()
        except YuqingError as err:
            return ComponentStatus(name, kind, False, err.message)
        return ComponentStatus(name, kind, True, detail)

    def check(self) -> HealthReport:
        checks = self._checks()
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda t: self._run(*t), checks))
        return HealthReport(self._settings.stage, datetime.now(UTC).isoformat(), results)

    def record(self, report: HealthReport) -> None:
        """Keep the latest probe result (system table, ``pk=health``) for /health to report."""
        item = {"pk": "health", **report.as_dict()}
        with aws_errors("system table"):
            self._clients.table(self._settings.tables.system).put_item(Item=item)

    def last_recorded(self) -> dict[str, Any] | None:
        with aws_errors("system table"):
            item = self._clients.table(self._settings.tables.system).get_item(Key={"pk": "health"})
        found: dict[str, Any] | None = item.get("Item")
        return found
