"""Trend counts and cluster pages in the trends table (see docs/data-model.md, ``trends``).

Two item types under ``pk=<UTC day>``:

- hour counts: ``sk=H#<HH>#<platform>``, counters added with one ``UpdateItem ADD`` per
  (hour, platform) per batch — idempotent only together with the post writes: the sink
  counts a post after its conditional write succeeded, so a redelivery counts nothing;
- cluster page: ``sk=C#<cluster_id>#<first post id>``, ``PutItem`` with
  ``attribute_not_exists`` once per cluster per batch;
- word counts (热词): ``sk=W#<key>#<HH><slot>`` (key ``*`` or a subject id; slot the 10
  minutes of the hour, 0-5), the posts and ``w#<word>`` counters, one ``UpdateItem ADD`` per
  (slot, key) per batch, counted like the hour counts (only posts whose write succeeded).

A day is one ``Query``; the posts of a cluster on a day are a ``begins_with`` on ``C#<id>#``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.core.dynamo import put_if_absent, query_all, to_item
from chalicelib.core.errors import ConflictError, aws_errors
from chalicelib.trends.models import ClusterPage, HourCounts
from chalicelib.trends.words import WordCounts

# Counts are small and briefings compare with last year; cluster pages age out with them.
RETENTION_DAYS = 400
_SUBJECT = "subject#"
_SUBJECT_NEGATIVE = "subject_negative#"
_LEVEL = "level#"
_WORD = "w#"
# Word additions one slot's item takes (≈ 20 B each: ≤ 15 KB, ≤ 15 write units an update).
WORDS_PER_ITEM = 600


@dataclass(frozen=True)
class DayTrends:
    day: str
    hours: list[HourCounts]
    pages: list[ClusterPage]


def hour_key(day: str, hour: int, platform: str) -> dict[str, str]:
    return {"pk": day, "sk": f"H#{hour:02d}#{platform}"}


def page_key(page: ClusterPage) -> dict[str, str]:
    return {"pk": page.day, "sk": f"C#{page.cluster_id}#{page.post_ids[0]}"}


class TrendStore:
    """Data access for the trends table; takes the boto3 ``Table`` in the constructor."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def add_hours(self, counts: Iterable[HourCounts], expires_at: int) -> int:
        """Add each group's counts to its hour item (created on first use). Updates made."""
        updates = 0
        for c in counts:
            adds: dict[str, Any] = {
                "posts": c.posts,
                "negative": c.negative,
                "sentiment_sum": round(c.sentiment_sum, 4),
            }
            adds.update({_LEVEL + k: v for k, v in c.levels.items()})
            adds.update({_SUBJECT + k: v for k, v in c.subjects.items()})
            adds.update({_SUBJECT_NEGATIVE + k: v for k, v in c.subjects_negative.items() if v})
            names = {f"#a{i}": name for i, name in enumerate(adds)}
            values = {f":a{i}": value for i, value in enumerate(adds.values())}
            clause = ", ".join(f"#a{i} :a{i}" for i in range(len(adds)))
            with aws_errors("trends table"):
                self._table.update_item(
                    Key=hour_key(c.day, c.hour, c.platform),
                    UpdateExpression=f"ADD {clause} SET #exp = :exp",
                    ExpressionAttributeNames={**names, "#exp": "expires_at"},
                    ExpressionAttributeValues=to_item({**values, ":exp": expires_at}),
                )
            updates += 1
        return updates

    def add_page(self, page: ClusterPage, expires_at: int) -> bool:
        """Store a cluster page once; False if this batch's page was already stored."""
        record = {
            **page_key(page),
            "cluster_id": page.cluster_id,
            "post_ids": list(page.post_ids),
            "seen": list(page.seen),
            "risks": [round(r, 3) for r in page.risks],
            "count": page.count,
            "growth": page.growth,
            "level": page.level,
            "max_risk": round(page.max_risk, 4),
            "drill": page.drill or None,
            "expires_at": expires_at,
        }
        return put_if_absent(self._table, record, "trends table")

    def day(self, day: str) -> DayTrends:
        """Every hour item and cluster page of one UTC day (not its word counts: two Queries
        that read only what a briefing shows)."""
        return DayTrends(day, self.hours(day), self.pages(day))

    def hours(self, day: str) -> list[HourCounts]:
        """Only the hour items of one UTC day (the trend lines need no cluster pages)."""
        condition = Key("pk").eq(day) & Key("sk").begins_with("H#")
        return [_hour_from(row) for row in self._query(condition)]

    def pages(self, day: str) -> list[ClusterPage]:
        """Only the cluster pages of one UTC day."""
        condition = Key("pk").eq(day) & Key("sk").begins_with("C#")
        return [_page_from(row) for row in self._query(condition)]

    def cluster_pages(self, cluster_id: str, days: Iterable[str]) -> list[ClusterPage]:
        """The pages of one cluster on the given days (from its ``first_seen`` to ``last_seen``)."""
        pages: list[ClusterPage] = []
        for day in days:
            condition = Key("pk").eq(day) & Key("sk").begins_with(f"C#{cluster_id}#")
            pages.extend(_page_from(row) for row in self._query(condition))
        return sorted(pages, key=lambda p: p.seen[0])

    def add_words(self, counts: Iterable[WordCounts], expires_at: int) -> tuple[int, int]:
        """Add each group's posts and word uses to its item (``sk=W#<key>#<HH><slot>``, created
        on first use), one update per group: ``(updates made, groups left out)``.

        An item takes at most :data:`WORDS_PER_ITEM` word additions (``added``, a counter of
        the words each update brought): DynamoDB bills an update by the whole item, so a slot's
        item must not grow with every batch of a busy ten minutes. A group that would pass the
        cap is left out (a busy slot's later words are not counted); its posts still count in
        the hour counts."""
        updates = skipped = 0
        for c in counts:
            # "added" is #a1, which the condition reads.
            adds: dict[str, int] = {"posts": c.posts, "added": len(c.words)}
            adds.update({_WORD + w: n for w, n in c.words.items()})
            names = {f"#a{i}": name for i, name in enumerate(adds)}
            values = {f":a{i}": value for i, value in enumerate(adds.values())}
            clause = ", ".join(f"#a{i} :a{i}" for i in range(len(adds)))
            try:
                with aws_errors("trends table"):
                    self._table.update_item(
                        Key={"pk": c.day, "sk": f"W#{c.key}#{c.hour:02d}{c.slot}"},
                        UpdateExpression=f"ADD {clause} SET #exp = :exp",
                        ConditionExpression="attribute_not_exists(#a1) OR #a1 <= :room",
                        ExpressionAttributeNames={**names, "#exp": "expires_at"},
                        ExpressionAttributeValues=to_item(
                            {**values, ":exp": expires_at, ":room": WORDS_PER_ITEM - len(c.words)}
                        ),
                    )
            except ConflictError:
                skipped += 1
                continue
            updates += 1
        return updates, skipped

    def words(self, key: str, days: Iterable[str]) -> list[WordCounts]:
        """The word items of one key (ALL or a subject) on the given UTC days: one Query a day."""
        found: list[WordCounts] = []
        for day in days:
            condition = Key("pk").eq(day) & Key("sk").begins_with(f"W#{key}#")
            found.extend(_words_from(row) for row in self._query(condition))
        return found

    def _query(self, condition: Any) -> list[dict[str, Any]]:
        return query_all(self._table, "trends table", KeyConditionExpression=condition)


