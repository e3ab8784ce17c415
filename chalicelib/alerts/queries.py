"""Reading the outbox (发送记录): ``GET /outbox`` and the backlog.

A message is shown with the recipients its plan version names (contacts masked), and, when
asked for ``live``, the subscriptions SNS holds that match it — the two differ while an e-mail
subscription waits for its confirmation, or when a plan's reconciliation failed.
"""

from __future__ import annotations

from typing import Any

from chalicelib.alerts.models import Backlog, Status, policy_matches
from chalicelib.alerts.sending import outbox_attributes, recipients
from chalicelib.alerts.store import OutboxStore, PlanCache
from chalicelib.alerts.topics import SnsGateway
from chalicelib.core.observability import mask_contact


class OutboxQueries:
    def __init__(self, *, outbox: OutboxStore, plans: PlanCache, gateway: SnsGateway) -> None:
        self._outbox = outbox
        self._plans = plans
        self._sns = gateway

    def backlog(self) -> Backlog:
        """The messages not yet published (积压): how many, and the oldest one's time."""
        return self._outbox.backlog()

    def list_messages(
        self, *, incident: str | None, status: Status | None, limit: int, live: bool
    ) -> list[dict[str, Any]]:
        if incident:
            items = self._outbox.by_incident(incident, limit=limit)
            if status is not None:
                items = [i for i in items if i["status"] == status.value]
        elif status is not None:
            items = self._outbox.by_status(status, limit=limit)
        else:
            items = self._outbox.by_statuses(Status, limit=limit)
        items = sorted(items, key=lambda i: str(i["created_at"]), reverse=True)[:limit]
        live_cache: dict[str, list[Any]] = {}
        out = []
        for item in items:
            plan = self._plans.version(int(item.get("plan_version", 0)))
            shown = {k: v for k, v in item.items() if k != "pk"}
            shown["message_id"] = item["pk"]
            shown["recipients"] = [
                {
                    "group": c.group,
                    "member": c.member_id,
                    "name": c.name,
                    "role": c.role,
                    "channel": c.channel,
                    "contact": mask_contact(c.endpoint),
                }
                for c in (recipients(plan, item) if plan else [])
            ]
            if live:
                topic = str(item["topic"])
                if topic not in live_cache:
                    live_cache[topic] = self._sns.subscriptions(self._sns.arn(topic))
                attributes = outbox_attributes(item)
                shown["live_subscriptions"] = [
                    {"protocol": s.protocol, "endpoint": mask_contact(s.endpoint)}
                    for s in live_cache[topic]
                    if policy_matches(s.filter_policy, attributes)
                ]
            out.append(shown)
        return out
