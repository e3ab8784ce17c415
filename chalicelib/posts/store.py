"""Posts in DynamoDB: one conditional write per new post, nothing for a repeat.

``pk`` is :attr:`Item.post_id`; the write is ``PutItem`` with ``attribute_not_exists(pk)``, so a
repeated crawl, a retried Lambda or a duplicate SQS delivery writes nothing. A refused
conditional write is still billed as a write, and hot lists re-list the same entries at every
crawl, so :meth:`PostStore.known` first reads which ids are stored (a read costs a fifth of a
write) and the sink writes only the others; the condition still settles races between workers.

Only the posts the scoring sink puts in the feed carry ``day`` and so appear in the sparse
``by_day`` index (see docs/data-model.md, ``posts``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from chalicelib.core.dynamo import from_item, put_if_absent, to_item
from chalicelib.core.errors import ConflictError, aws_errors

# Posts age out of the table after this long (the TTL attribute ``expires_at``).
RETENTION_DAYS = 90
FEED_INDEX = "by_day"
_BATCH_GET = 100
# The live feed reads at most this many index pages per day and request (a page budget), each
# of at most this many entries after the first: a dashboard refresh stays a few queries.
FEED_PAGES = 4
FEED_PAGE_SIZE = 500


@dataclass(frozen=True)
class FeedFilter:
    """What the live feed shows: any combination of subject, platform, level, negative only."""

    subject: str | None = None
    platform: str | None = None
    level: str | None = None
    negative_only: bool = False
    drill: bool = False  # drill posts are shown only when asked for


@dataclass(frozen=True)
class FeedPage:
    posts: list[dict[str, Any]]
    cursor: dict[str, Any] | None  # pass back as ``start`` for the next (older) page


@dataclass(frozen=True)
class IndexRead:
    """What one query of the feed index gave: the posts the filter kept, how many entries it
    read, and where to go on from (None: the range is read to its end)."""

    posts: list[dict[str, Any]]
    examined: int
    last_key: dict[str, Any] | None


class PostStore:
    """Data access for the posts table; takes the boto3 ``Table`` in the constructor."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def put_new(self, record: Mapping[str, Any]) -> bool:
        """Write a post unless one with the same ``pk`` exists. True if it was new."""
        return put_if_absent(self._table, record, "posts table")

    def adopt(self, post_id: str, changes: Mapping[str, Any]) -> bool:
        """Set ``changes`` (a ``cluster_id`` among them) on a stored post that is in no cluster:
        a post crawled about nothing of ours that a person has now reported. False if the post
        is gone or another writer put it in a cluster first (that cluster is the story's)."""
        names = {f"#a{i}": name for i, name in enumerate(changes)}
        values = {f":a{i}": to_item(value) for i, value in enumerate(changes.values())}
        try:
            with aws_errors("posts table"):
                self._table.update_item(
                    Key={"pk": post_id},
                    UpdateExpression="SET " + ", ".join(f"{n} = :{n[1:]}" for n in names),
                    ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#c)",
                    ExpressionAttributeNames={**names, "#c": "cluster_id"},
                    ExpressionAttributeValues=values,
                )
        except ConflictError:
            return False
        return True

    def known(self, post_ids: Iterable[str]) -> set[str]:
        """The ids among ``post_ids`` that are already stored (eventually consistent reads)."""
        wanted = list(dict.fromkeys(post_ids))
        found: set[str] = set()
        client = self._table.meta.client
        name = self._table.name
        for start in range(0, len(wanted), _BATCH_GET):
            keys = [{"pk": pid} for pid in wanted[start : start + _BATCH_GET]]
            request: dict[str, Any] = {name: {"Keys": keys, "ProjectionExpression": "pk"}}
            for _ in range(5):
                with aws_errors("posts table"):
                    answer = client.batch_get_item(RequestItems=request)
                found.update(str(row["pk"]) for row in answer.get("Responses", {}).get(name, []))
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
        return found

    def get(self, post_id: str) -> dict[str, Any] | None:
        with aws_errors("posts table"):
            item = self._table.get_item(Key={"pk": post_id}).get("Item")
        return from_item(item) if item else None

    def feed(
        self,
        day: str,
        flt: FeedFilter | None = None,
        limit: int = 50,
        start: dict[str, Any] | None = None,
        pages: int = FEED_PAGES,
        page_size: int = FEED_PAGE_SIZE,
    ) -> FeedPage:
        """The newest feed posts of one UTC day (``YYYY-MM-DD``), filtered, newest first.

        Reads the sparse ``by_day`` index until ``limit`` posts pass the filter, the day is
        exhausted or ``pages`` queries are made; ``cursor`` continues from there, so a page
        may hold fewer than ``limit`` posts (even none) and still have a cursor. The first
        query reads ``limit`` entries (an unfiltered feed needs no more), the next ones
        ``page_size``: a narrow filter on a busy day costs a few queries, not one per
        handful of posts.
        """
        condition = _condition(flt or FeedFilter())
        posts: list[dict[str, Any]] = []
        cursor = start
        for query in range(max(pages, 1)):
            request: dict[str, Any] = {
                "IndexName": FEED_INDEX,
                "KeyConditionExpression": Key("day").eq(day),
                "FilterExpression": condition,
                "ScanIndexForward": False,
                "Limit": limit if query == 0 else page_size,
            }
            if cursor:
                request["ExclusiveStartKey"] = cursor
            with aws_errors("posts table"):
                answer = self._table.query(**request)
            for row in answer.get("Items", []):
                posts.append(from_item(row))
                if len(posts) == limit:
                    return FeedPage(posts, key_of(posts[-1]))
            cursor = answer.get("LastEvaluatedKey")
            if not cursor:
                return FeedPage(posts, None)
        return FeedPage(posts, cursor)

    def read_day(
        self,
        day: str,
        flt: FeedFilter,
        *,
        since: str,
        until: str,
        limit: int,
        start: Mapping[str, Any] | None = None,
    ) -> IndexRead:
        """One ``Query`` of ``by_day``: the feed posts of ``day`` with ``since ≤ seen_at ≤
        until`` (ISO strings in UTC, as stored), newest first, after ``start`` (a post's
        :func:`key_of` or a ``last_key``), reading at most ``limit`` index entries.

        The search (检索) calls this once per step of its read budget; ``examined`` is what the
        query read and is billed for, whether or not ``flt`` kept it.
        """
        request: dict[str, Any] = {
            "IndexName": FEED_INDEX,
            "KeyConditionExpression": Key("day").eq(day) & Key("seen_at").between(since, until),
            "FilterExpression": _condition(flt),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = dict(start)
        with aws_errors("posts table"):
            answer = self._table.query(**request)
        return IndexRead(
            posts=[from_item(row) for row in answer.get("Items", [])],
            examined=int(answer.get("ScannedCount", 0)),
            last_key=answer.get("LastEvaluatedKey"),
        )


def _condition(flt: FeedFilter) -> Any:
    condition = Attr("drill").eq(True) if flt.drill else Attr("drill").ne(True)
    if flt.subject:
        condition &= Attr("subjects").contains(flt.subject)
    if flt.platform:
        condition &= Attr("platform").eq(flt.platform)
    if flt.level:
        condition &= Attr("level").eq(flt.level)
    if flt.negative_only:
        condition &= Attr("negative").eq(True)
    return condition


def key_of(post: Mapping[str, Any]) -> dict[str, Any]:
    """A feed post's key in ``by_day``: where a read continues after it."""
    return {"pk": post["pk"], "day": post["day"], "seen_at": post["seen_at"]}
