"""Posts in DynamoDB: one conditional write per new post, nothing for a repeat.

``pk`` is :attr:`Item.post_id`; the write is ``PutItem`` with ``attribute_not_exists(pk)``, so a
repeated crawl, a retried Lambda or a duplicate SQS delivery costs one failed condition and
writes nothing. See docs/data-model.md (``posts``) for the GSIs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.core.dynamo import from_item, to_item
from chalicelib.core.errors import ConflictError, aws_errors

# Posts age out of the table after this long (the TTL attribute ``expires_at``).
RETENTION_DAYS = 90


class PostStore:
    """Data access for the posts table; takes the boto3 ``Table`` in the constructor."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def put_new(self, record: Mapping[str, Any]) -> bool:
        """Write a post unless one with the same ``pk`` exists. True if it was new."""
        try:
            with aws_errors("posts table"):
                self._table.put_item(
                    Item=to_item(record), ConditionExpression="attribute_not_exists(pk)"
                )
        except ConflictError:
            return False
        return True

    def get(self, post_id: str) -> dict[str, Any] | None:
        with aws_errors("posts table"):
            item = self._table.get_item(Key={"pk": post_id}).get("Item")
        return from_item(item) if item else None
