"""A manual report (人工上报) becomes a post, is scored and clustered like any crawled post, and
always lands in an incident: the open incident of its story if there is one, else a new one.

Reports go through the same scoring sink as crawled items, so a report and the reposts of the
same story share one cluster and one incident (``c-<cluster_id>``). A report is a person's
judgement that a story matters, so the sink clusters it whatever it is about (``reported``):
six people reporting one story about no subject and no crisis word make one incident, paged
once, whose timeline lists every report and reporter; the story's crawled posts join it too
(decision 77). Only a report with no story text at all (a link and emoji) gets an incident of
its own. The level is the higher of what the reporter chose and what the score says, never
below IV; the reporter's level counts from the sink's first write, so the response workflow
never starts below it (decision 55). ``platform`` takes what people write (微博, 抖音) or comes
from the link's host (decision 78).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.auth.models import Principal
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import Problem, ValidationError
from chalicelib.incidents.models import IncidentDraft
from chalicelib.incidents.opener import IncidentOpener
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.defaults import worst
from chalicelib.plan.models import LEVELS
from chalicelib.posts.models import (
    PLATFORM_LABELS,
    Item,
    Platform,
    parse_platform,
    platform_for_url,
)
from chalicelib.posts.sink import ItemSink
from chalicelib.posts.store import PostStore
from chalicelib.sources.urls import canonical_url

MAX_TITLE = 200
MAX_CONTENT = 5000
MAX_URL = 2000
# A report is first-hand: weighted above an anonymous forum post, below an official source.
REPORT_CREDIBILITY = 0.7
# What a 400 lists: every id with its label (other names such as 抖音 are accepted too).
PLATFORM_CHOICES = ", ".join(f"{p.value} ({label})" for p, label in PLATFORM_LABELS.items())


@dataclass(frozen=True)
class Report:
    title: str
    content: str
    url: str | None
    platform: Platform
    subject: str | None
    level: str | None
    drill: bool


def parse_report(body: Mapping[str, Any], subjects: set[str]) -> Report:
    """Validate a report body; every problem is listed with its path."""
    problems: list[Problem] = []

    def text(name: str, limit: int, required: bool) -> str | None:
        value = body.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            problems.append(Problem(f"/{name}", f"must be non-empty text of at most {limit}"))
            return None
        return value.strip()

    title = text("title", MAX_TITLE, True)
    content = text("content", MAX_CONTENT, True)
    url = text("url", MAX_URL, False)
    if url is not None:
        # The canonical form: the same page shared with other tracking parameters is one post.
        try:
            url = canonical_url(url)
        except ValueError:  # urlsplit's refusal, e.g. an unclosed IPv6 bracket
            url = None
        if url is None:
            problems.append(Problem("/url", "must be an http(s) URL with a host"))
    named = body.get("platform")
    if named is None:
        # Not said: the link's host says it, else it is known only as a manual report.
        platform = (platform_for_url(url) if url else None) or Platform.REPORT
    else:
        found = parse_platform(named)
        if found is None:
            problems.append(Problem("/platform", f"a platform id or name: {PLATFORM_CHOICES}"))
        platform = found or Platform.REPORT
    subject = body.get("subject")
    if subject is not None and (not isinstance(subject, str) or subject not in subjects):
        problems.append(Problem("/subject", f"not a subject of the plan: {sorted(subjects)}"))
    level = body.get("level")
    if level is not None and level not in LEVELS:
        problems.append(Problem("/level", "one of I, II, III, IV"))
    drill = body.get("drill", False)
    if not isinstance(drill, bool):
        problems.append(Problem("/drill", "true or false"))
    if drill is True and url is not None:
        # A post's id comes from its URL: a drill report of a real URL would join the real
        # incident of that post. Drills describe their material in the text instead.
        problems.append(Problem("/url", "a drill report cannot carry a URL"))
    unknown = set(body) - {"title", "content", "url", "platform", "subject", "level", "drill"}
    problems.extend(Problem(f"/{name}", "unknown field") for name in sorted(unknown))
    if problems:
        raise ValidationError("invalid report", problems)
    return Report(title or "", content or "", url, platform, subject, level, drill)


def report_id_for(principal: Principal, key: str | None) -> str:
    """Deterministic under an Idempotency-Key, so even a lost idempotency record cannot make
    a second post or incident; random otherwise."""
    if key:
        digest = hashlib.sha256(f"{principal.name}\x1f{key}".encode()).hexdigest()
        return "r" + digest[:20]
    return "r" + uuid.uuid4().hex[:20]


class ReportService:
    def __init__(
        self,
        sink: ItemSink,
        posts: PostStore,
        opener: IncidentOpener,
        incidents: IncidentStore,
        clock: Clock = utcnow,
    ) -> None:
        self._sink = sink
        self._posts = posts
        self._opener = opener
        self._incidents = incidents
        self._clock = clock

    def submit(self, who: Principal, report: Report, report_id: str) -> dict[str, Any]:
        now = self._clock()
        item = Item(
            source_id="report",
            platform=report.platform,
            title=report.title,
            text=report.content,
            url=report.url,
            author=who.name,
            fetched_at=now,
            external_id=None if report.url else report_id,
            drill=report.drill,
        )
        # The reporter's level goes into the sink: when the report opens its story's incident
        # there, the incident (and the workflow started at once) is at that level from its
        # first write. The open below only covers the rest (a report that does not cluster, a
        # post already stored, an incident of the story already open at a lower level).
        ingested = self._sink.ingest(
            [item], credibility=REPORT_CREDIBILITY, min_level=report.level, reported=True
        )
        post = self._posts.get(item.post_id) or {}
        scored = post.get("level")
        level = worst(report.level, scored) or "IV"
        reasons = [str(r) for r in post.get("reasons") or []]
        if report.level:
            reasons.append(f"上报人定级 {report.level}")
        # No cluster only when the report has no story text to compare (a link and emoji).
        cluster_id = str(post.get("cluster_id") or report_id)
        draft = IncidentDraft(
            cluster_id=cluster_id,
            level=level,
            title=report.title[:100],
            summary=report.content[:200],
            reasons=reasons[:10],
            drill=report.drill,
        )
        # The story's live incident: a follow-up one if the last has ended (a flare-up).
        draft = self._opener.resolve(draft)
        # Also raises the level of an incident already open.
        opened = self._opener.open(draft) or draft.incident_id in ingested.opened
        self._incidents.put_once(
            draft.incident_id,
            f"REPORT#{report_id}",
            {
                "report_id": report_id,
                "post_id": item.post_id,
                "title": report.title,
                "content": report.content,
                "url": report.url,
                "subject": report.subject,
                "level": report.level,
                "by": who.name,
                "at": iso(now),
                "drill": report.drill,
            },
        )
        # Every report is on the timeline the HQ watches (and in the evaluation), with its
        # reporter: later reports of a story add to its incident instead of opening another.
        self._incidents.put_once(
            draft.incident_id,
            f"TL#report#{report_id}",
            {
                "step": "report",
                "title": f"人工上报：{report.title[:60]}",
                "note": f"上报人 {who.name}" + (f"，定级 {report.level}" if report.level else ""),
                "data": {"by": who.name, "report_id": report_id}
                | ({"level": report.level} if report.level else {}),
                "at": iso(now),
                "drill": report.drill,
            },
        )
        return {
            "report_id": report_id,
            "incident_id": draft.incident_id,
            "opened": opened,
            "level": level,
            "risk": post.get("risk"),
            "reasons": reasons,
        }
