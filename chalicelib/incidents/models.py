"""What an incident (舆情事件) is called and which states it passes through.

One home for the incident's vocabulary, read by the store, the opener on the scoring side, the
workflow and the views: the id format every route checks, the id of a story's incident, the
record's sort key, and the statuses in the order the workflow moves through them (it never
moves back), with the sets of them that decide behaviour.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# What an incident id may be; \Z because "$" would accept a trailing newline.
INCIDENT_ID = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")
ITEM_ID = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")  # task and statement ids (sort-key parts)

# The incident's own record under its partition key.
META = "META"

# An incident's statuses in the order its workflow moves through them; it never moves back.
STATUSES = (
    "open",
    "reported",
    "awaiting_decision",
    "active",
    "evaluating",
    "closed",
    "dismissed",
    "expired",
)
# The HQ has not decided yet (研判 pending): a rise now pages the HQ at once.
BEFORE_DECISION = frozenset({"open", "reported", "awaiting_decision"})
# Statuses in which a rise still changes what the workflow does.
WORKFLOW_RUNNING = BEFORE_DECISION | {"active"}
# Still under way: the board's countdowns and the briefing's open incidents.
OPEN_STATUSES = ("open", "reported", "awaiting_decision", "active", "evaluating")
# Over: news of its story opens a follow-up incident.
ENDED = frozenset({"closed", "dismissed", "expired"})


def incident_id_for(cluster_id: str, generation: int = 1) -> str:
    """``c-<cluster>`` for a story's first incident, ``c-<cluster>-<n>`` for a follow-up."""
    return f"c-{cluster_id}" if generation <= 1 else f"c-{cluster_id}-{generation}"


@dataclass(frozen=True)
class IncidentDraft:
    """What the scoring side knows when a cluster reaches a level: what opening (or raising)
    its incident needs."""

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
