"""Briefing and report use cases: build, store once, serve, and the ``briefing_tick`` schedule.

- **Daily briefing (舆情日报).** ``get(date)`` serves the stored briefing, or builds it: a date
  whose briefing time has passed is stored once (conditional write) and is from then on what
  everyone reads; today before the briefing time the last 24 hours are built, served as
  provisional and not stored. ``rebuild(date)`` (``POST /briefings``) builds now and replaces the
  stored one. ``tick()`` (every 15 minutes) makes sure today's briefing is stored once its time
  has passed, then e-mails the 指挥部 a link through the alert outbox, whose message id (per date)
  makes a second tick send nothing. Each tick also looks at yesterday until its mail went out:
  a briefing time of 23:50 is only due at the next date's first tick, and a tick failing in the
  day's last minutes must not lose that day's mail.
- The e-mailed link opens the dashboard's ``#/briefing/<date>`` page (a mail client sends no
  bearer token, so a link to the API itself would be a 401): it signs in first if needed, shows
  the summary and risk line, and downloads Word or HTML with the session's token.
- **Evaluation report (舆情评估)** of one incident, from everything recorded on it.

Dates are China dates; a date older than the trend counts' retention, or in the future, is a
400 — nothing to build from.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from chalicelib.alerts.store import OutboxStore
from chalicelib.briefings import daily, evaluation
from chalicelib.briefings.models import Period, parse_time, period_for, rolling_period
from chalicelib.briefings.store import BriefingStore
from chalicelib.clusters.models import Cluster
from chalicelib.clusters.store import ClusterStore
from chalicelib.core.clock import CHINA, Clock, utcnow
from chalicelib.core.errors import NotFoundError, Problem, ValidationError, YuqingError
from chalicelib.core.observability import logger
from chalicelib.incidents.models import META, OPEN_STATUSES
from chalicelib.incidents.queries import board_facts
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.models import PlanView
from chalicelib.plan.service import current_or_example
from chalicelib.plan.store import PlanStore
from chalicelib.sources.store import SourceStore
from chalicelib.trends.service import period_hot_words
from chalicelib.trends.store import RETENTION_DAYS, TrendStore
from chalicelib.trends.words import ALL

NOTICE_KEY = "briefing"
MAX_SPREAD_DAYS = 31
# The day's hot words (热词) the briefing lists.
HOT_WORDS_SHOWN = 10


class Notifier(Protocol):
    def notify_hq(self, *, key: str, event: str, subject: str, body: str) -> str | None: ...


class BriefingService:
    def __init__(
        self,
        *,
        store: BriefingStore,
        trends: TrendStore,
        clusters: ClusterStore,
        incidents: IncidentStore,
        sources: SourceStore,
        plans: PlanStore,
        notifier: Notifier | None = None,
        public_url: str | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._store = store
        self._trends = trends
        self._clusters = clusters
        self._incidents = incidents
        self._sources = sources
        self._plans = plans
        self._notifier = notifier
        self._public_url = public_url or ""
        self._clock = clock

    # -- reading -----------------------------------------------------------------------------
    def list(self) -> dict[str, Any]:
        return {"time": self._plan().briefing_time, "briefings": self._store.dates()}

    def get(self, day: date) -> dict[str, Any]:
        """The stored briefing of ``day``, else built now (and stored if its time has passed)."""
        self._check_day(day)
        stored = self._store.get(day.isoformat())
        if stored is not None:
            return stored
        data = self._build(day)
        if data["provisional"] or self._store.put_new(data):
            return data
        return self._store.get(day.isoformat()) or data  # another build won the race

    def latest(self) -> dict[str, Any]:
        """The last 24 hours up to now, whatever the briefing time: built, never stored."""
        return self._build(self._today(), rolling_period(self._clock()))

    def rebuild(self, day: date | None) -> dict[str, Any]:
        """``POST /briefings``: build now; a complete period replaces the stored briefing."""
        day = day or self._today()
        self._check_day(day)
        data = self._build(day)
        if not data["provisional"]:
            self._store.replace(data)
        return data

    # -- the schedule ------------------------------------------------------------------------
    def tick(self) -> dict[str, Any]:
        """Yesterday's briefing until it is mailed, and today's once its time has passed: each
        stored once and mailed to the HQ once. Answers what happened to each date."""
        today = self._today()
        at = parse_time(self._plan().briefing_time)
        return {"briefings": [self._deliver(day, at) for day in (today - timedelta(days=1), today)]}

    def link(self, day: date) -> str:
        """The dashboard page of ``day``'s briefing: what the e-mail links to."""
        return f"{self._public_url}/#/briefing/{day.isoformat()}"

    def _deliver(self, day: date, at: time) -> dict[str, Any]:
        if period_for(day, at, self._clock()).provisional:
            return {"date": day.isoformat(), "due": False}
        result: dict[str, Any] = {"date": day.isoformat(), "due": True, "mailed": None}
        if self._notifier is None or self._store.mailed_at(day.isoformat()):
            return result  # one read a tick once the day's mail is out
        data = self.get(day)
        link = self.link(day)
        try:
            result["mailed"] = self._notifier.notify_hq(
                key=NOTICE_KEY,
                event=f"briefing-{day.isoformat()}",
                subject=f"舆情日报 {day.isoformat()}",
                body=f"{data['summary']}\n\n打开日报（登录看板后可下载 Word 版和网页版）：{link}\n",
            )
        except YuqingError as err:
            # Stored but not mailed: the next tick tries the mail again (nothing is in the outbox).
            logger.warning("briefing not mailed; next tick retries", extra={"error": err.code})
            result["error"] = err.code
            return result
        # In the outbox now or before (None): the outbox's per-date id keeps it to one mail; the
        # mark only spares later ticks the attempt.
        self._store.mark_mailed(day.isoformat(), self._clock().astimezone(UTC).isoformat())
        return result

    # -- building ----------------------------------------------------------------------------
    def _plan(self) -> PlanView:
        latest = self._plans.latest()
        return PlanView(current_or_example(self._plans), latest.version if latest else 0)

    def _today(self) -> date:
        return self._clock().astimezone(CHINA).date()

    def _check_day(self, day: date) -> None:
        age = (self._today() - day).days
        if age < 0:
            raise ValidationError("no briefing for a future date", [Problem("/date", "in future")])
        if age > RETENTION_DAYS:
            raise ValidationError(
                "too old: trend counts are kept for 400 days",
                [Problem("/date", f"at most {RETENTION_DAYS} days ago")],
            )

    def _build(self, day: date, period: Period | None = None) -> dict[str, Any]:
        plan = self._plan()
        now = self._clock()
        period = period or period_for(day, parse_time(plan.briefing_time), now)
        hours, pages = [], []
        for utc_day in period.utc_days():
            found = self._trends.day(utc_day)
            hours += found.hours
            pages += found.pages
        top = daily.top_clusters(daily.clusters_in_period(pages, period))
        clusters: dict[str, Cluster | None] = {
            c.cluster_id: self._clusters.get(c.cluster_id) for c in top
        }
        # The board's facts of each open incident (one Query each, as on the board).
        incidents = [
            (meta, board_facts(self._incidents.items(str(meta["pk"]))))
            for meta in self._incidents.by_statuses(OPEN_STATUSES)
            if not meta.get("drill")
        ]
        return daily.build(
            day=day,
            period=period,
            now=now,
            organisation=plan.name,
            plan_version=plan.version,
            hours=hours,
            top=top,
            clusters=clusters,
            incidents=incidents,
            sources=list(self._sources.all()),
            group_name=lambda g: str((plan.group(g) or {}).get("name") or g),
            hot_words=period_hot_words(
                self._trends, ALL, period.start, period.end, HOT_WORDS_SHOWN
            )["words"],
        )


