"""The outbox table and the daily SMS counter: every state change is one conditional write.

- ``put_new``: ``attribute_not_exists(pk)`` — the message id is the dedup key, so a repeated
  event writes nothing.
- ``claim``: a pending message is leased (``next_attempt_at`` moved forward, conditional on the
  value read), so two dispatchers never publish the same message at once.
- ``mark_published`` / ``mark_failed``: conditional on ``status = pending``, so a message is
  marked sent once, and a failed publish stays pending with ``attempts`` and ``next_attempt_at``.

The SMS counter lives in the system table (``pk=sms#<day>``), one atomic ``ADD`` per message.
:class:`PlanCache` reads the plans alerts are sent under, each version once per instance.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from chalicelib.alerts.models import Backlog, Status
from chalicelib.core.dynamo import from_item, furthest_reads, put_if_absent, query_all, to_item
from chalicelib.core.errors import ConflictError, UnavailableError, aws_errors
from chalicelib.plan.models import PlanView
from chalicelib.plan.store import PlanStore

_STATUS = {"#s": "status"}


class OutboxStore:
    """Data access for the outbox table; takes the boto3 ``Table`` in the constructor."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, message_id: str) -> dict[str, Any] | None:
        with aws_errors("outbox table"):
            item = self._table.get_item(Key={"pk": message_id}, ConsistentRead=True).get("Item")
        return dict(from_item(item)) if item else None

    def put_new(self, item: Mapping[str, Any]) -> bool:
        return put_if_absent(self._table, item, "outbox table")

    def _update(self, message_id: str, **kwargs: Any) -> dict[str, Any] | None:
        """A conditional update; None when the condition failed (someone else got there)."""
        try:
            with aws_errors("outbox table"):
                result = self._table.update_item(
                    Key={"pk": message_id}, ReturnValues="ALL_NEW", **kwargs
                )
        except ConflictError:
            return None
        return dict(from_item(result["Attributes"]))

    def claim(self, message_id: str, seen_next: str, lease_until: str) -> dict[str, Any] | None:
        return self._update(
            message_id,
            UpdateExpression="SET next_attempt_at = :lease",
            ConditionExpression="#s = :pending AND next_attempt_at = :seen",
            ExpressionAttributeNames=_STATUS,
            ExpressionAttributeValues={
                ":pending": Status.PENDING.value,
                ":seen": seen_next,
                ":lease": lease_until,
            },
        )

    def mark_published(
        self, message_id: str, *, status: Status, sns_message_id: str, sent_at: str, next_at: str
    ) -> dict[str, Any] | None:
        return self._update(
            message_id,
            UpdateExpression=(
                "SET #s = :status, sns_message_id = :mid, sent_at = :at, next_attempt_at = :next "
                "ADD attempts :one"
            ),
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames=_STATUS,
            ExpressionAttributeValues={
                ":status": status.value,
                ":pending": Status.PENDING.value,
                ":mid": sns_message_id,
                ":at": sent_at,
                ":next": next_at,
                ":one": 1,
            },
        )

    def mark_failed(self, message_id: str, *, error: str, next_at: str) -> dict[str, Any] | None:
        return self._update(
            message_id,
            UpdateExpression="SET next_attempt_at = :next, last_error = :err ADD attempts :one",
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames=_STATUS,
            ExpressionAttributeValues={
                ":pending": Status.PENDING.value,
                ":next": next_at,
                ":err": error[:200],
                ":one": 1,
            },
        )

    def advance_follow_up(
        self, message_id: str, *, seen: Mapping[str, int], changes: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Record repeats/escalation done, conditional on the counters read (one winner)."""
        names = {**_STATUS, **{f"#{k}": k for k in changes}}
        values = {f":{k}": v for k, v in changes.items()}
        values.update({f":seen_{k}": v for k, v in seen.items()})
        values[":awaiting"] = Status.AWAITING_ACK.value
        condition = " AND ".join(["#s = :awaiting", *(f"{k} = :seen_{k}" for k in seen)])
        return self._update(
            message_id,
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in changes),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item(values),
        )

    def acknowledge(self, message_id: str, *, by: str, at: str) -> dict[str, Any] | None:
        """Awaiting → acked; a still-pending message keeps its status but records the ack."""
        done = self._update(
            message_id,
            UpdateExpression="SET #s = :acked, acked_by = :by, acked_at = :at",
            ConditionExpression="#s = :awaiting",
            ExpressionAttributeNames=_STATUS,
            ExpressionAttributeValues={
                ":acked": Status.ACKED.value,
                ":awaiting": Status.AWAITING_ACK.value,
                ":by": by,
                ":at": at,
            },
        )
        if done is not None:
            return done
        return self._update(
            message_id,
            UpdateExpression="SET acked_by = :by, acked_at = :at",
            ConditionExpression="#s = :pending AND attribute_not_exists(acked_at)",
            ExpressionAttributeNames=_STATUS,
            ExpressionAttributeValues={":pending": Status.PENDING.value, ":by": by, ":at": at},
        )

    def due(self, status: Status, now: str, page: int = 100) -> Iterator[dict[str, Any]]:
        """Messages in ``status`` whose ``next_attempt_at`` has come, oldest first, read a page
        at a time as the caller consumes them (a dispatcher that stops early reads no more)."""
        request: dict[str, Any] = {
            "IndexName": "by_status",
            "KeyConditionExpression": "#s = :s AND next_attempt_at <= :now",
            "ExpressionAttributeNames": _STATUS,
            "ExpressionAttributeValues": {":s": status.value, ":now": now},
            "Limit": page,
        }
        while True:
            with aws_errors("outbox table"):
                answer = self._table.query(**request)
            yield from (from_item(i) for i in answer.get("Items", []))
            if not answer.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def backlog(self) -> Backlog:
        """Every pending message's creation time, read through the ``by_status`` index (only
        the two attributes): normally none, a few hundred after an hour without SNS."""
        items = query_all(
            self._table,
            "outbox table",
            IndexName="by_status",
            KeyConditionExpression="#s = :s",
            ProjectionExpression="pk, created_at",
            ExpressionAttributeNames=_STATUS,
            ExpressionAttributeValues={":s": Status.PENDING.value},
        )
        return Backlog.of([str(i["created_at"]) for i in items if i.get("created_at")])

    def by_incident(self, incident_key: str, limit: int = 500) -> list[dict[str, Any]]:
        return self._query("by_incident", "incident_id = :k", {":k": incident_key}, limit)

    def by_status(self, status: Status, limit: int = 500) -> list[dict[str, Any]]:
        return self._query("by_status", "#s = :k", {":k": status.value}, limit, _STATUS)

    def by_statuses(self, statuses: Iterable[Status], limit: int = 500) -> list[dict[str, Any]]:
        """Messages with any of ``statuses``, each once, at the newest status read.

        One Query per status, one after the other: a message dispatch moves on between two of
        them (pending → awaiting_ack) is read under both; the later status is the newer read
        (decision 60, as for the incident board).
        """
        return furthest_reads((self.by_status(s, limit=limit) for s in statuses), _progress)

    def _query(
        self,
        index: str,
        condition: str,
        values: dict[str, Any],
        limit: int,
        names: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        return query_all(self._table, "outbox table", limit=limit, **kwargs)


def _progress(item: Mapping[str, Any]) -> int:
    try:
        return Status(str(item.get("status"))).progress
    except ValueError:
        return -1


class SmsCounter:
    """SMS recipients counted per day in the system table (``pk=sms#YYYY-MM-DD``)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def try_spend(self, day: str, count: int, cap: int) -> bool:
        """Add ``count`` unless the day's total would pass ``cap``; True if it was added."""
        if count <= 0:
            return True
        if count > cap:
            return False
        try:
            with aws_errors("system table"):
                self._table.update_item(
                    Key={"pk": f"sms#{day}"},
                    UpdateExpression="ADD sent :n",
                    ConditionExpression="attribute_not_exists(sent) OR sent <= :room",
                    ExpressionAttributeValues={":n": count, ":room": cap - count},
                )
        except ConflictError:
            return False
        return True

    def spent(self, day: str) -> int:
        with aws_errors("system table"):
            item = self._table.get_item(Key={"pk": f"sms#{day}"}).get("Item")
        return int(item["sent"]) if item else 0


class SystemMarks:
    """Small markers in the system table: the last plan version reconciled with SNS."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def reconciled_version(self) -> int:
        with aws_errors("system table"):
            item = self._table.get_item(Key={"pk": "plan_reconciled"}).get("Item")
        return int(item["version"]) if item else 0

    def set_reconciled_version(self, version: int, at: str) -> None:
        with aws_errors("system table"):
            self._table.put_item(
                Item={"pk": "plan_reconciled", "version": version, "reconciled_at": at}
            )


class PlanCache:
    """The plan an alert is sent under (the latest), and the plan an outbox message was sent
    under (by its ``plan_version``), each read once per instance."""

    def __init__(self, plans: PlanStore) -> None:
        self.store = plans
        self._views: dict[int, PlanView] = {}

    def current(self) -> PlanView:
        latest = self.store.latest()
        if latest is None:
            raise UnavailableError("no plan is stored yet; alerts need the plan's groups")
        view = PlanView(latest.doc, latest.version)
        self._views[latest.version] = view
        return view

    def version(self, version: int) -> PlanView | None:
        if version not in self._views:
            found = self.store.get(version)
            if found is None:
                return None
            self._views[version] = PlanView(found.doc, found.version)
        return self._views[version]
