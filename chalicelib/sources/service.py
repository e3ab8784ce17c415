"""Crawl one source; dispatch the due ones; manage definitions.

- :class:`CrawlService` — fetch → (304: stop) → challenge check → parse → sink → health → alert.
  A source's own failure (unreachable, blocked, changed format, challenge) is an *outcome*: it is
  recorded in the source's health and returned, never raised, so the SQS message is done and the
  next tick tries again. Only our own infrastructure failing (DynamoDB, SNS) raises, so SQS
  redelivers; a redelivery re-assesses from the stored health and writes no duplicate posts.
- :class:`Dispatcher` — every minute: claim each due source (conditional update of
  ``next_due_at``, so two overlapping ticks dispatch it once) and queue one message per source,
  spacing sources on the same host with ``DelaySeconds``.
- :class:`SourceService` — create, replace, delete, read definitions.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core import inputs
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import Problem, UnavailableError, ValidationError, aws_errors
from chalicelib.core.observability import logger
from chalicelib.posts.models import Item
from chalicelib.posts.sink import ItemSink
from chalicelib.sources.adapters import Adapter, ParseContext
from chalicelib.sources.adapters.feeds import parse_feed
from chalicelib.sources.adapters.generic import parse_html, parse_json
from chalicelib.sources.adapters.hotlists import HOTLISTS
from chalicelib.sources.adapters.newsnow import parse_newsnow
from chalicelib.sources.alerts import SourceAlerts
from chalicelib.sources.challenge import challenge_reason
from chalicelib.sources.errors import FetchError, OfflineError, SourceParseError
from chalicelib.sources.fetcher import Fetcher, FetchResult
from chalicelib.sources.guard import Guard, LocalSite
from chalicelib.sources.health import CrawlOutcome, Outcome, assess, outage_key
from chalicelib.sources.models import SOURCE_ID, SourceDefinition, SourceKind, parse_definition
from chalicelib.sources.store import SourceRecord, SourceStore
from chalicelib.sources.text import decode_body
from chalicelib.sources.urls import host_key

# How long a worker's claim on a crawl message holds: longer than a crawl can take (the
# worker's Lambda timeout is 60 s), shorter than the crawl queue's visibility timeout (360 s),
# after which SQS redelivers a message whose worker died.
ATTEMPT_LEASE_SECONDS = 120
_FEEDS = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
_ACCEPT = {
    SourceKind.RSS: _FEEDS,
    SourceKind.RSSHUB: _FEEDS,
    SourceKind.HTML: "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
}


def adapter_for(definition: SourceDefinition) -> Adapter:
    if definition.kind in {SourceKind.RSS, SourceKind.RSSHUB}:
        return parse_feed
    if definition.kind is SourceKind.HOTLIST:
        return HOTLISTS[definition.hotlist or ""].parse
    if definition.kind is SourceKind.NEWSNOW:
        return parse_newsnow
    if definition.kind is SourceKind.JSON:
        return parse_json
    return parse_html


def _parse(adapter: Adapter, body: bytes, ctx: ParseContext) -> list[Item]:
    """The adapter's items; anything it raises is the page's fault, a :class:`SourceParseError`
    recorded in the source's health — never an exception that fails the worker and makes SQS
    deliver the same page again and again (adapters are pure: nothing else can go wrong)."""
    try:
        return adapter(body, ctx)
    except SourceParseError:
        raise
    except Exception as err:
        logger.exception("adapter failed on a page", extra={"source": ctx.source_id})
        raise SourceParseError(f"unreadable page ({type(err).__name__})") from err


@dataclass
class CrawlReport:
    """What one crawl did; returned by ``POST /sources/{id}/crawl`` and the worker."""

    source_id: str
    outcome: str
    started_at: str
    http_status: int | None = None
    items: int = 0
    new: int = 0
    duplicates: int = 0
    error: dict[str, str] | None = None
    healthy: bool = True
    unhealthy_reason: str | None = None
    alerted: bool = False
    elapsed_ms: int = 0
    new_post_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("new_post_ids")
        return data


class CrawlService:
    def __init__(
        self,
        store: SourceStore,
        fetcher: Fetcher,
        sink: ItemSink,
        alerts: SourceAlerts,
        *,
        local_sites: frozenset[LocalSite] = frozenset(),
        offline: bool,
        clock: Clock = utcnow,
    ) -> None:
        self._store = store
        self._fetcher = fetcher
        self._sink = sink
        self._alerts = alerts
        self._local_sites = local_sites  # what local mode serves on loopback; none in AWS
        self._offline = offline
        self._clock = clock

    def guard_for(self, definition: SourceDefinition) -> Guard:
        """Public addresses; and the local sites, for a source marked local."""
        sites = self._local_sites if definition.local else frozenset()
        return Guard(local_sites=sites, offline=self._offline)

    def crawl(self, source_id: str) -> CrawlReport:
        return self.crawl_record(self._store.require(source_id))

    def crawl_record(self, record: SourceRecord) -> CrawlReport:
        definition = record.definition
        started = self._clock()
        report = CrawlReport(definition.id, Outcome.FAILED.value, iso(started))
        outcome, result, items = self._fetch_and_parse(record, started, report)
        validators = None
        if outcome.outcome is Outcome.OK and result is not None:
            ingested = self._sink.ingest(items, credibility=definition.credibility)
            report.new, report.duplicates = ingested.new, ingested.duplicates
            report.new_post_ids = list(ingested.new_post_ids)
            validators = result.validators
        assessment = assess(record.health, outcome)
        health = assessment.health
        if assessment.became_unhealthy:
            # Alert before recording: if the alert cannot be sent, nothing is recorded and the
            # redelivered message makes the same transition and tries again.
            self._alerts.source_unhealthy(
                definition,
                health.unhealthy_reason or "",
                health,
                streak=outage_key(record.created_at, health.outages),
            )
            report.alerted = True
        self._store.record_crawl(definition.id, health, validators)
        report.outcome = outcome.outcome.value
        report.items = outcome.items or 0
        report.healthy = health.healthy
        report.unhealthy_reason = health.unhealthy_reason
        if outcome.error_code:
            report.error = {"code": outcome.error_code, "message": outcome.error or ""}
        report.elapsed_ms = int((self._clock() - started).total_seconds() * 1000)
        # A skip (offline mode refusing the public internet on purpose) is not a problem to
        # warn about: only a failure is.
        failed = outcome.error_code and outcome.outcome is not Outcome.SKIPPED
        log = logger.warning if failed else logger.info
        log("crawled source", extra={k: v for k, v in report.as_dict().items() if v is not None})
        return report

    def _fetch_and_parse(
        self, record: SourceRecord, started: datetime, report: CrawlReport
    ) -> tuple[CrawlOutcome, FetchResult | None, list[Item]]:
        definition = record.definition
        at = iso(started)
        try:
            result = self._fetcher.fetch(
                definition.fetch_url,
                self.guard_for(definition),
                validators=record.validators,
                robots=definition.honours_robots,
                accept=_ACCEPT.get(definition.kind, "application/json, */*;q=0.5"),
            )
        except OfflineError as err:
            return (
                CrawlOutcome(Outcome.SKIPPED, at, error_code=err.code, error=err.message),
                None,
                [],
            )
        except FetchError as err:
            return (
                CrawlOutcome(Outcome.FAILED, at, error_code=err.code, error=err.message),
                None,
                [],
            )
        report.http_status = result.status
        if result.not_modified:
            return CrawlOutcome(Outcome.NOT_MODIFIED, at, items=0), result, []
        if result.status >= 400:
            message = f"HTTP {result.status} from {result.url}"
            failed = CrawlOutcome(Outcome.FAILED, at, error_code="http_error", error=message)
            return _challenge(result, at) or failed, result, []
        ctx = ParseContext(
            source_id=definition.id,
            platform=definition.platform,
            fetched_at=started,
            base_url=result.url,
            content_type=result.content_type,
            mapping=definition.mapping,
            options={"feed": definition.feed or ""},
        )
        try:
            items = _parse(adapter_for(definition), result.body, ctx)
        except SourceParseError as err:
            failed = CrawlOutcome(Outcome.FAILED, at, error_code=err.code, error=err.message)
            return _challenge(result, at) or failed, result, []
        challenged = None if items else _challenge(result, at)
        if challenged:
            return challenged, result, []
        return CrawlOutcome(Outcome.OK, at, items=len(items)), result, items

    def handle_message(self, body: str) -> CrawlReport | None:
        """One SQS message ``{"source_id", "due_at"}``; None when there is nothing to do.

        A malformed message or a deleted source is logged and dropped (retrying cannot help). A
        message whose due time the source's last attempt already covers is a duplicate delivery
        and is skipped, so a repeat costs one read and no request to the site. Deliveries of one
        message that arrive together (SQS is at-least-once) race for one conditional claim of
        the due time: one crawls, the others are skipped — one request to the site, one health
        update, one alert if the source broke. If our own infrastructure fails mid-crawl the
        claim is given back and SQS redelivers; a claim whose worker died is taken over after
        ``ATTEMPT_LEASE_SECONDS`` (below the queue's visibility timeout, so the redelivery
        finds it abandoned).
        """
        try:
            message = inputs.parse_json(body, "crawl message")
            source_id = message["source_id"]
            due_at = message.get("due_at")
            if not isinstance(source_id, str) or not SOURCE_ID.match(source_id):
                raise TypeError("source_id must be a source id")
            if not (due_at is None or (isinstance(due_at, str) and len(due_at) <= 40)):
                raise TypeError("due_at must be a time")
        except (ValidationError, KeyError, TypeError) as err:
            logger.error("dropped a malformed crawl message", extra={"error": str(err)[:200]})
            return None
        record = self._store.get(source_id)
        if record is None:
            logger.warning("crawl message for a deleted source", extra={"source": source_id})
            return None
        last = record.health.last_attempt_at
        if due_at and last and last >= due_at:
            logger.info("duplicate crawl message skipped", extra={"source": source_id})
            return None
        if due_at is None:  # a manual re-send: nothing to deduplicate on
            return self.crawl_record(record)
        now = self._clock()
        stale = iso(now - timedelta(seconds=ATTEMPT_LEASE_SECONDS))
        if not self._store.claim_attempt(source_id, due_at, iso(now), stale):
            logger.info("crawl message already being handled", extra={"source": source_id})
            return None
        try:
            return self.crawl_record(record)
        except Exception:
            self._store.release_attempt(source_id, due_at)
            raise


@dataclass(frozen=True)
class CrawlMessage:
    source_id: str
    due_at: str
    delay_seconds: int = 0

    def body(self) -> str:
        return json.dumps({"source_id": self.source_id, "due_at": self.due_at})


class CrawlQueue:
    """Data access for the crawl queue: batches of up to 10 messages."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def send(self, messages: Sequence[CrawlMessage]) -> None:
        for start in range(0, len(messages), 10):
            batch = messages[start : start + 10]
            with aws_errors("crawl queue"):
                answer = self._sqs.send_message_batch(
                    QueueUrl=self._url,
                    Entries=[
                        {"Id": str(i), "MessageBody": m.body(), "DelaySeconds": m.delay_seconds}
                        for i, m in enumerate(batch)
                    ],
                )
            if answer.get("Failed"):
                raise UnavailableError(f"crawl queue refused {len(answer['Failed'])} messages")


