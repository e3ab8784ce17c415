"""Opening an incident (舆情事件) for a story, once, and raising it when the story's level rises.

A cluster that first reaches a level opens one incident; the incident id is derived from the
cluster id (``c-<cluster_id>``, :func:`~chalicelib.incidents.models.incident_id_for`), so the same
cluster can never open two, however many workers or redeliveries race. The scoring sink and
manual reports take an :class:`IncidentOpener`; every write goes through
:class:`~chalicelib.incidents.store.IncidentStore` (see docs/data-model.md):

- ``pk=<incident_id>, sk=META`` — ``status="open"``, ``level``, ``level_rank``, ``opened_at``,
  ``cluster_id``, ``title``, ``summary``, ``reasons``, ``drill`` (written once; the level is
  raised in place on escalation);
- ``pk=<incident_id>, sk=ESC#<level>`` — one per level the incident escalated to, with
  ``at``, ``from_level``, ``reasons`` (written once, so a repeat records nothing). An escalation
  that finds no META (its open was lost) opens the incident at the new level instead.

After the META item is written, the workflow is started (idempotent by execution name); a
repeat of ``open`` starts it again, which returns the same execution, so a crash between the
two writes heals on redelivery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import YuqingError
from chalicelib.core.observability import logger
from chalicelib.incidents.models import ENDED, META, WORKFLOW_RUNNING, IncidentDraft
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.defaults import LEVEL_RANK

# Told the incident's META as it is after the rise, and the level it rose from.
RiseNotifier = Callable[[Mapping[str, Any], str | None], None]

MAX_GENERATIONS = 50


class IncidentOpener:
    """Writes the incident's META and escalation items, and starts the response workflow."""

    def __init__(
        self,
        store: IncidentStore,
        start_workflow: Callable[[str, bool], str],
        clock: Clock = utcnow,
        on_rise: RiseNotifier | None = None,
    ) -> None:
        self._store = store
        self._start = start_workflow
        self._clock = clock
        self._on_rise = on_rise

    def resolve(self, draft: IncidentDraft) -> IncidentDraft:
        """Skip incidents of the story that have ended (closed, dismissed, expired): a story
        that flares up again after its incident ended gets a follow-up incident and alerts,
        not a silent note on a closed one."""
        for generation in range(draft.generation, MAX_GENERATIONS + 1):
            candidate = replace(draft, generation=generation)
            status = self._store.stored_status(candidate.incident_id)
            if status is None or status not in ENDED:
                return replace(candidate, exists=status is not None)
        return replace(draft, generation=MAX_GENERATIONS)

    def open(self, draft: IncidentDraft) -> bool:
        """Open the cluster's incident at ``draft.level``; False if it was already open."""
        created = self._store.create(
            {
                "pk": draft.incident_id,
                "sk": META,
                "status": "open",
                "level": draft.level,
                "level_rank": LEVEL_RANK[draft.level],
                "opened_at": iso(self._clock()),
                "cluster_id": draft.cluster_id,
                "title": draft.title,
                "summary": draft.summary,
                "reasons": list(draft.reasons),
                "drill": draft.drill,
                "source": "cluster",
            }
        )
        try:
            self._start(draft.incident_id, draft.drill)
        except YuqingError as err:
            # The incident is stored with status "open"; the incident_sweep schedule starts any
            # incident still open a minute later, so a Step Functions outage delays the workflow
            # but loses no incident (a crawl redelivery would skip the posts already written).
            logger.warning(
                "workflow start failed; the sweep will retry",
                extra={"incident": draft.incident_id, "error": err.code},
            )
        if not created:
            # Opened before, perhaps at a lower level by a worker that has not escalated yet.
            self.escalate(draft, None)
        return created

    def escalate(self, draft: IncidentDraft, from_level: str | None) -> bool:
        """Record that the cluster's incident rose to ``draft.level``; False if recorded."""
        raised = self._store.raise_level(draft.incident_id, draft.level)
        if raised is None:
            if self._store.stored_status(draft.incident_id) is not None:
                return False  # already at this level or higher
            # Never opened (an earlier open was lost): open it now, at this level.
            return self.open(draft)
        recorded = self._store.put_once(
            draft.incident_id,
            f"ESC#{draft.level}",
            {
                "at": iso(self._clock()),
                "level": draft.level,
                "from_level": from_level,
                "cluster_id": draft.cluster_id,
                "reasons": list(draft.reasons),
                "drill": draft.drill,
            },
        )
        self._tell_rise(raised, from_level)
        return recorded

    def _tell_rise(self, meta: Mapping[str, Any], from_level: str | None) -> None:
        """The workflow sits in waits whose timeouts are already running (the HQ's 研判, the
        next public deadline), so a rise is handed to it from here (decisions 56–58). Best
        effort: the level is already raised, and a failure is logged, never a failed crawl
        batch."""
        if self._on_rise is None or meta.get("status") not in WORKFLOW_RUNNING:
            return
        try:
            self._on_rise(meta, from_level)
        except YuqingError as err:
            logger.warning(
                "rise not paged", extra={"incident_id": meta.get("pk"), "error": err.code}
            )
