"""An answer to a wait goes to the wait, even when the step that handed it out was retried.

Step Functions refuses a token whose step was retried (a slow or failed invocation); the retry
hands out a new token for the same wait a moment later. A person who read the first token must
not get "the deadline passed" for it: the end-to-end kill test met exactly that on a loaded
machine (a 409 on a group's acknowledgement, its wait handed out twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import ConflictError, YuqingError
from chalicelib.core.settings import Settings
from chalicelib.incidents.store import IncidentStore
from chalicelib.incidents.tokens import TokenDesk

KIND = "ack#coordination-1"


class RetriedStep:
    """Step Functions as it stands after a retried step: it knows only ``live``; refusing
    another token, it lets the retry's ``KeepToken`` write ``live`` (if any) into the item."""

    def __init__(self, store: IncidentStore, live: str | None) -> None:
        self.store = store
        self.live = live
        self.answered: list[tuple[str, Mapping[str, Any]]] = []

    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        if token != self.live:
            if self.live is not None:
                self.store.update("c-1", f"TOKEN#{KIND}", {"token": self.live, "status": "waiting"})
            raise YuqingError("stale", details={"aws_error": "TaskTimedOut"})
        self.answered.append((token, output))

    def fail(self, token: str, error: str, cause: str) -> None:
        raise AssertionError("not used")


@pytest.fixture
def store(clients: AwsClients, settings: Settings) -> IncidentStore:
    store = IncidentStore(clients.table(settings.tables.incidents))
    store.put_once("c-1", f"TOKEN#{KIND}", {"token": "first", "status": "waiting"})
    return store


def test_an_answer_to_a_token_replaced_by_a_retry_goes_to_the_new_token(
    store: IncidentStore,
) -> None:
    machine = RetriedStep(store, live="second")
    TokenDesk(store, machine, sleep=lambda _: None).answer("c-1", KIND, {"action": "ack"})
    assert machine.answered == [("second", {"action": "ack"})]
    item = store.get("c-1", f"TOKEN#{KIND}")
    assert item is not None
    assert (item["status"], item["token"]) == ("answered", "second")


def test_an_answer_after_the_wait_is_really_over_is_a_409_that_says_so(
    store: IncidentStore,
) -> None:
    machine = RetriedStep(store, live=None)
    naps: list[float] = []
    with pytest.raises(ConflictError, match="deadline"):
        TokenDesk(store, machine, sleep=naps.append).answer("c-1", KIND, {"action": "ack"})
    assert machine.answered == []
    # It waited a bounded few seconds for a new token, well inside API Gateway's 29 s.
    assert 0 < sum(naps) <= 10
