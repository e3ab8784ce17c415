"""What people do to an incident through the API: decide (研判), acknowledge and complete tasks,
close, draft/approve/release statements (口径) — each validated, authorised for the caller's group
and answered into the running workflow through the :class:`~chalicelib.incidents.tokens.TokenDesk`.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from chalicelib.auth.models import Principal
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    Problem,
    ValidationError,
)
from chalicelib.core.observability import logger
from chalicelib.incidents.models import ITEM_ID, META
from chalicelib.incidents.store import IncidentStore
from chalicelib.incidents.tokens import TokenDesk
from chalicelib.plan.models import HQ_GROUP, LEVELS

MAX_NOTE = 2000


def _note(body: Mapping[str, Any], problems: list[Problem]) -> str:
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        problems.append(Problem("/note", f"must be a string of at most {MAX_NOTE} characters"))
        return ""
    return note


class Acknowledger(Protocol):
    def acknowledge_incident(
        self, incident_key: str, by: str, *, group: str | None
    ) -> list[str]: ...


def _no_publicity_group() -> str | None:
    return None


class IncidentActions:
    """Decisions, task actions, closing and statements, validated and answered into the workflow.

    Who may act is checked before the request body is: a caller who may not act gets 403 whatever
    they sent. The HQ decides, closes and approves; a task is answered by its group (or the HQ);
    statements (口径) are drafted, edited and released by the publicity group — ``publicity()``,
    the current plan's, None for none — or the HQ.

    Acting is acknowledging: once the HQ decides, its alerts for the incident stop repeating and
    escalating; once a group acknowledges or completes its task, so do the group's.
    """

    def __init__(
        self,
        store: IncidentStore,
        desk: TokenDesk,
        alerts: Acknowledger | None = None,
        clock: Clock = utcnow,
        publicity: Callable[[], str | None] = _no_publicity_group,
    ) -> None:
        self._store = store
        self._desk = desk
        self._alerts = alerts
        self._clock = clock
        self._publicity = publicity

    def _acknowledge(self, incident_id: str, who: Principal, group: str) -> None:
        if self._alerts is None:
            return
        # Best effort: the answer is already in the workflow; a failure here costs a repeated
        # alert, never the answer, so nothing may turn it into an error for the person acting.
        try:
            self._alerts.acknowledge_incident(incident_id, who.name, group=group)
        except Exception:
            logger.exception("acknowledging alerts failed", extra={"incident": incident_id})

    def decide(self, incident_id: str, who: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        """指挥部研判: ``{"action": "activate"|"dismiss", "level": "I".."IV", "note"}``."""
        problems: list[Problem] = []
        action = body.get("action")
        if action not in ("activate", "dismiss"):  # a tuple: an unhashable value is a 400
            problems.append(Problem("/action", "must be activate or dismiss"))
        level = body.get("level")
        if action == "activate" and level is not None and level not in LEVELS:
            problems.append(Problem("/level", "must be one of I, II, III, IV"))
        note = _note(body, problems)
        if problems:
            raise ValidationError("invalid decision", problems)
        self._store.require(incident_id)
        decision = {"action": action, "level": level, "note": note, "by": who.name}
        self._desk.answer(incident_id, "decision", decision)
        self._acknowledge(incident_id, who, HQ_GROUP)
        return {"incident_id": incident_id, "decision": decision}

    def task(
        self, incident_id: str, task_id: str, who: Principal, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A group acknowledges (``ack``) or completes (``complete``) its task."""
        task = self._store.get(incident_id, f"TASK#{task_id}")
        if task is None:
            raise NotFoundError(f"no task {task_id} on incident {incident_id}")
        if not who.acts_for(str(task["group"])):
            raise ForbiddenError(f"only the {task['group']} group or the HQ may act on this task")
        problems: list[Problem] = []
        action = body.get("action")
        if action not in ("ack", "complete"):
            problems.append(Problem("/action", "must be ack or complete"))
        note = _note(body, problems)
        if problems:
            raise ValidationError("invalid task action", problems)
        kind = f"{'ack' if action == 'ack' else 'done'}#{task_id}"
        now = iso(self._clock())
        self._desk.answer(incident_id, kind, {"action": action, "by": who.name, "note": note})
        self._acknowledge(incident_id, who, str(task["group"]))
        changes = (
            {"status": "acknowledged", "acked_at": now, "acked_by": who.name}
            if action == "ack"
            else {"status": "completed", "done_at": now, "completed_by": who.name, "note": note}
        )
        updated = self._store.update(incident_id, f"TASK#{task_id}", changes)
        # The timeline is what the HQ watches: who took up and finished which task, and when.
        title = f"{task['group']} {'确认任务' if action == 'ack' else '完成任务'}"
        data = {"group": str(task["group"]), "task": task_id, "action": action}
        self._timeline(incident_id, f"task#{task_id}#{action}", title, who, now, note, data)
        return updated

    def close(self, incident_id: str, who: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        problems: list[Problem] = []
        note = _note(body, problems)
        if problems:
            raise ValidationError("invalid close", problems)
        self._store.require(incident_id)
        self._desk.answer(incident_id, "close", {"by": who.name, "note": note})
        return {"incident_id": incident_id, "closing": {"by": who.name, "note": note}}

    # -- statements (口径) ------------------------------------------------------------------
    def _may_write_statements(self, who: Principal) -> None:
        """Drafting, editing and releasing speak for the organisation in public: the publicity
        group (宣传组) and the HQ only."""
        if who.is_hq:
            return
        group = self._publicity()
        if group is None:
            raise ForbiddenError("the plan names no publicity group: only the HQ writes statements")
        if not who.acts_for(group):
            raise ForbiddenError(
                f"only the publicity group ({group}) or the HQ may draft, edit and release "
                "statements"
            )

    def draft_statement(
        self, incident_id: str, who: Principal, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A new draft, or a new version of a draft. Approved text never changes: an edit of an
        approved (or released) statement is a new draft that ``revises`` it and needs the HQ's
        approval again, while the approved one stays on the record as it was."""
        self._may_write_statements(who)
        problems: list[Problem] = []
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > 5000:
            problems.append(Problem("/text", "must be non-empty text of at most 5000 characters"))
        sid = body.get("statement_id")
        if sid is not None and (not isinstance(sid, str) or not ITEM_ID.match(sid)):
            problems.append(Problem("/statement_id", "must match [A-Za-z0-9_-]{1,64}"))
        if problems:
            raise ValidationError("invalid statement", problems)
        assert isinstance(text, str)
        self._store.require(incident_id)
        now = iso(self._clock())
        version = {"text": text, "by": who.name, "at": now}
        existing = self._store.get(incident_id, f"STMT#{sid}") if sid else None
        if existing is None:
            return self._new_draft(incident_id, sid or "s" + uuid.uuid4().hex[:10], version)
        if existing.get("status") == "draft":
            return self._next_version(incident_id, existing, version)
        return self._revise(incident_id, existing, version)

    def _new_draft(
        self,
        incident_id: str,
        sid: str,
        version: Mapping[str, Any],
        revises: str | None = None,
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "statement_id": sid,
            "text": version["text"],
            "versions": [dict(version)],
            "status": "draft",
            "created_at": version["at"],
            "updated_at": version["at"],
        }
        if revises is not None:
            item["revises"] = revises
        if not self._store.put_once(incident_id, f"STMT#{sid}", item):
            raise ConflictError(f"statement {sid} was written at the same moment; reload")
        return {**item, "pk": incident_id, "sk": f"STMT#{sid}"}

    def _next_version(
        self, incident_id: str, draft: Mapping[str, Any], version: Mapping[str, Any]
    ) -> dict[str, Any]:
        if draft.get("text") == version["text"]:
            return dict(draft)  # a retried edit: nothing new to record
        return self._store.update(
            incident_id,
            str(draft["sk"]),
            {
                "text": version["text"],
                "versions": [*draft.get("versions", []), dict(version)],
                "updated_at": version["at"],
            },
            expect={"status": "draft", "updated_at": draft.get("updated_at")},
        )

    def _revise(
        self, incident_id: str, original: Mapping[str, Any], version: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The edit of a statement that is no longer a draft goes to the open draft revising it,
        else to a new one whose id derives from the original and the revision's number, so a
        retried or concurrent edit never makes two drafts of one revision."""
        sid = str(original["sk"]).split("#", 1)[-1]
        revisions = [
            s
            for s in self._store.items(incident_id)
            if str(s["sk"]).startswith("STMT#") and s.get("revises") == sid
        ]
        open_draft = next((s for s in revisions if s.get("status") == "draft"), None)
        if open_draft is not None:
            return self._next_version(incident_id, open_draft, version)
        digest = hashlib.sha256(f"{incident_id}#{sid}#r{len(revisions) + 1}".encode()).hexdigest()
        return self._new_draft(incident_id, "s" + digest[:10], version, revises=sid)

    def approve_statement(self, incident_id: str, sid: str, who: Principal) -> dict[str, Any]:
        """The HQ approves a draft. A draft that ``revises`` an approved, unreleased statement
        supersedes it: only the newest approved text can be released."""
        statement = self._statement(incident_id, sid)
        if statement.get("status") != "draft":
            raise ConflictError(f"statement {sid} is {statement.get('status')}, not a draft")
        now = iso(self._clock())
        updated = self._store.update(
            incident_id,
            f"STMT#{sid}",
            {"status": "approved", "approved_at": now, "approved_by": who.name},
            expect={"status": "draft", "updated_at": statement["updated_at"]},
        )
        revises = statement.get("revises")
        note = ""
        if revises:
            note = f"修订口径 {revises}"
            with contextlib.suppress(ConflictError):  # released meanwhile: it stays released
                self._store.update(
                    incident_id,
                    f"STMT#{revises}",
                    {"status": "superseded", "superseded_by": sid, "superseded_at": now},
                    expect={"status": "approved"},
                )
        self._timeline(incident_id, f"stmt#{sid}#approved", "批准口径", who, now, note)
        return updated

    def release_statement(
        self, incident_id: str, sid: str, who: Principal, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._may_write_statements(who)
        problems: list[Problem] = []
        channel = body.get("channel")
        if not isinstance(channel, str) or not 0 < len(channel) <= 100:
            problems.append(Problem("/channel", "must name where it was released (≤ 100 chars)"))
        link = body.get("link")
        if link is not None and (
            not isinstance(link, str) or not link.startswith(("http://", "https://"))
        ):
            problems.append(Problem("/link", "must be an http(s) URL"))
        if problems:
            raise ValidationError("invalid release", problems)
        statement = self._statement(incident_id, sid)
        if statement.get("status") == "superseded":
            raise ConflictError(
                f"statement {sid} was replaced by {statement.get('superseded_by')}; release that",
                details={"superseded_by": statement.get("superseded_by")},
            )
        if statement.get("status") != "approved":
            raise ConflictError(f"statement {sid} must be approved by the HQ before release")
        now = iso(self._clock())
        updated = self._store.update(
            incident_id,
            f"STMT#{sid}",
            {"status": "released", "released_at": now, "channel": channel, "link": link},
            expect={"status": "approved"},
        )
        self._timeline(incident_id, f"stmt#{sid}#released", f"发布口径（{channel}）", who, now)
        return updated

    def _statement(self, incident_id: str, sid: str) -> dict[str, Any]:
        statement = self._store.get(incident_id, f"STMT#{sid}")
        if statement is None:
            raise NotFoundError(f"no statement {sid} on incident {incident_id}")
        return statement

    def _timeline(
        self,
        incident_id: str,
        key: str,
        title: str,
        who: Principal,
        at: str,
        note: str = "",
        data: Mapping[str, Any] | None = None,
    ) -> None:
        meta = self._store.get(incident_id, META) or {}
        self._store.put_once(
            incident_id,
            f"TL#{key}",
            {
                "step": "implement",
                "title": title,
                "note": f"{who.name}：{note}" if note else who.name,
                "at": at,
                "drill": bool(meta.get("drill", False)),
                # Ids for a reader to name (the dashboard shows the plan's group names).
                "data": dict(data or {}),
            },
        )
