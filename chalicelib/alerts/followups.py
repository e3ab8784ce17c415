"""Repeating, escalating and acknowledging an alert (提醒、升级、确认).

An alert that needs an ack is ``awaiting_ack`` once published. While nobody acknowledges it, the
``alert_dispatch`` schedule repeats it to its group and escalates it to the groups of each
escalation step as the plan's policy falls due (:mod:`chalicelib.alerts.policy`); each repeat and
escalation is a message of its own, keyed by the alert's event, so a run repeated by accident
sends nothing twice. Acknowledging the alert, or every alert of an incident, stops both: a
group acknowledges its own alerts, the 指挥部 any group's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.alerts.models import Kind, Status
from chalicelib.alerts.policy import progress
from chalicelib.alerts.sending import Sender
from chalicelib.alerts.store import OutboxStore, PlanCache
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import ForbiddenError, NotFoundError


class FollowUps:
    def __init__(
        self,
        *,
        outbox: OutboxStore,
        plans: PlanCache,
        sender: Sender,
        time_scale: float,
        clock: Clock = utcnow,
    ) -> None:
        self._outbox = outbox
        self._plans = plans
        self._sender = sender
        self._time_scale = time_scale
        self._clock = clock

    def follow_up(self, root: Mapping[str, Any], now: datetime) -> int:
        """Send the repeats and escalations of an unacknowledged alert that are due ``now``;
        returns how many messages that made."""
        plan = self._plans.current()
        policy = plan.escalation
        sent_at = datetime.fromisoformat(str(root["sent_at"]))
        repeats, step = int(root.get("repeats", 0)), int(root.get("escalation_step", 0))
        new_repeats, new_step = progress(policy, root, now - sent_at, self._time_scale)
        steps = policy.get("steps", [])

        def child(kind: Kind, event: str, group: str, subject: str, body: str) -> dict[str, Any]:
            return self._sender.message(
                plan,
                now,
                kind=kind,
                incident=str(root["incident_id"]),
                event=event,
                level=str(root["level"]),
                group=group,
                drill=bool(root.get("drill")),
                sms=str(root["sms"]),
                email_subject=subject[:99],
                email_body=body,
                root=str(root["pk"]),
            )

        children = []
        if new_repeats > repeats:
            children.append(
                child(
                    Kind.REPEAT,
                    f"{root['event']}#r{new_repeats}",
                    str(root["group"]),
                    f"[第{new_repeats}次提醒] {root['email_subject']}",
                    str(root["email_body"]),
                )
            )
        for k in range(step, new_step):
            minutes = steps[k]["after_minutes"]
            source = plan.group(str(root["group"])) or {}
            note = f"升级：{source.get('name', root['group'])}在 {minutes} 分钟内未确认以下告警。"
            for target in steps[k]["notify"]:
                children.append(
                    child(
                        Kind.ESCALATION,
                        f"{root['event']}#e{k + 1}",
                        str(target),
                        f"[升级] {root['email_subject']}",
                        f"{note}\n\n{root['email_body']}",
                    )
                )
        self._sender.create_and_publish(plan, children, now)
        progressed = {**root, "repeats": new_repeats, "escalation_step": new_step}
        follow = self._sender.next_follow_up(progressed, sent_at)
        changes: dict[str, Any] = {"repeats": new_repeats, "escalation_step": new_step}
        if follow is None:
            changes["status"] = Status.EXPIRED.value
        else:
            changes["next_attempt_at"] = iso(follow)
        self._outbox.advance_follow_up(
            str(root["pk"]), seen={"repeats": repeats, "escalation_step": step}, changes=changes
        )
        return len(children)

    def acknowledge(self, message_id: str, by: str, *, group: str | None) -> list[str]:
        """Acknowledge the alert a message belongs to (its repeats and escalations included).

        ``group`` is the group the caller acts for: only that group's alerts (403 otherwise);
        None is every group, the 指挥部's scope. There is no default: every caller says whom it
        acts for.
        """
        item = self._outbox.get(message_id)
        if item is None:
            raise NotFoundError(f"no outbox message {message_id}")
        root_id = str(item.get("root") or message_id)
        root = item if root_id == message_id else self._outbox.get(root_id) or item
        if group is not None and root["group"] != group:
            raise ForbiddenError(f"this alert is for group {root['group']}, not {group}")
        done = self._outbox.acknowledge(root_id, by=by, at=iso(self._clock()))
        return [root_id] if done is not None else []

    def acknowledge_incident(self, incident_key: str, by: str, *, group: str | None) -> list[str]:
        """Acknowledge the incident's open alerts for ``group`` (None: every group's, the
        指挥部's scope); other groups' alerts are left to them."""
        acked = []
        for item in self._outbox.by_incident(incident_key):
            if item.get("kind") != Kind.ALERT.value or not item.get("requires_ack"):
                continue
            if item["status"] not in (Status.PENDING.value, Status.AWAITING_ACK.value):
                continue
            if group is not None and item["group"] != group:
                continue
            if self._outbox.acknowledge(str(item["pk"]), by=by, at=iso(self._clock())):
                acked.append(str(item["pk"]))
        return acked
