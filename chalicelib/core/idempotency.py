"""Idempotency keys for HTTP requests: the same key twice gets the same answer, once.

A client that retries a ``POST`` (a flaky phone network on a bad night) sends the same
``Idempotency-Key``; the first request claims the key with a conditional write *before* doing
the work, stores its answer, and every repeat gets that answer without doing the work again —
however many repeats race the first (the claim is one atomic write; decision 76).

A repeat that arrives while the first is still running gets 409 with ``"error": "in_progress"``
and ``Retry-After: 1``: retrying then gets the first answer. Reusing a key with a different body
is 409 ``"conflict"``, and retrying cannot help. (The IETF draft on the Idempotency-Key header
answers concurrent repeats the same way; waiting here for the first to finish would hold a
Lambda and a connection per repeat.) Records expire after a day (TTL ``expires_at``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.dynamo import from_item, to_item
from chalicelib.core.errors import ConflictError, Problem, ValidationError, aws_errors

KEY = re.compile(r"\A[A-Za-z0-9._:-]{8,128}\Z")
TTL_SECONDS = 24 * 3600
# A claim older than this is abandoned (the first request died): a repeat may take it over.
STALE_SECONDS = 120


def check_key(key: str) -> str:
    if not KEY.match(key):
        raise ValidationError(
            "invalid Idempotency-Key",
            [Problem("/headers/Idempotency-Key", "8–128 characters of A-Z a-z 0-9 . _ : -")],
        )
    return key


def fingerprint(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()


class KeyInProgressError(ConflictError):
    """The first request with this key is still being worked on: retry shortly."""

    code = "in_progress"
    retry_after = 1


class IdempotencyStore:
    """Data access for the idempotency table; takes the boto3 ``Table`` in the constructor."""

    def __init__(self, table: Any, clock: Clock = utcnow) -> None:
        self._table = table
        self._clock = clock

    def run(
        self, scope: str, key: str, body: Mapping[str, Any], work: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """``work()``'s answer, computed at most once per (scope, key)."""
        pk = f"{scope}#{check_key(key)}"
        digest = fingerprint(body)
        # Twice: a claim can vanish between our refused write and our read (the first request
        # failed and released it), and then this request may do the work itself.
        for _ in range(2):
            if self._claim(pk, digest):
                return self._work(pk, work)
            answer = self._repeat(pk, digest)
            if answer is not None:
                return answer
        raise KeyInProgressError("this Idempotency-Key is being processed; retry shortly")

    def _claim(self, pk: str, digest: str) -> bool:
        """Take the key with one conditional write; False if someone else holds it."""
        now = int(self._clock().timestamp())
        try:
            with aws_errors("idempotency table"):
                self._table.put_item(
                    Item={
                        "pk": pk,
                        "status": "in_progress",
                        "fingerprint": digest,
                        "claimed_at": now,
                        "expires_at": now + TTL_SECONDS,
                    },
                    # Only an abandoned claim may be taken over, never a finished answer.
                    ConditionExpression=(
                        "attribute_not_exists(pk) OR (#s = :in_progress AND claimed_at < :stale)"
                    ),
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={
                        ":stale": now - STALE_SECONDS,
                        ":in_progress": "in_progress",
                    },
                )
        except ConflictError:
            return False
        return True

    def _work(self, pk: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            answer = work()
        except Exception:
            # Release the claim so a retry can do the work — but never delete an answer (a
            # request that took over a claim this one held too long may have finished).
            try:
                with aws_errors("idempotency table"):
                    self._table.delete_item(
                        Key={"pk": pk},
                        ConditionExpression="#s = :in_progress",
                        ExpressionAttributeNames={"#s": "status"},
                        ExpressionAttributeValues={":in_progress": "in_progress"},
                    )
            except ConflictError:
                pass
            raise
        with aws_errors("idempotency table"):
            self._table.update_item(
                Key={"pk": pk},
                UpdateExpression="SET #s = :done, answer = :answer",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":done": "done", ":answer": to_item(answer)},
            )
        return answer

    def _repeat(self, pk: str, digest: str) -> dict[str, Any] | None:
        """The first answer; None if the claim is gone (claim again); 409 while it runs."""
        with aws_errors("idempotency table"):
            item = self._table.get_item(Key={"pk": pk}, ConsistentRead=True).get("Item")
        if item is None:
            return None
        if item.get("fingerprint") != digest:
            raise ConflictError("this Idempotency-Key was used with a different request body")
        if item.get("status") != "done":
            raise KeyInProgressError("this Idempotency-Key is being processed; retry shortly")
        return dict(from_item(item["answer"]))
