"""Where crawled items go: the seam between the crawl worker and the scoring pipeline.

The crawl worker hands each batch of parsed items to an :class:`ItemSink` and reports what it
says. :class:`StoreOnlySink` just stores the posts (dedup by id); the scoring pipeline provides
the sink that scores, clusters and stores in the same single write per post.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from chalicelib.posts.models import Item
from chalicelib.posts.store import RETENTION_DAYS, PostStore


@dataclass
class IngestReport:
    """What happened to one batch: counts, the ids of posts written for the first time, and
    of incidents opened."""

    received: int = 0
    new: int = 0
    duplicates: int = 0
    new_post_ids: list[str] = field(default_factory=list)
    # Incidents this batch opened (a scoring sink): a manual report says if it opened one.
    opened: list[str] = field(default_factory=list)


class ItemSink(Protocol):
    def ingest(
        self,
        items: Sequence[Item],
        *,
        credibility: float = 0.5,
        min_level: str | None = None,
        reported: bool = False,
    ) -> IngestReport:
        """Store (and, depending on the sink, score and cluster) a batch from one source.

        ``credibility`` is the source's weight in [0, 1] for risk scoring. ``min_level``: the
        least level each new item is assessed at — a person's judgement (人工定级) of a manual
        report, so the incident it opens is opened at that level from its first write.
        ``reported``: the items are manual reports (人工上报), which a scoring sink clusters
        whatever they are about, so that reports of one story make one incident.
        """
        ...


class StoreOnlySink:
    """Stores posts without scores: one conditional write per item."""

    def __init__(self, store: PostStore) -> None:
        self._store = store

    def ingest(
        self,
        items: Sequence[Item],
        *,
        credibility: float = 0.5,
        min_level: str | None = None,
        reported: bool = False,
    ) -> IngestReport:
        """Scores nothing, so ``credibility``, ``min_level`` and ``reported`` are not used."""
        report = IngestReport(received=len(items))
        for item in items:
            record = item.to_record()
            record["expires_at"] = int(item.fetched_at.timestamp()) + RETENTION_DAYS * 86400
            if self._store.put_new(record):
                report.new += 1
                report.new_post_ids.append(item.post_id)
            else:
                report.duplicates += 1
        return report
