"""Plan versions in DynamoDB: ``pk="plan"``, ``sk="v#NNNNNN"``, the document as a JSON string.

The document is stored as text (``doc``), not as a DynamoDB map: no float/Decimal round trip,
key order and numbers come back exactly as saved, and 400 KB is far more than a plan needs.
Writing version n+1 is conditional on its key not existing, so of two concurrent saves based on
version n exactly one wins and the other gets :class:`ConflictError` (409).

A version is read through :func:`~chalicelib.plan.validation.bounded_plan`: a plan saved before
today's bounds with, say, a triage deadline of 10**13 minutes is used with the nearest bound
(and a warning), rather than failing every workflow that runs under it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.core.dynamo import query_all
from chalicelib.core.errors import ConflictError, aws_errors
from chalicelib.core.observability import logger
from chalicelib.plan.validation import bounded_plan

PK = "plan"


def version_key(version: int) -> str:
    return f"v#{version:06d}"


@dataclass(frozen=True)
class PlanVersion:
    version: int
    doc: dict[str, Any]
    created_at: str
    created_by: str
    summary: dict[str, Any]
    # Why it was saved, and the incidents whose evaluation it answers (预案修订).
    reason: str = ""
    answers: tuple[str, ...] = ()

    def meta(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "summary": self.summary,
            "reason": self.reason,
            "answers": list(self.answers),
        }


# Versions already reported as out of bounds by this process: one warning each, not one per read.
_warned: set[int] = set()


def _from_item(item: dict[str, Any], with_doc: bool = True) -> PlanVersion:
    doc: dict[str, Any] = {}
    if with_doc:
        doc, moved = bounded_plan(json.loads(item["doc"]))
        if moved and int(item["version"]) not in _warned:
            _warned.add(int(item["version"]))
            logger.warning(
                "plan version has numbers beyond their bounds; using the nearest bound",
                extra={
                    "version": int(item["version"]),
                    "problems": [p.as_dict() for p in moved],
                },
            )
    return PlanVersion(
        version=int(item["version"]),
        doc=doc,
        created_at=str(item["created_at"]),
        created_by=str(item["created_by"]),
        summary=json.loads(item.get("summary") or "{}"),
        reason=str(item.get("reason") or ""),
        answers=tuple(str(a) for a in item.get("answers") or ()),
    )


class PlanStore:
    """Data access for the plan table; takes the boto3 ``Table`` in the constructor."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def latest(self) -> PlanVersion | None:
        with aws_errors("plan table"):
            items = self._table.query(
                KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
                ExpressionAttributeValues={":pk": PK, ":v": "v#"},
                ScanIndexForward=False,
                Limit=1,
            ).get("Items", [])
        return _from_item(items[0]) if items else None

    def get(self, version: int) -> PlanVersion | None:
        with aws_errors("plan table"):
            item = self._table.get_item(Key={"pk": PK, "sk": version_key(version)}).get("Item")
        return _from_item(item) if item else None

    def versions(self) -> list[PlanVersion]:
        """Every version's metadata (without documents), newest first."""
        rows = query_all(
            self._table,
            "plan table",
            KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
            ExpressionAttributeValues={":pk": PK, ":v": "v#"},
            ProjectionExpression="#v, #a, #b, #s, #r, #n",
            ExpressionAttributeNames={
                "#v": "version",
                "#a": "created_at",
                "#b": "created_by",
                "#s": "summary",
                "#r": "reason",
                "#n": "answers",
            },
            ScanIndexForward=False,
        )
        return [_from_item(row, with_doc=False) for row in rows]

    def put(self, version: PlanVersion) -> None:
        """Write a new version; :class:`ConflictError` if that number is already taken."""
        try:
            with aws_errors("plan table"):
                self._table.put_item(
                    Item={
                        "pk": PK,
                        "sk": version_key(version.version),
                        "version": version.version,
                        "doc": json.dumps(version.doc, ensure_ascii=False),
                        "created_at": version.created_at,
                        "created_by": version.created_by,
                        "summary": json.dumps(version.summary, ensure_ascii=False),
                        **({"reason": version.reason} if version.reason else {}),
                        **({"answers": list(version.answers)} if version.answers else {}),
                    },
                    ConditionExpression="attribute_not_exists(pk)",
                )
        except ConflictError:
            raise ConflictError(
                f"plan version {version.version} was saved by someone else meanwhile; "
                "reload the plan and apply your change again",
                details={"version": version.version},
            ) from None
