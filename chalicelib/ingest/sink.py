"""The scoring sink: score each crawled post, put it in its story's cluster, open incidents.

Implements :class:`chalicelib.posts.sink.ItemSink` for the crawl worker. For one batch:

0. **Skip** the posts already stored (one batched read: a refused conditional write would be
   billed as a write, and hot lists re-list the same entries at every crawl) — except a
   manual report of a stored post that is in no cluster, which is clustered now.
1. **Score** every item (pure: subjects, sentiment, crisis words).
2. **Cluster** the items that could ever reach a level (:func:`can_reach_level`) and every
   manual report (人工上报: a person judged the story worth an incident, whatever it is
   about). A clusterable item joins the cluster whose LSH bands it shares (looked up in the
   table, and among the clusters started earlier in this batch) or a reported story it is
   like, if the estimated similarity is high enough, else it starts a new one. The rest — not
   about a subject, no crisis word — start no cluster and cost no band lookups or writes, but
   join a **reported story** they are like (one query per batch lists the stories reported in
   the last days, :meth:`ClusterStore.reported_stories`), so a reported story's spread counts.
3. **Assess** each item with its cluster's projected size and growth (never below
   ``min_level``, the level a reporter gave a manual report, and a report never below IV),
   then make **one conditional write** of the post with its scores and ``cluster_id``
   (:meth:`PostStore.put_new`), cut to one write unit (:func:`fit_post`); only feed posts (a
   subject, a level, a manual report) carry ``day`` and so a copy in the ``by_day`` index.
4. **Count** the batch's new posts into the per-hour trend items, one update per (hour,
   platform) (:class:`TrendStore`), instead of an index entry per post, and their words into
   the hot-word counts, one update per (hour, subject).
5. **Update** each touched cluster once per batch (optimistic concurrency on ``version``,
   re-read and merge on conflict); a new cluster writes its bands once, a reported one its
   entry among the reported stories. Then one **cluster page** per cluster and day lists the
   batch's new posts of that cluster.
6. **Open** the cluster's incident when it first reaches a level, **escalate** it when the
   level rises (:class:`IncidentOpener`) — just before the cluster write that records the
   level, because both calls are idempotent and the cluster write is what stops a repeat.

A crash between the post writes and the later writes leaves the posts uncounted in the
trends, the cluster and its pages (a redelivery finds the posts and stops); nothing is ever
counted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.clusters.minhash import JOIN_SIMILARITY, bands, shingles, signature, similarity
from chalicelib.clusters.models import Cluster, PostSummary
from chalicelib.clusters.store import RETENTION_DAYS as CLUSTER_RETENTION_DAYS
from chalicelib.clusters.store import ClusterStore, ReportedStory
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import ConflictError
from chalicelib.core.observability import logger
from chalicelib.incidents.models import IncidentDraft
from chalicelib.incidents.opener import IncidentOpener
from chalicelib.plan.defaults import default_plan, more_severe
from chalicelib.plan.models import LEVELS
from chalicelib.posts.models import PLATFORM_LABELS, Item, Platform, feed_day
from chalicelib.posts.sink import IngestReport
from chalicelib.posts.sizing import fit_post
from chalicelib.posts.store import RETENTION_DAYS, PostStore
from chalicelib.scoring.risk import Analysis, Assessment, Spread, can_reach_level
from chalicelib.scoring.scorer import Scorer, scorer_for_plan
from chalicelib.scoring.segment import default_segmenter
from chalicelib.scoring.text import MIN_STORY_CHARS, headline, story_text
from chalicelib.trends.models import ClusterPage, Counted, hour_counts
from chalicelib.trends.store import RETENTION_DAYS as TREND_RETENTION_DAYS
from chalicelib.trends.store import TrendStore
from chalicelib.trends.words import Worded, post_words, word_counts

STORY_CHARS = 100
TITLE_CHARS = 40
SAVE_ATTEMPTS = 5
STORED_REASONS = frozenset({"subject", "sentiment", "crisis", "risk"})
# A manual report is at least at the lowest level: it always lands in an incident.
REPORT_FLOOR = LEVELS[-1]


@dataclass
class _Entry:
    item: Item
    analysis: Analysis
    cluster_id: str | None = None
    assessment: Assessment | None = None
    new: bool = False
    # A reported post stored before in no cluster (as stored): clustered now, counted once.
    adopted: dict[str, Any] | None = None


@dataclass
class _Touched:
    """A cluster this batch adds posts to: as stored (None if new) and the entries joining."""

    base: Cluster
    stored: bool
    entries: list[_Entry] = field(default_factory=list)


class ScoringSink:
    """Score, cluster, store and open incidents, for one batch of items from one source."""

    def __init__(
        self,
        posts: PostStore,
        clusters: ClusterStore,
        incidents: IncidentOpener,
        plan: Callable[[], Mapping[str, Any]] = default_plan,
        clock: Clock = utcnow,
        trends: TrendStore | None = None,
    ) -> None:
        self._posts = posts
        self._clusters = clusters
        self._incidents = incidents
        self._plan = plan
        self._clock = clock
        # None: no trend counts or cluster pages (tests of clustering alone).
        self._trends = trends

    def ingest(
        self,
        items: Sequence[Item],
        *,
        credibility: float = 0.5,
        min_level: str | None = None,
        reported: bool = False,
    ) -> IngestReport:
        scorer = scorer_for_plan(self._plan())
        now = self._clock()
        report = IngestReport(received=len(items))
        known = self._posts.known(item.post_id for item in items)
        fresh_items: dict[str, Item] = {}
        again: dict[str, Item] = {}
        for item in items:
            if item.post_id in known or item.post_id in fresh_items:
                report.duplicates += 1
                again.setdefault(item.post_id, item)
            else:
                fresh_items[item.post_id] = item
        entries = [_Entry(item, scorer.analyse(item.content)) for item in fresh_items.values()]
        if reported:
            entries += self._reported_again(again.values(), scorer, now)
        touched = self._assign_clusters(entries, scorer, credibility, now, reported)

        # Project each touched cluster as if every entry were new, to assess the entries.
        projected = {cid: self._merge(t.base, t.entries, now) for cid, t in touched.items()}
        for entry in entries:
            cluster = projected.get(entry.cluster_id or "")
            spread = Spread(
                engagement=entry.item.engagement,
                rank=entry.item.rank,
                cluster_size=cluster.count if cluster else 1,
                growth=cluster.growth if cluster else 1.0,
                credibility=credibility,
            )
            # A reporter's level counts from the first write: the post, its cluster and the
            # incident the cluster opens all start at it (never a lower level first).
            entry.assessment = at_least(scorer.assess(entry.analysis, spread), min_level)
            if reported:
                entry.assessment = at_least(entry.assessment, REPORT_FLOOR, "人工上报，不低于")
            if entry.adopted is not None:
                entry.new = self._adopt(entry)
                continue  # stored and counted in the trends before: not a new post
            entry.new = self._posts.put_new(self._record(entry))
            if entry.new:
                report.new += 1
                report.new_post_ids.append(entry.item.post_id)
            else:
                report.duplicates += 1

        trend_expiry = int(now.timestamp()) + TREND_RETENTION_DAYS * 86400
        if self._trends is not None:
            counted = [e for e in entries if e.new and e.adopted is None and not e.item.drill]
            self._trends.add_hours(hour_counts(map(self._counted, counted)), trend_expiry)
            self._count_words(self._trends, counted, trend_expiry)
        for cluster_id, t in touched.items():
            fresh = [e for e in t.entries if e.new]
            if fresh:
                cluster = self._update_cluster(cluster_id, t, fresh, now, report.opened)
                if reported and cluster is not None:
                    self._clusters.mark_reported(cluster, now)
                if self._trends is not None and cluster is not None:
                    for page in self._pages(cluster, fresh):
                        self._trends.add_page(page, trend_expiry)
        return report

    def _reported_again(self, items: Iterable[Item], scorer: Scorer, now: Any) -> list[_Entry]:
        """Manual reports of posts already stored (a link the crawler found first, a report
        retried). A post in no cluster — crawled about nothing of ours — becomes an entry to
        cluster now: else each report of it would open an incident of its own. A post in a
        cluster marks that story reported (again), which also heals a lost mark."""
        entries: list[_Entry] = []
        for item in items:
            stored = self._posts.get(item.post_id)
            if stored is None:
                continue
            if stored.get("cluster_id"):
                cluster = self._clusters.get(str(stored["cluster_id"]))
                if cluster is not None:
                    self._clusters.mark_reported(cluster, now)
                continue
            # Its story is the post as crawled, not the few words of the report.
            title, text = str(stored.get("title") or ""), str(stored.get("text") or "")
            post = replace(item, title=title, text=text)
            entries.append(_Entry(post, scorer.analyse(post.content), adopted=stored))
        return entries

    def _adopt(self, entry: _Entry) -> bool:
        """Put a stored post (``entry.adopted``) into the entry's cluster, at the higher of its
        stored level and the report's, and into the feed."""
        stored = entry.adopted or {}
        if entry.cluster_id is None:
            return False
        level = entry.assessment.level if entry.assessment else None
        if more_severe(stored.get("level"), level):
            level = str(stored["level"])
        changes: dict[str, Any] = {"cluster_id": entry.cluster_id}
        if level:
            changes.update(level=level, day=feed_day(str(stored["seen_at"])))
        return self._posts.adopt(entry.item.post_id, changes)

    @staticmethod
    def _count_words(trends: TrendStore, entries: Sequence[_Entry], expires_at: int) -> None:
        """Add the new posts' words to the hot-word counts (热词). A failure costs the batch's
        words, never its posts: raising here would leave its clusters and incidents undone."""
        try:
            cut = default_segmenter().cut
            worded = [
                Worded(
                    iso(e.item.published_at or e.item.fetched_at),
                    tuple(m.id for m in e.analysis.subjects),
                    post_words(e.item.content, cut),
                )
                for e in entries
            ]
            _, skipped = trends.add_words(word_counts(worded), expires_at)
        except Exception:
            logger.exception("hot-word counts not added")
            return
        if skipped:
            logger.info("hot-word slot full; words left out", extra={"groups": skipped})

    @staticmethod
    def _counted(entry: _Entry) -> Counted:
        seen = entry.item.published_at or entry.item.fetched_at
        return Counted(
            seen_at=iso(seen),
            platform=entry.item.platform.value,
            negative=entry.analysis.sentiment.negative,
            sentiment=entry.analysis.sentiment.score,
            level=entry.assessment.level if entry.assessment else None,
            subjects=tuple(m.id for m in entry.analysis.subjects),
        )

    @staticmethod
    def _pages(cluster: Cluster, fresh: list[_Entry]) -> list[ClusterPage]:
        by_day: dict[str, list[_Entry]] = {}
        for e in fresh:
            by_day.setdefault(iso(e.item.published_at or e.item.fetched_at)[:10], []).append(e)
        return [
            ClusterPage(
                day=day,
                cluster_id=cluster.id,
                post_ids=tuple(e.item.post_id for e in group),
                seen=tuple(iso(e.item.published_at or e.item.fetched_at) for e in group),
                risks=tuple(e.assessment.risk if e.assessment else 0.0 for e in group),
                count=cluster.count,
                growth=cluster.growth,
                level=cluster.level,
                max_risk=cluster.max_risk,
                drill=cluster.drill,
            )
            for day, group in sorted(by_day.items())
        ]

    # -- clustering -------------------------------------------------------------------------
    def _assign_clusters(
        self, entries: list[_Entry], scorer: Scorer, credibility: float, now: Any, reported: bool
    ) -> dict[str, _Touched]:
        touched: dict[str, _Touched] = {}
        local_bands: dict[str, str] = {}
        known: dict[str, Cluster | None] = {}
        stories: list[ReportedStory] | None = None  # read once, for the first entry
        for entry in entries:
            clusterable = reported or can_reach_level(entry.analysis, credibility, scorer.config)
            if stories is None:
                # A report reads what the report before it wrote (reports are single items).
                stories = self._clusters.reported_stories(now, consistent=reported)
            if not clusterable and not stories:
                continue
            sig = signature(shingles(_story(entry.item, reported)))
            if not sig:
                continue
            # Drill posts never join real stories, nor real posts drill ones.
            prefix = "d" if entry.item.drill else ""
            keys = [prefix + key for key in bands(sig)]
            candidates = {
                s.cluster_id
                for s in stories
                if s.drill == entry.item.drill and similarity(sig, s.signature) >= JOIN_SIMILARITY
            }
            if clusterable:
                candidates.update(local_bands[k] for k in keys if k in local_bands)
                missing = [k for k in keys if k not in local_bands]
                if missing:
                    candidates.update(self._clusters.clusters_with_bands(missing).values())
            best, best_similarity = None, 0.0
            for cid in sorted(candidates):
                if cid in touched:
                    cluster: Cluster | None = touched[cid].base
                else:
                    if cid not in known:
                        known[cid] = self._clusters.get(cid)
                    cluster = known[cid]
                if cluster is None or cluster.drill != entry.item.drill:
                    continue
                score = similarity(sig, cluster.signature)
                if score > best_similarity:
                    best, best_similarity = cluster, score
            if best is not None and best_similarity >= JOIN_SIMILARITY:
                entry.cluster_id = best.id
                touched.setdefault(best.id, _Touched(best, stored=best.version > 0))
            elif not clusterable:
                continue  # like no reported story: it starts none of its own
            else:
                seen = entry.item.published_at or entry.item.fetched_at
                new = Cluster(
                    id="k" + entry.item.post_id[1:21],
                    story=headline(entry.item.content, STORY_CHARS),
                    signature=sig,
                    band_keys=tuple(keys),
                    first_seen=seen,
                    last_seen=seen,
                    drill=entry.item.drill,
                )
                entry.cluster_id = new.id
                touched.setdefault(new.id, _Touched(new, stored=False))
                for key in keys:
                    local_bands.setdefault(key, new.id)
            touched[entry.cluster_id].entries.append(entry)
        return touched

    @staticmethod
    def _merge(base: Cluster, entries: list[_Entry], now: Any) -> Cluster:
        return base.with_posts(
            [e.item.published_at or e.item.fetched_at for e in entries],
            [e.item.platform.value for e in entries],
            [m.id for e in entries for m in e.analysis.subjects],
            now,
        )

    def _update_cluster(
        self, cluster_id: str, t: _Touched, fresh: list[_Entry], now: Any, opened: list[str]
    ) -> Cluster | None:
        """Save the cluster with its new posts; the cluster as saved (None if it gave up)."""
        summaries = [
            PostSummary(
                post_id=e.item.post_id,
                title=(e.item.title or e.item.content)[:TITLE_CHARS],
                risk=e.assessment.risk if e.assessment else 0.0,
                platform=e.item.platform.value,
                url=e.item.url,
            )
            for e in fresh
        ]
        levels = [e.assessment.level if e.assessment else None for e in fresh]
        expires_at = int(now.timestamp()) + CLUSTER_RETENTION_DAYS * 86400
        base: Cluster | None = t.base
        for _attempt in range(SAVE_ATTEMPTS):
            if base is None:
                return None
            merged = self._merge(base, fresh, now).with_risks(summaries, levels)
            # The incident first: opening and escalating are idempotent, so a crash or a lost
            # race after this point repeats them harmlessly, while a crash between saving the
            # cluster's new level and opening would lose the incident for good.
            self._raise_incident(base.level, merged, fresh, opened)
            try:
                self._clusters.save(merged, expires_at)
            except ConflictError:
                # Another worker wrote it first: merge into what it wrote.
                base = self._clusters.get(cluster_id)
                continue
            if base.version == 0:
                self._clusters.add_bands(base.band_keys, cluster_id, expires_at)
            return merged
        logger.warning("cluster update gave up after conflicts", extra={"cluster": cluster_id})
        return None

    def _raise_incident(
        self, before: str | None, cluster: Cluster, fresh: list[_Entry], opened: list[str]
    ) -> None:
        after = cluster.level
        if after is None or not more_severe(after, before):
            return
        strongest = max(fresh, key=lambda e: e.assessment.risk if e.assessment else 0.0)
        reasons = [
            str(r["text"]) for r in (strongest.assessment.reasons if strongest.assessment else [])
        ]
        subjects = [m.name for m in strongest.analysis.subjects]
        title = headline(strongest.item.title or strongest.item.content) or cluster.id
        platforms = "、".join(map(_platform, cluster.platforms))
        draft = IncidentDraft(
            cluster_id=cluster.id,
            level=after,
            title=f"{'、'.join(subjects) or '舆情'}：{title}",
            summary=(
                f"同一事件 {cluster.count} 条，平台：{platforms}，"
                f"最高风险 {cluster.max_risk:.2f}，增速为基线的 {cluster.growth:.1f} 倍"
            ),
            reasons=reasons,
            drill=cluster.drill,
        )
        draft = self._incidents.resolve(draft)
        if before is None or draft.exists is False:
            # A new incident (or a follow-up of an ended one): opened at this level.
            if self._incidents.open(draft):
                opened.append(draft.incident_id)
        else:
            self._incidents.escalate(draft, before)

    # -- the post ---------------------------------------------------------------------------
    def _record(self, entry: _Entry) -> dict[str, Any]:
        record = entry.item.to_record()
        record["expires_at"] = int(entry.item.fetched_at.timestamp()) + RETENTION_DAYS * 86400
        a = entry.assessment
        s = entry.analysis.sentiment
        record.update(
            {
                "cluster_id": entry.cluster_id,
                "sentiment": s.score,
                "negative": s.negative,
                "risk": a.risk if a else 0.0,
                "level": a.level if a else None,
                "subjects": [m.id for m in entry.analysis.subjects],
                "crisis_words": [w for w, _ in entry.analysis.crisis.words],
                "components": a.components if a else {},
                # Only the sentences that name rules and words: the numbers are in
                # ``components``, and every byte of a post is paid for on each write (and
                # again in the by_day index).
                "reasons": [str(r["text"]) for r in a.reasons if r["factor"] in STORED_REASONS]
                if a
                else [],
            }
        )
        if is_feed_post(entry.item, record):
            record["day"] = feed_day(record["seen_at"])
        # One write unit for the item, and one for its feed copy (DESIGN §5).
        return fit_post(record)


