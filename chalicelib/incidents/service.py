"""What people do to an incident through the API: decide, acknowledge and complete tasks, close,
draft/approve/release statements (口径) — each answered into the running workflow.

The workflow waits on people with Step Functions task tokens that its steps keep in the incident
(``TOKEN#<kind>``). Answering one is ``SendTaskSuccess``; Step Functions accepts a token once, so
a double click, a retry or two people answering at once yields one answer and a 409 for the rest
— nothing is written for the loser. A token whose wait has already timed out (the workflow moved
on to escalate) is also a 409 that says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from chalicelib.auth.models import Principal
from chalicelib.core.clock import Clock, iso, parse_instant, utcnow
from chalicelib.core.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    Problem,
    ValidationError,
    YuqingError,
)
from chalicelib.core.observability import logger
from chalicelib.incidents.models import META, OPEN_STATUSES, STATUSES
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.models import HQ_GROUP, LEVELS

ITEM_ID = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")  # task and statement ids (sort-key parts)
# Errors from SendTaskSuccess meaning "this wait is over": the answer came too late or twice.
STALE_TOKEN = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}
# How long an answer waits for an interrupted wait to be handed out again (two Lambda runs,
# cold starts included: ≈ 8 s in all, well inside API Gateway's 29 s).
REHANDOUT_POLLS = 32
REHANDOUT_POLL_SECONDS = 0.25
# Token statuses that still count as a wait on people (an interrupted one is handed out again).
OPEN_WAITS = frozenset({"waiting", "interrupted"})
MAX_NOTE = 2000


class Waits(Protocol):
    """The state machine's waits (:class:`chalicelib.workflow.statemachine.StateMachine`)."""

    def succeed(self, token: str, output: Mapping[str, Any]) -> None: ...

    def fail(self, token: str, error: str, cause: str) -> None: ...


class Executions(Protocol):
    """An incident's execution as the board shows it (``StateMachine.describe``)."""

    def describe(self, incident_id: str) -> dict[str, Any] | None: ...


