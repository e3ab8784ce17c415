"""The seam between clusters and incidents (舆情事件): open once, escalate when the level rises.

A cluster that first reaches a level opens one incident; the incident id is derived from the
cluster id (``c-<cluster_id>``), so the same cluster can never open two, however many workers
or redeliveries race. :class:`IncidentOpener` is the protocol the scoring sink calls; the
response-workflow feature may replace :class:`DynamoIncidentOpener` with its own.

Items in the incidents table (see docs/data-model.md):

- ``pk=<incident_id>, sk=META`` — ``status="open"``, ``level``, ``level_rank``, ``opened_at``,
  ``cluster_id``, ``title``, ``summary``, ``reasons``, ``drill`` (written with
  ``attribute_not_exists``; the level is raised in place on escalation);
- ``pk=<incident_id>, sk=ESC#<level>`` — one per level the incident escalated to, with
  ``at``, ``from_level``, ``reasons`` (conditional, so a repeat records nothing). An escalation
  that finds no META (its open was lost) opens the incident at the new level instead.

After the META item is written, the workflow is started (``WorkflowService.start``, itself
idempotent by execution name); a repeat of ``open`` starts it again, which returns the same
execution, so a crash between the two writes heals on redelivery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.dynamo import put_if_absent, to_item
from chalicelib.core.errors import ConflictError, YuqingError, aws_errors
from chalicelib.core.observability import logger
from chalicelib.incidents.models import ENDED, WORKFLOW_RUNNING, incident_id_for
from chalicelib.plan.defaults import LEVEL_RANK

# Told the incident's META as it is after the rise, and the level it rose from.
RiseNotifier = Callable[[Mapping[str, Any], str | None], None]

MAX_GENERATIONS = 50


@dataclass(frozen=True)
class IncidentDraft:
    """What the scoring side knows when a cluster reaches a level."""

    cluster_id: str
    level: str
    title: str
    summary: str
    reasons: Sequence[str]
    drill: bool = False
    generation: int = 1  # 2, 3 …: follow-ups when the story flares up after its incident ended
    # Set by ``resolve``: is an incident stored at this id (None: not looked up)?
    exists: bool | None = None

    @property
    def incident_id(self) -> str:
        return incident_id_for(self.cluster_id, self.generation)


class IncidentOpener(Protocol):
    def resolve(self, draft: IncidentDraft) -> IncidentDraft:
        """The draft aimed at the story's live incident: a follow-up once the last one ended."""
        ...

    def open(self, draft: IncidentDraft) -> bool:
        """Open the cluster's incident at ``draft.level``; False if it was already open."""
        ...

    def escalate(self, draft: IncidentDraft, from_level: str | None) -> bool:
        """Record that the cluster's incident rose to ``draft.level``; False if recorded."""
        ...


class DynamoIncidentOpener:
    """Writes the incident's META and escalation items, and starts the response workflow."""

    def __init__(
        self,
        table: Any,
        start_workflow: Callable[[str, bool], str],
        clock: Clock = utcnow,
        on_rise: RiseNotifier | None = None,
    ) -> None:
        self._table = table
        self._start = start_workflow
        self._clock = clock
        self._on_rise = on_rise

    def resolve(self, draft: IncidentDraft) -> IncidentDraft:
        """Skip incidents of the story that have ended (closed, dismissed, expired): a story
        that flares up again after its incident ended gets a follow-up incident and alerts,
        not a silent note on a closed one."""
        for generation in range(draft.generation, MAX_GENERATIONS + 1):
            candidate = replace(draft, generation=generation)
            with aws_errors("incidents table"):
                found = self._table.get_item(
                    Key={"pk": candidate.incident_id, "sk": "META"},
                    ProjectionExpression="#s",
                    ExpressionAttributeNames={"#s": "status"},
                    ConsistentRead=True,
                ).get("Item")
            if found is None or found.get("status") not in ENDED:
                return replace(candidate, exists=found is not None)
        return replace(draft, generation=MAX_GENERATIONS)

    def open(self, draft: IncidentDraft) -> bool:
        item = {
            "pk": draft.incident_id,
            "sk": "META",
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
        try:
            with aws_errors("incidents table"):
                self._table.put_item(
                    Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
                )
            created = True
        except ConflictError:
            created = False
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

    def _exists(self, incident_id: str) -> bool:
        with aws_errors("incidents table"):
            found = self._table.get_item(
                Key={"pk": incident_id, "sk": "META"},
                ProjectionExpression="pk",
                ConsistentRead=True,
            )
        return "Item" in found

    def escalate(self, draft: IncidentDraft, from_level: str | None) -> bool:
        rank = LEVEL_RANK[draft.level]
        entry = {
            "pk": draft.incident_id,
            "sk": f"ESC#{draft.level}",
            "at": iso(self._clock()),
            "level": draft.level,
            "from_level": from_level,
            "cluster_id": draft.cluster_id,
            "reasons": list(draft.reasons),
            "drill": draft.drill,
        }
        try:
            with aws_errors("incidents table"):
                raised = self._table.update_item(
                    Key={"pk": draft.incident_id, "sk": "META"},
                    UpdateExpression="SET #level = :level, level_rank = :rank",
                    ConditionExpression="attribute_exists(pk) AND level_rank < :rank",
                    ExpressionAttributeNames={"#level": "level"},
                    ExpressionAttributeValues={":level": draft.level, ":rank": rank},
                    ReturnValues="ALL_NEW",
                )
        except ConflictError:
            if self._exists(draft.incident_id):
                return False  # already at this level or higher
            # Never opened (an earlier open was lost): open it now, at this level.
            return self.open(draft)
        recorded = put_if_absent(self._table, entry, "incidents table")
        self._tell_rise(raised.get("Attributes") or {}, from_level)
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