def _hour_from(row: dict[str, Any]) -> HourCounts:
    _, hour, platform = str(row["sk"]).split("#", 2)
    counts = HourCounts(
        day=str(row["pk"]),
        hour=int(hour),
        platform=platform,
        posts=int(row.get("posts", 0)),
        negative=int(row.get("negative", 0)),
        sentiment_sum=float(row.get("sentiment_sum", 0.0)),
    )
    for name, value in row.items():
        if name.startswith(_LEVEL):
            counts.levels[name.removeprefix(_LEVEL)] = int(value)
        elif name.startswith(_SUBJECT_NEGATIVE):
            counts.subjects_negative[name.removeprefix(_SUBJECT_NEGATIVE)] = int(value)
        elif name.startswith(_SUBJECT):
            counts.subjects[name.removeprefix(_SUBJECT)] = int(value)
    return counts


def _words_from(row: dict[str, Any]) -> WordCounts:
    _, key, when = str(row["sk"]).rsplit("#", 2)
    return WordCounts(
        day=str(row["pk"]),
        hour=int(when[:2]),
        slot=int(when[2:] or 0),
        key=key,
        posts=int(row.get("posts", 0)),
        words=Counter(
            {k.removeprefix(_WORD): int(v) for k, v in row.items() if k.startswith(_WORD)}
        ),
    )


def _page_from(row: dict[str, Any]) -> ClusterPage:
    return ClusterPage(
        day=str(row["pk"]),
        cluster_id=str(row["cluster_id"]),
        post_ids=tuple(row.get("post_ids", [])),
        seen=tuple(row.get("seen", [])),
        risks=tuple(float(r) for r in row.get("risks", [])),
        count=int(row.get("count", 0)),
        growth=float(row.get("growth", 1.0)),
        level=row.get("level"),
        max_risk=float(row.get("max_risk", 0.0)),
        drill=bool(row.get("drill", False)),
    )