class TokenDesk:
    """Answers the workflow's waits on people, or interrupts one (a rise in level while the HQ is
    being waited on): both claim the token with a conditional write first, so an answer and an
    interruption never both reach Step Functions."""

    def __init__(
        self,
        store: IncidentStore,
        machine: Waits,
        clock: Clock = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._machine = machine
        self._clock = clock
        self._sleep = sleep

    def waiting(self, incident_id: str, kind: str) -> dict[str, Any]:
        item = self._store.get(incident_id, f"TOKEN#{kind}")
        for _ in range(REHANDOUT_POLLS):
            if item is None or item.get("status") != "interrupted":
                break
            # The wait was interrupted to restart with a new deadline; its new token usually
            # comes within a second. Answering that one beats a 409 for the HQ at its worst
            # moment.
            self._sleep(REHANDOUT_POLL_SECONDS)
            item = self._store.get(incident_id, f"TOKEN#{kind}")
        if item is None or item.get("status") != "waiting":
            raise ConflictError(f"the workflow is not waiting for {kind} on incident {incident_id}")
        return item

    def interrupt(
        self,
        incident_id: str,
        kind: str,
        error: str,
        cause: str,
        when: Callable[[Mapping[str, Any]], bool],
    ) -> bool:
        """Fail the waiting token with ``error`` (the state machine catches it by name) if
        ``when(token item)`` holds. False when there is nothing to interrupt: no wait, already
        answered or interrupted, or the wait is over."""
        sk = f"TOKEN#{kind}"
        item = self._store.get(incident_id, sk)
        if item is None or item.get("status") != "waiting" or not when(item):
            return False
        token = str(item["token"])
        try:
            self._store.update(
                incident_id,
                sk,
                {"status": "interrupted", "interrupted_at": iso(self._clock()), "cause": cause},
                expect={"status": "waiting", "token": token},
            )
        except ConflictError:
            return False  # answered, or handed out again, in between
        try:
            self._machine.fail(token, error, cause)
        except YuqingError as err:
            if err.details.get("aws_error") in STALE_TOKEN:
                # The wait was already over: say so, rather than leave it "interrupted".
                with contextlib.suppress(YuqingError):
                    self._store.update(
                        incident_id, sk, {"status": "expired"}, expect={"token": token}
                    )
                return False
            with contextlib.suppress(YuqingError):
                self._store.update(incident_id, sk, {"status": "waiting"}, expect={"token": token})
            raise
        return True

    def answer(self, incident_id: str, kind: str, output: Mapping[str, Any]) -> None:
        """Claim the waiting token (a conditional write: the one serialisation point), then
        hand the answer to Step Functions; a transient failure gives the claim back.

        Step Functions may refuse the token because the step that handed it out was retried
        (a slow or failed invocation): the retry hands out a new token for the same wait a
        moment later. The person's answer is for the wait, not for a token, so it goes to the
        new one; only when no new token comes (the deadline passed and the workflow moved on)
        is the answer a 409."""
        sk = f"TOKEN#{kind}"
        for attempt in range(2):
            token = self._claim(incident_id, kind, output)
            try:
                self._machine.succeed(token, output)
                return
            except YuqingError as err:
                if err.details.get("aws_error") not in STALE_TOKEN:
                    with contextlib.suppress(YuqingError):
                        self._store.update(
                            incident_id, sk, {"status": "waiting"}, expect={"token": token}
                        )
                    raise
                if attempt == 0 and self._handed_out_again(incident_id, kind, token):
                    continue
                raise ConflictError(
                    f"the deadline for this {kind} passed and the workflow moved on; reload",
                    details={"kind": kind},
                ) from err

    def _handed_out_again(self, incident_id: str, kind: str, stale: str) -> bool:
        """Whether the wait is handed out again with another token within a few seconds."""
        for _ in range(REHANDOUT_POLLS):
            item = self._store.get(incident_id, f"TOKEN#{kind}")
            if item is None or item.get("status") == "expired":
                return False
            if item.get("status") == "waiting" and str(item.get("token")) != stale:
                return True
            self._sleep(REHANDOUT_POLL_SECONDS)
        return False

    def _claim(self, incident_id: str, kind: str, output: Mapping[str, Any]) -> str:
        """Mark the waiting token answered; returns it. If the wait was handed out again between
        reading and claiming (a retried step, a restarted execution), the answer goes to the new
        wait; if someone else answered first, 409."""
        for _ in range(2):
            token = str(self.waiting(incident_id, kind)["token"])
            try:
                self._store.update(
                    incident_id,
                    f"TOKEN#{kind}",
                    {
                        "status": "answered",
                        "answered_at": iso(self._clock()),
                        "answer": dict(output),
                    },
                    expect={"status": "waiting", "token": token},
                )
            except ConflictError:
                continue
            return token
        raise ConflictError(
            f"this {kind} was already answered; reload and retry", details={"kind": kind}
        )


def _wait_on_people(item: Mapping[str, Any]) -> bool:
    """A ``TOKEN#`` item someone must answer; ``TOKEN#timer#…`` is the workflow's own clock (the
    public-deadline timer, shown as the incident's ``public_deadline`` instead)."""
    sk = str(item["sk"])
    return sk.startswith("TOKEN#") and not sk.startswith("TOKEN#timer#")


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
            "waiting_for": [
                {
                    "kind": str(i["sk"])[6:],
                    "since": i.get("since"),
                    "deadline_at": i.get("deadline_at"),
                    "group": i.get("group"),
                }
                for i in items
                # An interrupted wait is handed out again within a second: still waiting.
                if _wait_on_people(i) and i.get("status") in OPEN_WAITS
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
        if _wait_on_people(i) and i.get("status") in OPEN_WAITS and i.get("deadline_at")
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


class IncidentSweep:
    """Starts the workflow of incidents still ``open`` a while after they were opened, and
    rechecks the waits a rise may restart (:meth:`recheck_waits`).

    Opening an incident writes its record, then starts its execution; if the start failed (a
    Step Functions outage, a throttle), the record stays ``open`` — the workflow's first step
    moves it on. Starting is idempotent by execution name, so sweeping an incident whose
    execution exists changes nothing.
    """

    def __init__(
        self,
        store: IncidentStore,
        start: Any,
        clock: Clock = utcnow,
        recheck_wait: Callable[[Mapping[str, Any]], bool] | None = None,
    ) -> None:
        self._store = store
        self._start = start
        self._clock = clock
        self._recheck_wait = recheck_wait

    def recheck_waits(self) -> list[str]:
        """Give every incident awaiting the HQ's decision or in response to ``recheck_wait``
        (which restarts a wait its level has outgrown): the backstop for a rise whose
        interruption failed."""
        restarted: list[str] = []
        if self._recheck_wait is None:
            return restarted
        waiting = [
            item
            for item in self._store.by_statuses(("awaiting_decision", "active"), limit=100)
            if not item.get("workflow_error")  # its workflow failed: nothing waits any more
        ]
        for item in waiting:
            try:
                if self._recheck_wait(item):
                    restarted.append(str(item["pk"]))
            except YuqingError as err:
                logger.warning(
                    "sweep could not restart a wait",
                    extra={"incident": item["pk"], "error": err.code},
                )
        return restarted

    def run(self, grace_seconds: int = 60) -> list[str]:
        cutoff = iso(self._clock() - timedelta(seconds=grace_seconds))
        started = []
        for item in self._store.by_status("open", limit=100):
            if str(item.get("opened_at", "")) > cutoff or item.get("workflow_error"):
                continue
            try:
                self._start(str(item["pk"]), bool(item.get("drill", False)))
            except YuqingError as err:
                logger.warning(
                    "sweep could not start", extra={"incident": item["pk"], "error": err.code}
                )
                continue
            started.append(str(item["pk"]))
        return started
