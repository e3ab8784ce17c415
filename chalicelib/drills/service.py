"""Running a drill: store it, inject each event when it falls due, through the real pipeline.

**Injection.** A ``report`` event goes through :class:`~chalicelib.reports.service.ReportService`
with ``drill=True``; a ``post`` event goes through the scoring sink as ``Item(source_id="drill",
drill=True)``. From there everything is the real system: scoring, clustering (drill posts cluster
apart from real ones), the incident with ``drill: true`` in its META, its Step Functions
execution, alerts marked 【演练】. The incidents an event opened or joined are recorded on the event
and on the drill.

**Once only, without locks.** Report ids and post ids are derived from the drill id and the event
index, so injecting an event twice (a tick and a request racing, a retried Lambda, a crash before
the event was marked) writes no second post, report or incident: the pipeline's own conditional
writes stop the repeat. An event is marked injected after its incidents are recorded on the
drill, so a crash in between repeats the injection rather than losing an incident.

**When.** An event is due at ``started_at + at_minutes × 60 s × time_scale``. Three things inject
due events, all through :meth:`DrillService.advance`, which is idempotent:

1. ``POST /drills`` injects what is due at once (``at_minutes: 0``) before answering.
2. The ``drill_tick`` schedule (every minute, in AWS and in local mode) advances every running
   drill, then keeps going until the next tick would fire: it sleeps until the next event due
   within its window (waking at least every :data:`POLL_SECONDS` to pick up drills started
   meanwhile) and injects it. So in AWS events arrive within about a second of their time once a
   tick has seen the drill, and at most one tick late before that; a minute with no drill running
   costs one query.
3. In local mode only (one long-lived process), ``POST /drills`` also starts a daemon thread
   that paces that drill to the second from the start (:meth:`DrillService.pace`) — with local
   mode's time scale a plan minute is well under a second, so waiting for the first tick would
   bunch a whole scenario together. The tick stays the durable path (after a restart).

Tests drive time themselves: :meth:`DrillService.advance` takes ``now``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.auth.models import Principal, Role
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import NotFoundError, Problem, ValidationError
from chalicelib.drills import report as drill_report
from chalicelib.drills.scenario import Scenario, describe, post_texts
from chalicelib.drills.store import DrillStore
from chalicelib.incidents.models import incident_id_for
from chalicelib.incidents.store import IncidentStore
from chalicelib.posts.models import Item, Platform, parse_platform
from chalicelib.posts.sink import ItemSink
from chalicelib.posts.store import PostStore
from chalicelib.reports.service import ReportService, parse_report

DRILL_SOURCE = "drill"
# While a tick is waiting for the next event, it looks for newly started drills this often.
POLL_SECONDS = 5.0
# A tick stops this long before the next one would start (and before its Lambda's timeout).
TICK_MARGIN_SECONDS = 5.0


class Injector(Protocol):
    def inject(
        self, drill: Mapping[str, Any], event: Mapping[str, Any]
    ) -> tuple[list[str], list[str]]:
        """Inject one event; (incident ids it opened or joined, post ids it made)."""
        ...


class OutboxReader(Protocol):
    def by_incident(self, incident_key: str, limit: int = 500) -> list[dict[str, Any]]: ...


def drill_report_id(drill_id: str, index: int) -> str:
    return "r" + hashlib.sha256(f"drill:{drill_id}:{index}".encode()).hexdigest()[:20]


class PipelineInjector:
    """Events into the real pipeline: reports through the report service, posts through the
    scoring sink."""

    def __init__(
        self,
        reports: ReportService,
        sink: ItemSink,
        posts: PostStore,
        incidents: IncidentStore,
        subjects: Callable[[], set[str]],
        clock: Clock = utcnow,
    ) -> None:
        self._reports = reports
        self._sink = sink
        self._posts = posts
        self._incidents = incidents
        self._subjects = subjects
        self._clock = clock

    def inject(
        self, drill: Mapping[str, Any], event: Mapping[str, Any]
    ) -> tuple[list[str], list[str]]:
        drill_id = str(drill["drill_id"])
        index = int(event["index"])
        fields = dict(event.get("fields") or {})
        if event["kind"] == "report":
            subjects = self._subjects()
            if fields.get("subject") not in subjects:
                fields.pop("subject", None)  # the plan changed since the drill was started
            report = parse_report({**fields, "drill": True}, subjects)
            who = Principal(f"{drill.get('by', '')}（演练）", Role.HQ)
            answer = self._reports.submit(who, report, drill_report_id(drill_id, index))
            return [str(answer["incident_id"])], []
        return self._inject_posts(drill_id, index, fields)

    def _inject_posts(
        self, drill_id: str, index: int, fields: Mapping[str, Any]
    ) -> tuple[list[str], list[str]]:
        now = self._clock()
        items = []
        for k, text in enumerate(post_texts(fields)):
            first = k == 0
            items.append(
                Item(
                    source_id=DRILL_SOURCE,
                    platform=parse_platform(fields.get("platform")) or Platform.WEIBO,
                    title=str(fields.get("title") or "") if first else "",
                    text=text,
                    author=str(fields.get("author") or "网友") if first else f"网友{k:03d}",
                    fetched_at=now,
                    published_at=now,
                    engagement=dict(fields.get("engagement") or {}) if first else {},
                    rank=fields.get("rank") if first else None,
                    external_id=f"{drill_id}-{index}-{k}",
                    drill=True,
                )
            )
        self._sink.ingest(items, credibility=float(fields.get("credibility", 0.5)))
        incidents: list[str] = []
        clusters: set[str] = set()
        for item in items:
            post = self._posts.get(item.post_id) or {}
            cluster_id = post.get("cluster_id")
            if cluster_id and cluster_id not in clusters:
                clusters.add(str(cluster_id))
                incident_id = incident_id_for(str(cluster_id))
                # A cluster below every level has no incident (yet).
                if self._incidents.get(incident_id) is not None:
                    incidents.append(incident_id)
        return incidents, [i.post_id for i in items]


class DrillService:
    def __init__(
        self,
        store: DrillStore,
        injector: Injector,
        incidents: IncidentStore,
        outbox: OutboxReader,
        time_scale: float,
        clock: Clock = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._injector = injector
        self._incidents = incidents
        self._outbox = outbox
        self._time_scale = time_scale
        self._clock = clock
        self._sleep = sleep

    # -- start ------------------------------------------------------------------------------
    def start(self, who: Principal, scenario: Scenario, note: str, drill_id: str) -> dict[str, Any]:
        """Store the drill and its events, inject what is due now; the drill as served."""
        started = self._clock()
        drill = {
            "drill_id": drill_id,
            "name": scenario.name,
            "description": scenario.description,
            "bundled": scenario.bundled,
            "note": note,
            "by": who.name,
            "started_at": iso(started),
            "opened_at": iso(started),
            "time_scale": self._time_scale,
            "state": "running",
            "event_count": len(scenario.events),
            "post_count": scenario.post_count,
        }
        events = [
            {
                "index": e.index,
                "at_minutes": e.at_minutes,
                "kind": e.kind,
                "fields": dict(e.fields),
                "due_at": iso(e.due_at(started, self._time_scale)),
            }
            for e in scenario.events
        ]
        self._store.create(drill, events)  # a repeat (same id) finds it stored: no harm
        self.advance(drill_id, started)
        return {**self.summary(drill_id), "scenario": describe(scenario)}

    # -- injecting --------------------------------------------------------------------------
    def advance(self, drill_id: str, now: datetime | None = None) -> list[int]:
        """Inject every event of the drill due by ``now``, in order; the indices injected."""
        injected, _ = self._advance(drill_id, now or self._clock())
        return injected

    def _advance(self, drill_id: str, now: datetime) -> tuple[list[int], datetime | None]:
        drill, events = self._store.items(drill_id)
        if drill is None:
            raise NotFoundError(f"no drill {drill_id}")
        pending = sorted(
            (e for e in events if not e.get("injected_at")),
            key=lambda e: (str(e["due_at"]), int(e["index"])),
        )
        done: list[int] = []
        for event in pending:
            if datetime.fromisoformat(str(event["due_at"])) > now:
                return done, datetime.fromisoformat(str(event["due_at"]))
            incident_ids, post_ids = self._injector.inject(drill, event)
            self._store.add_incidents(drill_id, incident_ids)
            self._store.mark_injected(
                drill_id, int(event["index"]), iso(self._clock()), incident_ids, post_ids
            )
            done.append(int(event["index"]))
        if drill.get("state") == "running":
            self._store.finish_injecting(drill_id, iso(self._clock()))
        return done, None

    def tick(self, window_seconds: float) -> dict[str, list[int]]:
        """The ``drill_tick`` schedule: advance every running drill, then keep injecting events
        as they fall due until ``window_seconds`` have passed. {drill id: indices injected}."""
        end = self._clock() + timedelta(seconds=max(window_seconds, 0))
        injected: dict[str, list[int]] = {}
        while True:
            now = self._clock()
            upcoming: list[datetime] = []
            for drill in self._store.recent(limit=100, running_only=True):
                drill_id = str(drill["drill_id"])
                done, next_due = self._advance(drill_id, now)
                if done:
                    injected.setdefault(drill_id, []).extend(done)
                if next_due is not None:
                    upcoming.append(next_due)
            now = self._clock()
            if not upcoming or min(upcoming) > end or now >= end:
                return injected
            wait = (min(upcoming) - now).total_seconds()
            self._sleep(min(max(wait, 0.0), POLL_SECONDS, (end - now).total_seconds()))

    def pace(self, drill_id: str, limit_seconds: float) -> list[int]:
        """Inject one drill's events at their times until none is left (local mode's thread)."""
        end = self._clock() + timedelta(seconds=limit_seconds)
        injected: list[int] = []
        while True:
            done, next_due = self._advance(drill_id, self._clock())
            injected += done
            if next_due is None or next_due > end:
                return injected
            self._sleep(max((next_due - self._clock()).total_seconds(), 0.0))

    # -- reading ----------------------------------------------------------------------------
    def summary(self, drill_id: str) -> dict[str, Any]:
        drill, events = self._store.items(drill_id)
        if drill is None:
            raise NotFoundError(f"no drill {drill_id}")
        return drill_report.summary(drill, events)

    def list(self, limit: int = 50) -> list[dict[str, Any]]:
        return [drill_report.summary(d, None) for d in self._store.recent(limit)]

    def report(self, drill_id: str) -> dict[str, Any]:
        """The drill report: each incident's steps against their deadlines, and totals."""
        drill, events = self._store.items(drill_id)
        if drill is None:
            raise NotFoundError(f"no drill {drill_id}")
        incident_ids = sorted(
            {str(i) for i in drill.get("incidents") or set()}
            | {str(i) for e in events for i in e.get("incident_ids") or []}
        )
        incidents = {i: self._incidents.items(i) for i in incident_ids}
        alerts = {i: self._outbox.by_incident(i) for i in incident_ids}
        return drill_report.build(drill, events, incidents, alerts, self._clock())


def check_drill_id(drill_id: str) -> str:
    if not drill_report.DRILL_ID.match(drill_id):
        raise ValidationError("invalid drill id", [Problem("/drill_id", "dr-<hex>, 1–40 chars")])
    return drill_id
