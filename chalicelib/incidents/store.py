"""Everything about one incident (舆情事件) under one partition key in the incidents table.

``Query(pk=<incident_id>)`` returns the whole incident in one call: the record (``META``), its
timeline (``TL#…``), the task tokens the workflow waits on (``TOKEN#…``), the groups' tasks
(``TASK#…``), statements (``STMT#…``) and evidence (``EVID#…``). Every write that could be
repeated by a retried Lambda or a double click is conditional, so a repeat writes nothing:

- a timeline entry's ``sk`` is derived from the logical event (step, round, task), not the time;
- a token is consumed with a condition on its state, so a decision cannot be taken twice;
- evidence is written once and never updated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.core.dynamo import from_item, furthest_reads, put_if_absent, query_all, to_item
from chalicelib.core.errors import ConflictError, NotFoundError, aws_errors
from chalicelib.incidents.models import META, STATUSES
from chalicelib.plan.defaults import LEVEL_RANK


class IncidentStore:
    """Data access for the incidents table; takes the boto3 ``Table`` in the constructor."""

    def __init__(self, table: Any) -> None:
        self._table = table

    # -- whole incident --------------------------------------------------------------------
    def items(self, incident_id: str) -> list[dict[str, Any]]:
        """Every item of the incident, all pages."""
        # Consistent: a step that runs right after a write (the opener, an API answer) must see it.
        return query_all(
            self._table,
            "incidents table",
            KeyConditionExpression=Key("pk").eq(incident_id),
            ConsistentRead=True,
        )

    def get(self, incident_id: str, sk: str = META) -> dict[str, Any] | None:
        with aws_errors("incidents table"):
            item = self._table.get_item(Key={"pk": incident_id, "sk": sk}, ConsistentRead=True).get(
                "Item"
            )
        return from_item(item) if item else None

    def require(self, incident_id: str) -> dict[str, Any]:
        record = self.get(incident_id)
        if record is None:
            raise NotFoundError(f"no incident {incident_id}")
        return record

    def stored_status(self, incident_id: str) -> str | None:
        """The incident's status as last written (consistent), or None if there is no incident."""
        with aws_errors("incidents table"):
            found = self._table.get_item(
                Key={"pk": incident_id, "sk": META},
                ProjectionExpression="#s",
                ExpressionAttributeNames={"#s": "status"},
                ConsistentRead=True,
            ).get("Item")
        return None if found is None else str(found.get("status", ""))

    # -- writes ------------------------------------------------------------------------------
    def put_once(self, incident_id: str, sk: str, attributes: Mapping[str, Any]) -> bool:
        """Write an item unless it exists. True if it was written now."""
        return put_if_absent(
            self._table, {**attributes, "pk": incident_id, "sk": sk}, "incidents table"
        )

    def create(self, record: Mapping[str, Any]) -> bool:
        """Write an incident's META unless the incident exists. True if it was written now."""
        return self.put_once(str(record["pk"]), META, record)

    def raise_level(self, incident_id: str, level: str) -> dict[str, Any] | None:
        """Raise the stored incident to ``level`` if it is below it; its META after the rise, or
        None when there is no incident or it stands at that level or higher already."""
        try:
            with aws_errors("incidents table"):
                raised = self._table.update_item(
                    Key={"pk": incident_id, "sk": META},
                    UpdateExpression="SET #level = :level, level_rank = :rank",
                    ConditionExpression="attribute_exists(pk) AND level_rank < :rank",
                    ExpressionAttributeNames={"#level": "level"},
                    ExpressionAttributeValues={":level": level, ":rank": LEVEL_RANK[level]},
                    ReturnValues="ALL_NEW",
                )
        except ConflictError:
            return None
        return dict(from_item(raised.get("Attributes") or {}))

    def update(
        self,
        incident_id: str,
        sk: str,
        changes: Mapping[str, Any],
        *,
        expect: Mapping[str, Any] | None = None,
        must_exist: bool = True,
    ) -> dict[str, Any]:
        """Set attributes, optionally only if others have the expected values; returns the item.

        A failed expectation raises :class:`ConflictError` (409): the caller's view of the item
        is stale, e.g. a second decision on an incident already decided.
        """
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets = []
        for index, (name, value) in enumerate(changes.items()):
            names[f"#s{index}"] = name
            values[f":s{index}"] = to_item(value)
            sets.append(f"#s{index} = :s{index}")
        conditions = ["attribute_exists(pk)"] if must_exist else []
        for index, (name, value) in enumerate((expect or {}).items()):
            names[f"#e{index}"] = name
            if value is None:
                conditions.append(f"attribute_not_exists(#e{index})")
            else:
                values[f":e{index}"] = to_item(value)
                conditions.append(f"#e{index} = :e{index}")
        kwargs: dict[str, Any] = {
            "Key": {"pk": incident_id, "sk": sk},
            "UpdateExpression": "SET " + ", ".join(sets),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        if conditions:
            kwargs["ConditionExpression"] = " AND ".join(conditions)
        with aws_errors(f"incident {incident_id}"):
            result = self._table.update_item(**kwargs)
        return dict(from_item(result["Attributes"]))

    # -- the incident board ----------------------------------------------------------------
    def by_status(self, status: str, limit: int = 100) -> list[dict[str, Any]]:
        """Incidents with ``status``, newest first (GSI ``by_status``)."""
        with aws_errors("incidents table"):
            page = self._table.query(
                IndexName="by_status",
                KeyConditionExpression=Key("status").eq(status),
                ScanIndexForward=False,
                Limit=limit,
            )
        return [from_item(i) for i in page.get("Items", [])]

    def by_statuses(self, statuses: Iterable[str], limit: int = 100) -> list[dict[str, Any]]:
        """Incidents with any of ``statuses``, each once, at the newest status read.

        One Query per status, one after the other: an incident the workflow moves on between two
        of them (reported → awaiting_decision) is read under both. Statuses only move forward
        through :data:`STATUSES`, so the later one is the newer read.
        """
        return furthest_reads((self.by_status(s, limit=limit) for s in statuses), _lifecycle)

    def opened_between(self, statuses: Iterable[str], start: str, end: str) -> list[dict[str, Any]]:
        """Incidents with any of ``statuses`` opened from ``start`` to ``end`` (ISO UTC, both
        included: the caller compares instants), each once, all pages (the 周报 and 月报)."""
        return furthest_reads(
            (
                query_all(
                    self._table,
                    "incidents table",
                    IndexName="by_status",
                    KeyConditionExpression=Key("status").eq(s)
                    & Key("opened_at").between(start, end),
                )
                for s in statuses
            ),
            _lifecycle,
        )


def _lifecycle(item: Mapping[str, Any]) -> int:
    """How far along :data:`STATUSES` an incident record is (an unknown status: first)."""
    status = item.get("status")
    return STATUSES.index(status) if status in STATUSES else -1