@dataclass
class DispatchReport:
    checked: int = 0
    due: int = 0
    queued: list[str] = field(default_factory=list)
    skipped_claimed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Sources on one host are queued this far apart (SQS DelaySeconds allows up to 900).
HOST_SPACING_SECONDS = 10
MAX_DELAY_SECONDS = 900


class Dispatcher:
    def __init__(
        self,
        store: SourceStore,
        queue: Callable[[Sequence[CrawlMessage]], None],
        clock: Clock = utcnow,
        spacing_seconds: int = HOST_SPACING_SECONDS,
    ) -> None:
        self._store = store
        self._send = queue
        self._clock = clock
        self._spacing = spacing_seconds

    def tick(self) -> DispatchReport:
        now = self._clock()
        report = DispatchReport()
        per_host: dict[str, int] = defaultdict(int)
        messages: list[CrawlMessage] = []
        for record in sorted(self._store.all(), key=lambda r: r.next_due_at or ""):
            report.checked += 1
            definition = record.definition
            if not definition.enabled or (record.next_due_at and record.next_due_at > iso(now)):
                continue
            report.due += 1
            next_due = iso(now + timedelta(minutes=definition.interval_minutes))
            if not self._store.claim(definition.id, record.next_due_at, next_due):
                report.skipped_claimed.append(definition.id)
                continue
            host = host_key(definition.fetch_url)
            delay = min(per_host[host] * self._spacing, MAX_DELAY_SECONDS)
            per_host[host] += 1
            messages.append(CrawlMessage(definition.id, iso(now), delay))
            report.queued.append(definition.id)
        self._send(messages)
        return report


