"""What a workflow step asks for (效果): timeline entries, alerts, tokens to keep, task and incident
updates, and the context a step decides from. Pure data; :mod:`chalicelib.workflow.service` carries
the effects out, each keyed by the logical event so a retried Lambda repeats nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Record:
    """A timeline entry (信息共享); ``key`` makes it once-only."""

    key: str
    step: str
    title: str
    note: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notify:
    """An alert through the alert service; ``key`` (with the incident) deduplicates it."""

    key: str
    groups: tuple[str, ...]
    level: str | None
    template: str
    variables: Mapping[str, str]
    subject: str
    body: str
    # True: the alert service repeats and escalates it along the plan's policy until the
    # group acknowledges it (the API acknowledges when the group acts).
    requires_ack: bool = False


@dataclass(frozen=True)
class KeepToken:
    """Store a task token the API will answer.

    ``kind``: ``decision``, ``ack#<task>``, ``done#<task>`` or ``close``.
    """

    kind: str
    token: str
    deadline_at: str
    group: str | None = None
    # The level the wait's deadline was set for, and whether a rise above it may interrupt the
    # wait (the first 研判 wait of an execution that knows ``TriageRise``): see wait_outdated.
    level: str | None = None
    interruptible: bool = False


@dataclass(frozen=True)
class ExpireToken:
    """A wait that is over without an answer: the token may no longer be answered."""

    kind: str


@dataclass(frozen=True)
class UpdateIncident:
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class PutTask:
    task_id: str
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class UpdateTask:
    task_id: str
    changes: Mapping[str, Any]


Effect = Record | Notify | KeepToken | ExpireToken | UpdateIncident | PutTask | UpdateTask


@dataclass(frozen=True)
class StepContext:
    step: str
    state: Mapping[str, Any]
    execution: str
    now: datetime
    time_scale: float
    plan: Mapping[str, Any]
    plan_version: int
    incident: Mapping[str, Any]
    tasks: Sequence[Mapping[str, Any]] = ()
    statements: Sequence[Mapping[str, Any]] = ()
    cluster_level: str | None = None
    token: str | None = None


@dataclass
class Outcome:
    state: dict[str, Any]
    effects: list[Effect] = field(default_factory=list)
