"""The sources table: one item per source (``pk=<source id>``), definition and health apart.

``definition`` (what the user set), ``health`` (what the crawler found), ``validators`` (ETag /
Last-Modified for the next conditional GET), ``next_due_at`` and the crawl under way
(``attempt_due``, ``attempt_at``) are separate attributes updated by separate ``UpdateItem``
calls, so an edit through the API and a crawl finishing at the same moment never overwrite each
other. See docs/data-model.md (``sources``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chalicelib.core.dynamo import from_item, to_item
from chalicelib.core.errors import ConflictError, NotFoundError, ValidationError, aws_errors
from chalicelib.core.observability import logger
from chalicelib.sources.fetcher import Validators
from chalicelib.sources.models import SourceDefinition, SourceHealth, parse_definition


@dataclass
class SourceRecord:
    definition: SourceDefinition
    health: SourceHealth
    validators: Validators
    next_due_at: str | None
    created_at: str | None
    updated_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.definition.as_dict(),
            "fetch_url": self.definition.fetch_url,
            "next_due_at": self.next_due_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "health": self.health.as_dict(),
        }


def _record(item: dict[str, Any]) -> SourceRecord:
    data = from_item(item)
    validators = data.get("validators") or {}
    return SourceRecord(
        definition=parse_definition(data.get("definition") or {}, data["pk"]),
        health=SourceHealth.from_dict(data.get("health")),
        validators=Validators(validators.get("etag"), validators.get("last_modified")),
        next_due_at=data.get("next_due_at"),
        created_at=data.get("created_at"),
        updated_at=data.get("updated_at"),
    )


class SourceStore:
    """Data access for the sources table; takes the boto3 ``Table`` in the constructor."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def create(self, definition: SourceDefinition, now: str) -> SourceRecord:
        item = {
            "pk": definition.id,
            "definition": definition.as_dict(),
            "health": SourceHealth().as_dict(),
            "next_due_at": now,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with aws_errors("sources table"):
                self._table.put_item(
                    Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
                )
        except ConflictError:
            raise ConflictError(f"source {definition.id!r} already exists") from None
        return _record(item)

    def replace_definition(self, definition: SourceDefinition, now: str) -> SourceRecord:
        try:
            with aws_errors("sources table"):
                answer = self._table.update_item(
                    Key={"pk": definition.id},
                    UpdateExpression="SET #d = :d, updated_at = :now",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeNames={"#d": "definition"},
                    ExpressionAttributeValues=to_item({":d": definition.as_dict(), ":now": now}),
                    ReturnValues="ALL_NEW",
                )
        except ConflictError:
            raise NotFoundError(f"no source {definition.id!r}") from None
        return _record(answer["Attributes"])

    def get(self, source_id: str) -> SourceRecord | None:
        with aws_errors("sources table"):
            item = self._table.get_item(Key={"pk": source_id}, ConsistentRead=True).get("Item")
        return _record(item) if item else None

    def require(self, source_id: str) -> SourceRecord:
        record = self.get(source_id)
        if record is None:
            raise NotFoundError(f"no source {source_id!r}")
        return record

    def all(self) -> Iterator[SourceRecord]:
        """Every source (a Scan: the table holds tens to hundreds of items)."""
        kwargs: dict[str, Any] = {}
        while True:
            with aws_errors("sources table"):
                page = self._table.scan(**kwargs)
            for item in page.get("Items", []):
                try:
                    yield _record(item)
                except ValidationError as err:  # a definition stored by an older version
                    logger.error(
                        "stored source definition no longer valid",
                        extra={"source": item.get("pk"), "problems": err.details},
                    )
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def delete(self, source_id: str) -> None:
        try:
            with aws_errors("sources table"):
                self._table.delete_item(
                    Key={"pk": source_id}, ConditionExpression="attribute_exists(pk)"
                )
        except ConflictError:
            raise NotFoundError(f"no source {source_id!r}") from None

    def record_crawl(
        self, source_id: str, health: SourceHealth, validators: Validators | None
    ) -> bool:
        """Store a crawl's health (and new validators); False if the source is gone."""
        names = {"#h": "health"}
        values: dict[str, Any] = {":h": health.as_dict()}
        expression = "SET #h = :h"
        if validators is not None:
            names["#v"] = "validators"
            values[":v"] = {"etag": validators.etag, "last_modified": validators.last_modified}
            expression += ", #v = :v"
        try:
            with aws_errors("sources table"):
                self._table.update_item(
                    Key={"pk": source_id},
                    UpdateExpression=expression,
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_item(values),
                )
        except ConflictError:
            return False
        return True

    def claim_attempt(self, source_id: str, due_at: str, now: str, stale_before: str) -> bool:
        """Take the crawl of ``due_at`` for this worker: False if another delivery of the same
        message holds it (a claim taken before ``stale_before`` is abandoned and may be taken
        over) or a later due time was already taken."""
        try:
            with aws_errors("sources table"):
                self._table.update_item(
                    Key={"pk": source_id},
                    UpdateExpression="SET attempt_due = :due, attempt_at = :now",
                    ConditionExpression=(
                        "attribute_exists(pk) AND (attribute_not_exists(attempt_due)"
                        " OR attempt_due < :due"
                        " OR (attempt_due = :due AND attempt_at < :stale))"
                    ),
                    ExpressionAttributeValues={":due": due_at, ":now": now, ":stale": stale_before},
                )
        except ConflictError:
            return False
        return True

    def release_attempt(self, source_id: str, due_at: str) -> None:
        """Give the claim of ``due_at`` back (the crawl failed on our side: SQS redelivers)."""
        try:
            with aws_errors("sources table"):
                self._table.update_item(
                    Key={"pk": source_id},
                    UpdateExpression="REMOVE attempt_due, attempt_at",
                    ConditionExpression="attempt_due = :due",
                    ExpressionAttributeValues={":due": due_at},
                )
        except ConflictError:
            pass

    def claim(self, source_id: str, expected_due: str | None, next_due: str) -> bool:
        """Move ``next_due_at`` on, only if nobody else did: one dispatch per due time."""
        condition = "attribute_exists(pk) AND "
        values: dict[str, Any] = {":next": next_due}
        if expected_due is None:
            condition += "attribute_not_exists(next_due_at)"
        else:
            condition += "next_due_at = :expected"
            values[":expected"] = expected_due
        try:
            with aws_errors("sources table"):
                self._table.update_item(
                    Key={"pk": source_id},
                    UpdateExpression="SET next_due_at = :next",
                    ConditionExpression=condition,
                    ExpressionAttributeValues=values,
                )
        except ConflictError:
            return False
        return True
