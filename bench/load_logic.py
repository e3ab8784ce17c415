"""The pure parts of ``bench.load``: what the dashboard polls and when, route families and their
percentiles, and the accounting of the HQ's alerts (lost, duplicated, latency) from the outbox.

Kept apart from ``bench/load.py`` because importing locust monkey-patches the process with
gevent: the unit tests import this module, never locust.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bench.local_startup import percentile

HQ_GROUP = "hq"
# The HQ's first page about an incident (workflow step ``report``, 报告指挥部). A rise before
# the 研判 pages again as ``reported#<level>``: a new message on purpose, not a duplicate.
REPORTED = "reported"

# Path segments after these collection names are ids: ``/incidents/c-k12`` and
# ``/incidents/c-k34`` are one route family, ``/incidents/{id}``.
_ID_AFTER = frozenset({"incidents", "tasks", "statements", "drills", "sources", "versions"})


def loopback_only(url: str) -> str:
    """``url`` if its host is a loopback address (127.0.0.0/8, ::1, localhost); else ValueError.

    A load run sends traffic only to this machine."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return url
    try:
        if ipaddress.ip_address(host).is_loopback:
            return url
    except ValueError:
        pass
    raise ValueError(f"refusing to send load to {url!r}: only loopback hosts are allowed")


def route_family(method: str, path: str) -> str:
    """``GET /incidents/{id}`` for ``GET /incidents/c-k12?x=1``: the query is dropped and ids
    become ``{id}``, so one route's calls are counted together."""
    parts = [p for p in urlsplit(path).path.split("/") if p]
    named = ["{id}" if i and parts[i - 1] in _ID_AFTER else part for i, part in enumerate(parts)]
    return f"{method.upper()} /" + "/".join(named)


@dataclass(frozen=True)
class RequestRecord:
    """One API call as the load generator saw it (status 0: no answer, e.g. refused)."""

    family: str
    seconds: float
    status: int


@dataclass(frozen=True)
class RouteFigures:
    family: str
    count: int
    p50: float
    p95: float
    max: float
    server_errors: int  # 5xx
    no_answer: int  # status 0: the connection failed or timed out
    client_errors: int  # 4xx (409 while an Idempotency-Key's first request is running)


def route_figures(records: Iterable[RequestRecord]) -> list[RouteFigures]:
    """Per route family, in order of call count (most first), then name."""
    by_family: dict[str, list[RequestRecord]] = defaultdict(list)
    for record in records:
        by_family[record.family].append(record)
    figures = []
    for family, calls in by_family.items():
        seconds = [c.seconds for c in calls]
        figures.append(
            RouteFigures(
                family=family,
                count=len(calls),
                p50=percentile(seconds, 0.5),
                p95=percentile(seconds, 0.95),
                max=max(seconds),
                server_errors=sum(1 for c in calls if c.status >= 500),
                no_answer=sum(1 for c in calls if c.status == 0),
                client_errors=sum(1 for c in calls if 400 <= c.status < 500),
            )
        )
    return sorted(figures, key=lambda f: (-f.count, f.family))


class Polls:
    """What one dashboard page polls and when: each path every so many seconds, the first time
    at once (as the page loads), like its ``setInterval`` timers."""

    def __init__(self, every: Mapping[str, float], start: float) -> None:
        self._every = dict(every)
        self._next = {path: start for path in every}

    def due(self, now: float) -> list[str]:
        """The paths due at ``now`` (each then scheduled one period on from when it was due)."""
        ready = [path for path, at in self._next.items() if at <= now]
        for path in ready:
            # On from the planned time, as setInterval goes; ticks missed while late are
            # skipped, not piled up.
            while self._next[path] <= now:
                self._next[path] += self._every[path]
        return ready

    def wait(self, now: float) -> float:
        """Seconds until the next poll is due (0 if one is due now)."""
        return max(0.0, min(self._next.values()) - now)


@dataclass(frozen=True)
class Accepted:
    """A report the API accepted (201): its ids, whether it opened its incident, and when the
    request that made it started (epoch seconds, this machine's clock)."""

    report_id: str
    incident_id: str
    opened: bool
    started: float


@dataclass(frozen=True)
class Resend:
    """A report sent again with the same Idempotency-Key: both answers (None: no 201)."""

    first: Mapping[str, Any] | None
    again: Mapping[str, Any] | None