class EvaluationReports:
    """The 舆情评估 report of one incident, built on request from what is recorded."""

    def __init__(
        self,
        incidents: IncidentStore,
        outbox: OutboxStore,
        clusters: ClusterStore,
        trends: TrendStore,
        time_scale: float,
        clock: Clock = utcnow,
        plans: PlanStore | None = None,
    ) -> None:
        self._incidents = incidents
        self._outbox = outbox
        self._clusters = clusters
        self._trends = trends
        self._scale = time_scale
        self._clock = clock
        # The plan versions that answer an incident's evaluation (None: none are shown).
        self._plans = plans

    def incident(self, incident_id: str) -> dict[str, Any]:
        items = self._incidents.items(incident_id)
        meta = next((i for i in items if i["sk"] == META), None)
        if meta is None or str(incident_id).startswith("drill#"):
            raise NotFoundError(f"no incident {incident_id}")
        pages = []
        cluster = self._clusters.get(str(meta["cluster_id"])) if meta.get("cluster_id") else None
        if cluster is not None:
            first = cluster.first_seen.date()
            days = min((cluster.last_seen.date() - first).days, MAX_SPREAD_DAYS)
            pages = self._trends.cluster_pages(
                cluster.id, [(first + timedelta(days=i)).isoformat() for i in range(days + 1)]
            )
        now: datetime = self._clock()
        versions = self._plans.versions() if self._plans else []
        return evaluation.build(
            incident_id,
            items,
            alerts=self._outbox.by_incident(incident_id),
            pages=pages,
            now=now,
            time_scale=self._scale,
            plan_revisions=[v.meta() for v in versions if incident_id in v.answers],
        )
