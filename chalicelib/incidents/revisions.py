"""Plan revisions an incident's evaluation proposes (预案修订建议).

The plan's last step is evaluation: what went wrong, and what the plan should say next time. A
lead or the HQ writes a proposal — the plan section it concerns and its text — once the
incident has its 舆情评估 (status ``evaluating`` or later). The same proposal sent twice is one
record (its id derives from the incident, the section and the text). When the HQ saves a plan
version that answers it (``PUT /plan`` with ``answers``, :mod:`chalicelib.plan.service`), the
incident's evaluation report shows which version changed what, and when.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from chalicelib.auth.models import Principal
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import ConflictError, Problem, ValidationError
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.validation import TOP_LEVEL

MAX_TEXT = 2000
PREFIX = "REV#"


class RevisionProposals:
    def __init__(self, store: IncidentStore, clock: Clock = utcnow) -> None:
        self._store = store
        self._clock = clock

    def propose(
        self, incident_id: str, who: Principal, body: Mapping[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """Record a proposal; ``(proposal, created)`` — False when the same one was there."""
        problems = []
        section = body.get("section")
        if section not in TOP_LEVEL:
            problems.append(
                Problem("/section", f"one of the plan's sections: {', '.join(TOP_LEVEL)}")
            )
        text = body.get("text")
        if isinstance(text, str):
            text = text.strip()
        if not isinstance(text, str) or not text or len(text) > MAX_TEXT:
            problems.append(
                Problem("/text", f"must be non-empty text of at most {MAX_TEXT} characters")
            )
        if problems:
            raise ValidationError("invalid revision proposal", problems)
        text, section = str(text), str(section)
        meta = self._store.require(incident_id)
        if not meta.get("evaluation"):
            raise ConflictError("the incident has no evaluation yet: propose revisions after it")
        digest = hashlib.sha256(f"{incident_id}\x1f{section}\x1f{text.strip()}".encode())
        revision_id = digest.hexdigest()[:16]
        proposal = {
            "revision_id": revision_id,
            "section": section,
            "text": text.strip(),
            "by": who.name,
            "at": iso(self._clock()),
        }
        created = self._store.put_once(incident_id, PREFIX + revision_id, proposal)
        if not created:
            stored = self._store.get(incident_id, PREFIX + revision_id) or proposal
            proposal = {k: stored[k] for k in proposal if k in stored}
        return proposal, created