@dataclass(frozen=True)
class OutboxMessage:
    """The fields of an outbox item the accounting reads."""

    pk: str
    incident_id: str
    event: str
    group: str
    level: str
    kind: str
    status: str
    created: float  # epoch seconds, from ``created_at``

    @classmethod
    def from_dynamo(cls, item: Mapping[str, Mapping[str, Any]]) -> OutboxMessage:
        """From a low-level DynamoDB item (``{"pk": {"S": …}, …}``)."""

        def text(name: str) -> str:
            value = item.get(name) or {}
            return str(value.get("S", ""))

        created = text("created_at")
        return cls(
            pk=text("pk"),
            incident_id=text("incident_id"),
            event=text("event"),
            group=text("group"),
            level=text("level"),
            kind=text("kind"),
            status=text("status"),
            created=datetime.fromisoformat(created).timestamp() if created else float("nan"),
        )

    @property
    def hq_reported(self) -> bool:
        return self.group == HQ_GROUP and self.event == REPORTED and self.kind == "alert"


@dataclass
class AlertAccount:
    reports: int = 0  # distinct reports accepted
    incidents: int = 0  # distinct incidents they landed in
    lost: list[str] = field(default_factory=list)  # incidents with no HQ "reported" alert
    # incident → HQ "reported" alerts beyond the first (one incident paged twice)
    duplicated: dict[str, int] = field(default_factory=dict)
    # resends with an Idempotency-Key answered with another report or incident than the first
    resend_mismatches: int = 0
    resends: int = 0
    latencies: list[float] = field(default_factory=list)  # report → HQ alert written, seconds
    unpublished: int = 0  # HQ "reported" alerts still pending (written, not yet sent)
    rises: int = 0  # HQ ``reported#<level>`` pages: a level rose before the 研判

    @property
    def duplicates(self) -> int:
        return sum(self.duplicated.values()) + self.resend_mismatches


def _same_report(resend: Resend) -> bool:
    if resend.first is None or resend.again is None:
        return True  # nothing to compare: one of the two was refused (counted with the calls)
    keys = ("report_id", "incident_id")
    return all(resend.first.get(k) == resend.again.get(k) for k in keys)


def account(
    accepted: Iterable[Accepted],
    resends: Sequence[Resend],
    outbox: Iterable[OutboxMessage],
) -> AlertAccount:
    """Lost, duplicated and latency of the HQ's first alert for every accepted report.

    - **lost**: an incident a report was accepted into with no HQ ``reported`` alert in the
      outbox (the alert service writes the outbox before publishing: an alert that is there is
      sent, or retried until it is);
    - **duplicated**: the outbox keys a message by (incident, event, level, group), so the same
      page cannot be written twice at one level; one incident with more than one HQ
      ``reported`` alert (at different levels) is a duplicate, and so is a resend with the same
      Idempotency-Key answered with another report or incident (a second incident, a second
      page, for one report);
    - **latency**: for each report that opened its incident, from the start of its request to
      the alert's ``created_at`` (a report that joined an open incident has no alert of its
      own to wait for).
    """
    reports: dict[str, Accepted] = {}
    for report in accepted:  # a replayed answer is the same report, made by the first request
        if report.report_id not in reports or report.started < reports[report.report_id].started:
            reports[report.report_id] = report
    alerts: dict[str, list[OutboxMessage]] = defaultdict(list)
    rises = 0
    for message in outbox:
        if message.hq_reported:
            alerts[message.incident_id].append(message)
        elif message.group == HQ_GROUP and message.event.startswith(REPORTED + "#"):
            rises += 1
    incidents = {a.incident_id for a in reports.values()}
    result = AlertAccount(reports=len(reports), incidents=len(incidents), rises=rises)
    result.lost = sorted(i for i in incidents if not alerts.get(i))
    result.duplicated = {
        i: len(found) - 1
        for i, found in sorted(alerts.items())
        if i in incidents and len(found) > 1
    }
    result.resends = len(resends)
    result.resend_mismatches = sum(1 for r in resends if not _same_report(r))
    result.unpublished = sum(
        1 for i in incidents for m in alerts.get(i, []) if m.status == "pending"
    )
    for report in reports.values():
        found = alerts.get(report.incident_id)
        if report.opened and found:
            result.latencies.append(min(m.created for m in found) - report.started)
    return result
