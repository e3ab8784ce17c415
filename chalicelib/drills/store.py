"""Drill records in the incidents table (no table of their own).

- ``pk=drill#<drill_id>, sk=DRILL`` — the drill: ``name``, ``description``, ``bundled``,
  ``started_at``, ``by``, ``time_scale``, ``state`` (``running`` while events are pending, then
  ``injected``), ``incidents`` (a string set, added to as events open incidents), and
  ``status="drill"`` with ``opened_at=started_at``: the drill list is the ``drill`` partition of
  the ``by_status`` index, newest first. The incident board queries only incident statuses, so a
  drill never shows up there, and its ``sk`` is not ``META``, so nothing takes it for an incident.
- ``pk=drill#<drill_id>, sk=EV#<nnnn>`` — one per event: ``index``, ``at_minutes``, ``kind``,
  ``fields``, ``due_at``; ``injected_at``, ``incident_ids`` and ``post_ids`` once injected.

One ``Query(pk=drill#<id>)`` reads a whole drill.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from chalicelib.core.dynamo import query_all, to_item
from chalicelib.core.errors import ConflictError, aws_errors

DRILL = "DRILL"
LIST_STATUS = "drill"


def drill_pk(drill_id: str) -> str:
    return f"drill#{drill_id}"


def event_sk(index: int) -> str:
    return f"EV#{index:04d}"


class DrillStore:
    """Data access for drills; takes the incidents table's boto3 ``Table``."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def create(self, drill: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> bool:
        """Write the drill and its events; False if the drill exists (a repeated start)."""
        pk = drill_pk(str(drill["drill_id"]))
        try:
            with aws_errors("incidents table"):
                self._table.put_item(
                    Item=to_item({**drill, "pk": pk, "sk": DRILL, "status": LIST_STATUS}),
                    ConditionExpression="attribute_not_exists(pk)",
                )
        except ConflictError:
            return False
        with aws_errors("incidents table"), self._table.batch_writer() as batch:
            for event in events:
                batch.put_item(Item=to_item({**event, "pk": pk, "sk": event_sk(event["index"])}))
        return True

    def items(self, drill_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """(the drill, its events in index order); (None, []) if there is no such drill."""
        found = query_all(
            self._table,
            "incidents table",
            KeyConditionExpression=Key("pk").eq(drill_pk(drill_id)),
            ConsistentRead=True,
        )
        drill = next((i for i in found if i["sk"] == DRILL), None)
        events = sorted(
            (i for i in found if str(i["sk"]).startswith("EV#")), key=lambda i: i["index"]
        )
        return drill, events

    def mark_injected(
        self, drill_id: str, index: int, at: str, incident_ids: list[str], post_ids: list[str]
    ) -> bool:
        """Record an event as injected, once; False if it already was."""
        try:
            with aws_errors("incidents table"):
                self._table.update_item(
                    Key={"pk": drill_pk(drill_id), "sk": event_sk(index)},
                    UpdateExpression="SET injected_at = :at, incident_ids = :i, post_ids = :p",
                    ConditionExpression=(
                        "attribute_exists(pk) AND attribute_not_exists(injected_at)"
                    ),
                    ExpressionAttributeValues={":at": at, ":i": incident_ids, ":p": post_ids},
                )
        except ConflictError:
            return False
        return True

    def add_incidents(self, drill_id: str, incident_ids: Iterable[str]) -> None:
        ids = set(incident_ids)
        if not ids:
            return
        with aws_errors("incidents table"):
            self._table.update_item(
                Key={"pk": drill_pk(drill_id), "sk": DRILL},
                UpdateExpression="ADD incidents :ids",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":ids": ids},
            )

    def finish_injecting(self, drill_id: str, at: str) -> None:
        """``running`` → ``injected`` (once; a repeat changes nothing)."""
        try:
            with aws_errors("incidents table"):
                self._table.update_item(
                    Key={"pk": drill_pk(drill_id), "sk": DRILL},
                    UpdateExpression="SET #state = :done, injected_at = :at",
                    ConditionExpression="#state = :running",
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues={
                        ":done": "injected",
                        ":running": "running",
                        ":at": at,
                    },
                )
        except ConflictError:
            pass

    def recent(self, limit: int = 50, *, running_only: bool = False) -> list[dict[str, Any]]:
        """Drills newest first (the ``drill`` partition of ``by_status``)."""
        kwargs: dict[str, Any] = {
            "IndexName": "by_status",
            "KeyConditionExpression": Key("status").eq(LIST_STATUS),
            "ScanIndexForward": False,
        }
        if running_only:
            kwargs["FilterExpression"] = Attr("state").eq("running")
        return query_all(self._table, "incidents table", limit=limit, **kwargs)

    def started_between(self, start: str, end: str) -> list[dict[str, Any]]:
        """Drills started from ``start`` to ``end`` (ISO UTC, both included), oldest first."""
        return query_all(
            self._table,
            "incidents table",
            IndexName="by_status",
            KeyConditionExpression=Key("status").eq(LIST_STATUS)
            & Key("opened_at").between(start, end),
        )
