"""The 舆情周报 and 月报 use cases: build, store once, serve, and mail the HQ once.

- ``get(span)`` serves the stored briefing of a finished week or month, or builds it and stores
  it once (conditional write; a concurrent build's copy wins). The current, unfinished span is
  built up to the current hour, served as provisional and not stored. A span in the future, or
  one that began more than the trend counts' 400 days ago, is a 400: nothing to build from.
- ``tick()`` (from ``briefing_tick``, every 15 minutes): from 09:00 China time on Monday, last
  week's briefing; from 09:00 on the 1st, last month's — stored once and e-mailed to the 指挥部
  once through the alert outbox (its message id per span makes a repeat send nothing). A failed
  mail is retried by the later ticks of that day and of the next; after that the span is left
  alone (it can still be read and downloaded).
- The e-mail links to the dashboard's ``#/briefing/<key>`` page (``2026-W49``, ``2026-12``), which
  signs in and downloads Word or HTML with the session's token.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.briefings import daily, periodic
from chalicelib.briefings.periods import KINDS, Span, previous
from chalicelib.briefings.service import NOTICE_KEY, Notifier
from chalicelib.briefings.store import BriefingStore
from chalicelib.clusters.models import Cluster
from chalicelib.clusters.store import ClusterStore
from chalicelib.core.clock import CHINA, Clock, utcnow
from chalicelib.core.errors import Problem, ValidationError, YuqingError
from chalicelib.core.observability import logger
from chalicelib.drills.store import DrillStore
from chalicelib.incidents.models import STATUSES
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.models import PlanView
from chalicelib.plan.service import current_or_example
from chalicelib.plan.store import PlanStore
from chalicelib.sources.store import SourceStore
from chalicelib.trends.models import top_clusters
from chalicelib.trends.service import period_hot_words
from chalicelib.trends.store import RETENTION_DAYS, TrendStore
from chalicelib.trends.words import ALL

HOT_WORDS_SHOWN = 15


class PeriodicBriefings:
    """舆情周报 and 月报: ``stores`` holds one :class:`BriefingStore` per kind (week, month)."""

    def __init__(
        self,
        *,
        stores: dict[str, BriefingStore],
        trends: TrendStore,
        clusters: ClusterStore,
        incidents: IncidentStore,
        drills: DrillStore,
        sources: SourceStore,
        plans: PlanStore,
        notifier: Notifier | None = None,
        public_url: str | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._stores = stores
        self._trends = trends
        self._clusters = clusters
        self._incidents = incidents
        self._drills = drills
        self._sources = sources
        self._plans = plans
        self._notifier = notifier
        self._public_url = public_url or ""
        self._clock = clock

    # -- reading -----------------------------------------------------------------------------
    def get(self, span: Span) -> dict[str, Any]:
        """The stored briefing of ``span``, else built now (and stored if the span is over)."""
        self._check(span)
        store = self._stores[span.kind]
        stored = store.get(span.key)
        if stored is not None:
            return stored
        data = self._build(span)
        if data["provisional"] or store.put_new(data):
            return data
        return store.get(span.key) or data  # another build won the race

    def link(self, span: Span) -> str:
        """The dashboard page of the span's briefing: what the e-mail links to."""
        return f"{self._public_url}/#/briefing/{span.key}"

    # -- the schedule ------------------------------------------------------------------------
    def tick(self) -> dict[str, Any]:
        """Last week's and last month's briefings, each stored and mailed once within its mail
        window (see :meth:`periods.Span.mail_window`). Answers what happened to each."""
        now = self._clock()
        return {"periodic": [self._deliver(previous(kind, now), now) for kind in KINDS]}

    def _deliver(self, span: Span, now: datetime) -> dict[str, Any]:
        opens, closes = span.mail_window()
        result: dict[str, Any] = {"kind": span.kind, "key": span.key, "due": opens <= now < closes}
        if not result["due"]:
            return result
        result["mailed"] = None
        store = self._stores[span.kind]
        if self._notifier is None or store.mailed_at(span.key):
            return result  # one read a tick once the span's mail is out
        data = self.get(span)
        try:
            result["mailed"] = self._notifier.notify_hq(
                key=NOTICE_KEY,
                event=f"briefing-{span.kind}-{span.key}",
                subject=f"{span.title} {span.key}",
                body=f"{data['summary']}\n\n打开{span.title}（登录看板后可下载 Word 版和网页版）："
                f"{self.link(span)}\n",
            )
        except YuqingError as err:
            # Stored but not mailed: a later tick in the window tries again.
            logger.warning("periodic briefing not mailed; retried", extra={"error": err.code})
            result["error"] = err.code
            return result
        store.mark_mailed(span.key, now.astimezone(UTC).isoformat())
        return result

    # -- building ----------------------------------------------------------------------------
    def _check(self, span: Span) -> None:
        now = self._clock()
        where = f"/{span.kind}"
        if span.start > now:
            raise ValidationError(
                f"no briefing for a future {span.kind}", [Problem(where, "in future")]
            )
        age = (now.astimezone(CHINA).date() - span.first_day()).days
        if age > RETENTION_DAYS:
            raise ValidationError(
                "too old: trend counts are kept for 400 days",
                [Problem(where, f"began at most {RETENTION_DAYS} days ago")],
            )

    def _plan(self) -> PlanView:
        latest = self._plans.latest()
        return PlanView(current_or_example(self._plans), latest.version if latest else 0)

    def _build(self, span: Span) -> dict[str, Any]:
        plan = self._plan()
        now = self._clock()
        period = span.period(now)
        hours, pages = [], []
        day = period.start.date()
        while day <= (period.end - timedelta(seconds=1)).date():
            found = self._trends.day(day.isoformat())
            hours += found.hours
            pages += found.pages
            day += timedelta(days=1)
        top = top_clusters(
            daily.clusters_in_period(pages, period), by="risk", limit=periodic.TOP_CLUSTERS
        )
        clusters: dict[str, Cluster | None] = {
            c.cluster_id: self._clusters.get(c.cluster_id) for c in top
        }
        start, end = period.start.isoformat(), period.end.isoformat()
        return periodic.build(
            span=span,
            period=period,
            now=now,
            organisation=plan.name,
            plan_version=plan.version,
            hours=hours,
            top=top,
            clusters=clusters,
            incidents=self._incidents.opened_between(STATUSES, start, end),
            drills=self._drills.started_between(start, end),
            sources=list(self._sources.all()),
            hot_words=period_hot_words(
                self._trends,
                ALL,
                period.start,
                period.end,
                HOT_WORDS_SHOWN,
                baseline_hours=period.hours_count,
            )["words"],
        )
