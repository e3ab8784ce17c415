"""Idempotency keys: an answer is computed once and never taken over, however late the repeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import ConflictError
from chalicelib.core.idempotency import IdempotencyStore, KeyInProgressError, fingerprint
from chalicelib.core.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_finished_answer_is_returned_not_recomputed_even_much_later(
    clients: AwsClients, settings: Settings
) -> None:
    clock = Clock()
    store = IdempotencyStore(clients.table(settings.tables.idempotency), clock)
    runs: list[int] = []

    def work() -> dict[str, Any]:
        runs.append(1)
        return {"n": len(runs), "risk": 0.5}

    first = store.run("report#a", "key-00000001", {"title": "x"}, work)
    clock.now += timedelta(minutes=10)  # long past the abandoned-claim window
    again = store.run("report#a", "key-00000001", {"title": "x"}, work)
    assert again == first == {"n": 1, "risk": 0.5}
    assert len(runs) == 1
    with pytest.raises(ConflictError, match="different request body"):
        store.run("report#a", "key-00000001", {"title": "y"}, work)


def test_an_abandoned_claim_is_taken_over_and_a_live_one_is_not(
    clients: AwsClients, settings: Settings
) -> None:
    clock = Clock()
    table = clients.table(settings.tables.idempotency)
    table.put_item(
        Item={
            "pk": "report#a#key-00000002",
            "status": "in_progress",
            "fingerprint": fingerprint({"title": "x"}),
            "claimed_at": int(clock.now.timestamp()),
        }
    )
    store = IdempotencyStore(table, clock)
    # A live claim: the repeat is told to retry (the same body) or that it differs.
    with pytest.raises(KeyInProgressError, match="being processed"):
        store.run("report#a", "key-00000002", {"title": "x"}, lambda: {"ok": True})
    with pytest.raises(ConflictError, match="different request body"):
        store.run("report#a", "key-00000002", {"title": "y"}, lambda: {"ok": True})
    clock.now += timedelta(minutes=3)
    assert store.run("report#a", "key-00000002", {"title": "x"}, lambda: {"ok": True}) == {
        "ok": True
    }
