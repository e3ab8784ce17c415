"""The workflow's waits on people (等待): task tokens answered, interrupted and handed out again.

The workflow waits on people with Step Functions task tokens that its steps keep in the incident
(``TOKEN#<kind>``). Answering one is ``SendTaskSuccess``; Step Functions accepts a token once, so
a double click, a retry or two people answering at once yields one answer and a 409 for the rest
— nothing is written for the loser. A token whose wait has already timed out (the workflow moved
on to escalate) is also a 409 that says so.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import (
    ConflictError,
    YuqingError,
)
from chalicelib.incidents.store import IncidentStore

# Errors from SendTaskSuccess meaning "this wait is over": the answer came too late or twice.
STALE_TOKEN = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


# How long an answer waits for an interrupted wait to be handed out again (two Lambda runs,
# cold starts included: ≈ 8 s in all, well inside API Gateway's 29 s).
REHANDOUT_POLLS = 32


REHANDOUT_POLL_SECONDS = 0.25


# Token statuses that still count as a wait on people (an interrupted one is handed out again).
OPEN_WAITS = frozenset({"waiting", "interrupted"})


class Waits(Protocol):
    """The state machine's waits (:class:`chalicelib.workflow.statemachine.StateMachine`)."""

    def succeed(self, token: str, output: Mapping[str, Any]) -> None: ...

    def fail(self, token: str, error: str, cause: str) -> None: ...


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


def wait_on_people(item: Mapping[str, Any]) -> bool:
    """A ``TOKEN#`` item someone must answer; ``TOKEN#timer#…`` is the workflow's own clock (the
    public-deadline timer, shown as the incident's ``public_deadline`` instead)."""
    sk = str(item["sk"])
    return sk.startswith("TOKEN#") and not sk.startswith("TOKEN#timer#")
