"""Stored briefings in the trends table: ``pk=briefing``, ``sk=<date>`` (see docs/data-model.md);
the weekly and monthly ones (舆情周报, 月报) under ``pk=briefing#week``/``briefing#month``,
``sk=<YYYY-Www>``/``<YYYY-MM>``, so the daily listing never shows them.

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
    """Data access for briefings; takes the trends table's boto3 ``Table``. ``pk`` is the
    partition of one kind of briefing, ``key`` the field of its data that is the sort key."""

    def __init__(self, table: Any, pk: str = PK, key: str = "date") -> None:
        self._table = table
        self._pk = pk
        self._key = key

    def _item(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "pk": self._pk,
            "sk": str(data[self._key]),
            "built_at": str(data["built_at"]),
            "doc": json.dumps(data, ensure_ascii=False),
        }

    def get(self, day: str) -> dict[str, Any] | None:
        with aws_errors("trends table"):
            item = self._table.get_item(Key={"pk": self._pk, "sk": day}, ConsistentRead=True).get(
                "Item"
            )
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
                Key={"pk": self._pk, "sk": day},
                ProjectionExpression="mailed_at",
                ConsistentRead=True,
            ).get("Item")
        return str(item["mailed_at"]) if item and item.get("mailed_at") else None

    def mark_mailed(self, day: str, at: str) -> None:
        """Mark the stored briefing of ``day`` as mailed (nothing if none is stored)."""
        try:
            with aws_errors("trends table"):
                self._table.update_item(
                    Key={"pk": self._pk, "sk": day},
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
                KeyConditionExpression=Key("pk").eq(self._pk),
                ProjectionExpression="sk, built_at",
                ScanIndexForward=False,
                Limit=limit,
            )
        return [
            {"date": str(i["sk"]), "built_at": str(i.get("built_at", ""))}
            for i in page.get("Items", [])
        ]
