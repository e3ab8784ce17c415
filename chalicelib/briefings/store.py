"""Stored briefings in the trends table: ``pk=briefing``, ``sk=<date>`` (see docs/data-model.md).

The briefing is stored as its data (JSON text, like the plan: no float/Decimal round trip), not
as a rendered file: HTML and Word are rendered on request from it. The first write of a date is
conditional (``attribute_not_exists``), so two ticks store it once; ``replace`` is the HQ's
explicit rebuild. ``mailed_at`` marks a date whose e-mail is in the outbox, so the schedule stops
trying it (a rebuild drops the mark; the outbox still sends nothing twice). The list of dates
is one ``Query`` on ``pk=briefing``, newest first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.core.dynamo import put_if_absent
from chalicelib.core.errors import ConflictError, aws_errors

PK = "briefing"


class BriefingStore:
    """Data access for briefings; takes the trends table's boto3 ``Table``."""

    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _item(data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "pk": PK,
            "sk": str(data["date"]),
            "built_at": str(data["built_at"]),
            "doc": json.dumps(data, ensure_ascii=False),
        }

    def get(self, day: str) -> dict[str, Any] | None:
        with aws_errors("trends table"):
            item = self._table.get_item(Key={"pk": PK, "sk": day}, ConsistentRead=True).get("Item")
        return json.loads(str(item["doc"])) if item else None

    def put_new(self, data: Mapping[str, Any]) -> bool:
        """Store the date's briefing unless one is stored; True if written now."""
        return put_if_absent(self._table, self._item(data), "trends table")

    def replace(self, data: Mapping[str, Any]) -> None:
        with aws_errors("trends table"):
            self._table.put_item(Item=self._item(data))

    def mailed_at(self, day: str) -> str | None:
        """When the date's e-mail went into the outbox, if it has (and the briefing is stored)."""
        with aws_errors("trends table"):
            item = self._table.get_item(
                Key={"pk": PK, "sk": day}, ProjectionExpression="mailed_at", ConsistentRead=True
            ).get("Item")
        return str(item["mailed_at"]) if item and item.get("mailed_at") else None

    def mark_mailed(self, day: str, at: str) -> None:
        """Mark the stored briefing of ``day`` as mailed (nothing if none is stored)."""
        try:
            with aws_errors("trends table"):
                self._table.update_item(
                    Key={"pk": PK, "sk": day},
                    UpdateExpression="SET mailed_at = :at",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":at": at},
                )
        except ConflictError:
            pass  # not stored (yet): the next tick marks it

    def dates(self, limit: int = 400) -> list[dict[str, str]]:
        """Stored briefings, newest first: date and when each was built."""
        with aws_errors("trends table"):
            page = self._table.query(
                KeyConditionExpression=Key("pk").eq(PK),
                ProjectionExpression="sk, built_at",
                ScanIndexForward=False,
                Limit=limit,
            )
        return [
            {"date": str(i["sk"]), "built_at": str(i.get("built_at", ""))}
            for i in page.get("Items", [])
        ]
