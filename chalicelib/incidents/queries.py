"""The incident board and one incident with everything attached to it (事件看板), as the API and the
briefing read them: the countdowns come from the incident's own items, the execution from the
state machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from chalicelib.core.clock import parse_instant
from chalicelib.core.errors import (
    NotFoundError,
)
from chalicelib.incidents.models import META, OPEN_STATUSES, STATUSES
from chalicelib.incidents.store import IncidentStore
from chalicelib.incidents.tokens import OPEN_WAITS, wait_on_people


class Executions(Protocol):
    """An incident's execution as the board shows it (``StateMachine.describe``)."""

    def describe(self, incident_id: str) -> dict[str, Any] | None: ...


class IncidentQueries:
    """The incident board and one incident with everything attached to it."""

    def __init__(self, store: IncidentStore, executions: Executions) -> None:
        self._store = store
        self._executions = executions

    def list(
        self, *, status: str | None, level: str | None, drill: bool | None, limit: int = 100
    ) -> list[dict[str, Any]]:
        statuses = [status] if status else list(STATUSES)
        rows = [
            _summary(i)
            for i in self._store.by_statuses(statuses, limit=limit)
            if (level is None or i.get("level") == level)
            and (drill is None or bool(i.get("drill", False)) == drill)
        ]
        rows.sort(key=lambda r: str(r.get("opened_at", "")), reverse=True)
        rows = rows[:limit]
        # The board's countdowns: what the workflow waits for lives in the incident's own items,
        # so each open incident is one more Query (closed ones wait for nothing).
        for row in rows:
            if row.get("status") in OPEN_STATUSES:
                row.update(board_facts(self._store.items(row["incident_id"])))
            else:  # ended: nothing to wait for; its breaches are on the incident's page
                row.update(next_deadline=None, breaches=None)
        return rows

    def get(self, incident_id: str) -> dict[str, Any]:
        items = self._store.items(incident_id)
        meta = next((i for i in items if i["sk"] == META), None)
        if meta is None:
            raise NotFoundError(f"no incident {incident_id}")

        def of(prefix: str) -> list[dict[str, Any]]:
            return [_public(i) for i in items if str(i["sk"]).startswith(prefix)]

        return {
            **_public(meta),
            "timeline": sorted(of("TL#"), key=lambda e: str(e.get("at", ""))),
            "tasks": of("TASK#"),
            "statements": of("STMT#"),
            # Evidence content can be 200 KB each: the incident shows what was kept, not the bytes.
            "evidence": [
                {k: v for k, v in e.items() if k not in ("content", "content_base64")}
                for e in of("EVID#")
            ],
            # Every report of the story, oldest first (the keys are random report ids).
            "reports": sorted(of("REPORT#"), key=lambda r: str(r.get("at", ""))),
            # Plan revisions its evaluation proposes (预案修订建议), oldest first.
            "revisions": sorted(of("REV#"), key=lambda r: str(r.get("at", ""))),
            "waiting_for": [
                {
                    "kind": str(i["sk"])[6:],
                    "since": i.get("since"),
                    "deadline_at": i.get("deadline_at"),
                    "group": i.get("group"),
                }
                for i in items
                # An interrupted wait is handed out again within a second: still waiting.
                if wait_on_people(i) and i.get("status") in OPEN_WAITS
            ],
            "public_deadline": pending_public_deadline(items),
            "execution": self._executions.describe(incident_id),
        }


def _public(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as served: key attributes renamed, tokens never shown."""
    out = {k: v for k, v in item.items() if k not in {"pk", "sk", "token"}}
    out["id"] = str(item.get("sk", "")).split("#", 1)[-1]
    return out


def pending_public_deadline(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The public-response deadline (权威信息发布/新闻发布会/公开回应) the workflow waits for,
    as it recorded it, unless a statement has been released: the first release meets every
    public deadline after it (see ``logic.deadline_due``), so nobody needs to race it any more."""
    meta = next((i for i in items if i["sk"] == META), {})
    upcoming = meta.get("public_deadline")
    if not isinstance(upcoming, Mapping) or not upcoming.get("due_at"):
        return None
    if any(str(i["sk"]).startswith("STMT#") and i.get("released_at") for i in items):
        return None
    return {
        "kind": f"public#{upcoming.get('kind')}",
        "due_at": str(upcoming["due_at"]),
        "since": upcoming.get("since"),
        "group": upcoming.get("group"),
    }


def board_facts(items: list[dict[str, Any]]) -> dict[str, Any]:
    """An incident's next deadline (the earliest of the waits on people — decision, a task's ack
    or completion, closing — and the pending public deadline) and how many deadlines it has
    breached (triage, tasks, public ones)."""
    waits = [
        {
            "kind": str(i["sk"])[6:],
            "due_at": str(i["deadline_at"]),
            "since": i.get("since"),
            "group": i.get("group"),
        }
        for i in items
        if wait_on_people(i) and i.get("status") in OPEN_WAITS and i.get("deadline_at")
    ]
    public = pending_public_deadline(items)
    if public:
        waits.append(public)
    # Compared as instants: stored times are all UTC ISO, but with or without fractions.
    waits.sort(key=lambda w: parse_instant(str(w["due_at"])))
    meta = next((i for i in items if i["sk"] == META), {})
    breaches = len(meta.get("breaches") or [])
    breaches += sum(len(i.get("breaches") or []) for i in items if str(i["sk"]).startswith("TASK#"))
    breaches += sum(
        1
        for d in (meta.get("deadlines") or {}).values()
        if isinstance(d, dict) and d.get("met") is False
    )
    return {"next_deadline": waits[0] if waits else None, "breaches": breaches}


def _summary(item: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("level", "status", "step", "title", "opened_at", "drill", "cluster_id", "deadlines")
    return {"incident_id": item["pk"], **{k: item.get(k) for k in keys}}