def at_least(assessment: Assessment, level: str | None, why: str = "上报人定级") -> Assessment:
    """The assessment lifted to ``level`` (a reporter's 定级) if that is higher, saying why."""
    if level is None or not more_severe(level, assessment.level):
        return assessment
    reason = {"factor": "reporter", "text": f"{why} {level}"}
    return replace(assessment, level=level, reasons=[*assessment.reasons, reason])


def _story(item: Item, reported: bool) -> str:
    """The text compared for near-duplicates. A report's title is the reporter's own words
    about the story, like a repost's comment: its story is the text they pasted, unless that
    says nothing by itself (then title and text, as for every post)."""
    if reported:
        told = story_text(item.text)
        if len(told) >= MIN_STORY_CHARS:
            return told
    return story_text(item.content)


def is_feed_post(item: Item, record: Mapping[str, Any]) -> bool:
    """Does the live feed (and so the ``by_day`` index) carry this post?

    Posts about a subject, with a level, or reported by a person. Negative chatter about
    nothing of ours is counted in the trends but not listed: every feed entry is one more
    write unit, and about a third of real posts are negative.
    """
    return (
        bool(record.get("subjects"))
        or bool(record.get("level"))
        or (item.platform is Platform.REPORT)
    )


def _platform(value: str) -> str:
    """微博 for ``weibo``: the summary is read in alerts and on the dashboard, by people."""
    return next((label for p, label in PLATFORM_LABELS.items() if p.value == value), value)