class SourceService:
    """Definitions through the API: every write validated first, nothing partial.

    ``local`` is a deployment fact, not a wish: a source may be marked local only in local mode,
    and then only to reach a site local mode serves (the demo site), never moto's endpoint, the
    API or anything else on the machine (decision 68). The guard enforces the same at every
    connect; this check says so at once, with a 400.
    """

    def __init__(
        self,
        store: SourceStore,
        clock: Clock = utcnow,
        *,
        local_mode: bool = False,
        local_sites: frozenset[LocalSite] = frozenset(),
    ) -> None:
        self._store = store
        self._clock = clock
        self._local_mode = local_mode
        self._local_sites = local_sites

    def create(self, body: dict[str, Any]) -> SourceRecord:
        definition = self.check_reach(parse_definition(body))
        return self._store.create(definition, iso(self._clock()))

    def replace(self, source_id: str, body: dict[str, Any]) -> SourceRecord:
        self._store.require(source_id)
        definition = self.check_reach(parse_definition(body, source_id))
        return self._store.replace_definition(definition, iso(self._clock()))

    def check_reach(self, definition: SourceDefinition) -> SourceDefinition:
        if not definition.local:
            return definition
        if not self._local_mode:
            problem = Problem("/local", "only in local mode (its demo site is what local reaches)")
            raise ValidationError("invalid source definition", [problem])
        if LocalSite.of_url(definition.fetch_url) not in self._local_sites:
            path = "/url" if definition.url else "/base"
            served = ", ".join(site.url for site in sorted(self._local_sites)) or "none running"
            problem = Problem(path, f"a local source points at the local demo site ({served})")
            raise ValidationError("invalid source definition", [problem])
        return definition

    def get(self, source_id: str) -> SourceRecord:
        return self._store.require(source_id)

    def list(self) -> list[SourceRecord]:
        return sorted(self._store.all(), key=lambda r: r.definition.id)

    def delete(self, source_id: str) -> None:
        self._store.delete(source_id)


def check_source_id(source_id: str) -> str:
    if not SOURCE_ID.match(source_id):
        raise ValidationError("invalid source id", [Problem("/id", "1-64 of a-z 0-9 _ -")])
    return source_id


def _challenge(result: FetchResult, at: str) -> CrawlOutcome | None:
    """A challenge page (captcha, login wall, WAF block) where the content should be: the
    outcome that says so, or None. Checked on an HTTP error, on a page that does not parse and
    on one that parses to nothing — a site answers a challenge in each of those ways."""
    reason = challenge_reason(
        result.status, result.url, decode_body(result.body, result.content_type)
    )
    if not reason:
        return None
    return CrawlOutcome(Outcome.CHALLENGE, at, error_code="challenge", error=reason)
