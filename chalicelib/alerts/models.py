"""Alert requests, outbox message ids and statuses, SNS filter policies and their matching.

Pure. The filter policy a subscription carries and the attributes a message carries are both
built here, and :func:`policy_matches` evaluates one against the other the way SNS does for the
subset we use (exact strings, String and String.Array attributes) — which is how ``GET /outbox``
names the recipients of a message when the SNS emulator records none.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib.core.clock import iso, parse_instant
from chalicelib.core.errors import Problem, ValidationError
from chalicelib.plan.models import LEVELS, Contact

INCIDENT_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EVENT = re.compile(r"^[A-Za-z0-9_.:#-]{1,80}$")


class Status(StrEnum):
    """Where an outbox message is. ``by_status`` GSI: status → next_attempt_at."""

    PENDING = "pending"  # written, not yet published; next_attempt_at = when to try
    AWAITING_ACK = "awaiting_ack"  # published; next_attempt_at = next repeat or escalation
    ACKED = "acked"  # acknowledged: no more repeats or escalation
    SENT = "sent"  # published; nothing more to do (repeats, escalations, notices)
    EXPIRED = "expired"  # published; repeats and escalation exhausted without an ack

    @property
    def progress(self) -> int:
        """How far along a message is: pending → awaiting_ack → acked, sent or expired (the
        three ends exclude each other). A message read under two statuses is at the later."""
        return {Status.PENDING: 0, Status.AWAITING_ACK: 1}.get(self, 2)


class Kind(StrEnum):
    ALERT = "alert"
    REPEAT = "repeat"  # 重复提醒 while unacknowledged
    ESCALATION = "escalation"  # 升级 to the next group of the escalation policy
    NOTICE = "notice"  # informational, never acknowledged (e.g. SMS cap reached)


@dataclass(frozen=True)
class AlertRequest:
    """One alert for one incident event, to be fanned out to groups."""

    incident_key: str
    event: str
    level: str
    template_id: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    groups: Sequence[str] = ()
    email_subject: str | None = None
    email_body: str = ""
    links: Sequence[str] = ()
    drill: bool = False
    requires_ack: bool = True

    def check(self) -> None:
        problems = []
        if not INCIDENT_KEY.match(self.incident_key):
            problems.append(Problem("/incident_key", "must match [A-Za-z0-9_-]{1,64}"))
        if not EVENT.match(self.event):
            problems.append(Problem("/event", "must match [A-Za-z0-9_.:#-]{1,80}"))
        if self.level not in LEVELS:
            problems.append(Problem("/level", f"must be one of {', '.join(LEVELS)}"))
        if problems:
            raise ValidationError("invalid alert", problems)


@dataclass(frozen=True)
class Backlog:
    """Messages written to the outbox and not yet published (积压): how many, and since when.

    What ``/health``, the dashboard and the ``OldestPendingAlertAge`` metric show, so that an
    SNS outage is seen without SNS (decision 72).
    """

    pending: int = 0
    oldest_created_at: str | None = None

    @classmethod
    def of(cls, created: Sequence[str]) -> Backlog:
        return cls(len(created), min(created, key=parse_instant) if created else None)

    def oldest_age_seconds(self, now: datetime) -> float:
        """How long the oldest pending message has waited (0 without a backlog)."""
        if self.oldest_created_at is None:
            return 0.0
        return max((now - parse_instant(self.oldest_created_at)).total_seconds(), 0.0)

    def as_dict(self, now: datetime) -> dict[str, Any]:
        return {
            "pending": self.pending,
            "oldest_pending_at": self.oldest_created_at,
            "oldest_age_seconds": round(self.oldest_age_seconds(now)),
            "as_of": iso(now),
        }


def message_id(incident_key: str, event: str, level: str, group: str) -> str:
    """The dedup key (incident, event, level, group) as the outbox key: a repeat is a no-op."""
    key = "\x1f".join((incident_key, event, level, group))
    return "m" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def filter_policy(contact: Contact) -> dict[str, list[str]]:
    """The subscription filter: the member's levels, and only messages for this channel."""
    return {"level": list(contact.levels), "channel": [contact.channel]}


def message_attributes(
    *, level: str, incident: str, drill: bool, channels: Sequence[str], event: str
) -> dict[str, dict[str, str]]:
    """SNS ``MessageAttributes`` of an alert; ``channel`` lists the channels it may use."""
    return {
        "level": {"DataType": "String", "StringValue": level},
        "incident": {"DataType": "String", "StringValue": incident},
        "drill": {"DataType": "String", "StringValue": "true" if drill else "false"},
        "event": {"DataType": "String", "StringValue": event},
        "channel": {"DataType": "String.Array", "StringValue": json.dumps(list(channels))},
    }


def policy_matches(policy: Mapping[str, Any] | None, attributes: Mapping[str, Any]) -> bool:
    """SNS attribute filtering for exact-string rules: every key must match one of its values."""
    if not policy:
        return True
    for key, allowed in policy.items():
        attribute = attributes.get(key)
        if attribute is None:
            return False
        raw = attribute["StringValue"]
        values = json.loads(raw) if attribute["DataType"] == "String.Array" else [raw]
        if not any(v in allowed for v in values):
            return False
    return True
