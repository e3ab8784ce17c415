"""Source health rules (技术保障): pure, so the thresholds are tested without AWS.

A source turns unhealthy when it answers with a login wall or an anti-bot challenge (at once),
fails ``FAILURES_BEFORE_UNHEALTHY`` crawls in a row, or parses zero items where its recent
successful crawls averaged at least ``ZERO_ITEMS_BASELINE``. It turns healthy again on the next
crawl that yields items (or, after failures, on a 304). The alert goes out only on the transition
to unhealthy, never on every failure, keyed on the streak's number (:func:`outage_key`). An
"offline" refusal is the operator's switch, not the source's fault: it is recorded but changes
nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from chalicelib.sources.models import SourceHealth

FAILURES_BEFORE_UNHEALTHY = 3
ZERO_ITEMS_BASELINE = 5.0
RECENT_CRAWLS = 5
# Why a source is unhealthy (``SourceHealth.unhealthy_code``).
CHALLENGE = "challenge"
FAILURES = "failures"
ZERO_ITEMS = "zero_items"


class Outcome(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"
    CHALLENGE = "challenge"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CrawlOutcome:
    outcome: Outcome
    at: str
    items: int | None = None
    error_code: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Assessment:
    health: SourceHealth
    became_unhealthy: bool
    recovered: bool


def assess(previous: SourceHealth, result: CrawlOutcome) -> Assessment:
    """The source's health after ``result``; says whether it just turned unhealthy or recovered."""
    health = replace(
        previous, recent_items=list(previous.recent_items), status=result.outcome.value
    )
    health.last_attempt_at = result.at
    if result.outcome is Outcome.SKIPPED:
        health.last_error, health.last_error_code = result.error, result.error_code
        return Assessment(health, False, False)

    if result.outcome in {Outcome.FAILED, Outcome.CHALLENGE}:
        health.consecutive_failures += 1
        health.last_error, health.last_error_code = result.error, result.error_code
        if result.outcome is Outcome.CHALLENGE:
            _unhealthy(
                health, CHALLENGE, f"login wall or anti-bot challenge: {result.error}", result.at
            )
        elif health.consecutive_failures >= FAILURES_BEFORE_UNHEALTHY:
            _unhealthy(
                health,
                FAILURES,
                f"{health.consecutive_failures} failed crawls in a row; last: {result.error}",
                result.at,
            )
    else:
        health.consecutive_failures = 0
        health.last_success_at = result.at
        health.last_error = health.last_error_code = None
        if result.outcome is Outcome.NOT_MODIFIED:
            # A 304 says the server answers again, not that lost content came back.
            if health.unhealthy_code == FAILURES:
                _healthy(health)
        else:
            items = result.items or 0
            health.last_items = items
            baseline = (
                sum(health.recent_items) / len(health.recent_items) if health.recent_items else 0
            )
            was_empty = previous.unhealthy_code == ZERO_ITEMS
            if items == 0 and (baseline >= ZERO_ITEMS_BASELINE or was_empty):
                if not was_empty:
                    _unhealthy(
                        health,
                        ZERO_ITEMS,
                        f"zero items where recent crawls averaged {baseline:.0f}",
                        result.at,
                    )
            else:
                if items > 0:
                    health.recent_items = [*health.recent_items, items][-RECENT_CRAWLS:]
                _healthy(health)
    return Assessment(
        health,
        became_unhealthy=previous.healthy and not health.healthy,
        recovered=not previous.healthy and health.healthy,
    )


def outage_key(created_at: str | None, outages: int) -> str:
    """Which failure streak of which source an alert is about: the source's creation stamp
    (digits; a source deleted and created again starts a new count) and the streak's number.

    Both come from the stored record, never from the crawl that noticed the streak: a crawl
    message delivered twice (the first delivery's record write failed) gives the same key, where
    ``unhealthy_since`` — that crawl's own time — would differ.
    """
    stamp = "".join(ch for ch in (created_at or "") if ch.isdigit())[:20] or "0"
    return f"{stamp}#{outages}"


def _unhealthy(health: SourceHealth, code: str, reason: str, at: str) -> None:
    if health.healthy:
        health.unhealthy_since = at
        health.outages += 1
    health.unhealthy_code = code
    health.unhealthy_reason = reason
    health.healthy = False


def _healthy(health: SourceHealth) -> None:
    health.healthy = True
    health.unhealthy_code = None
    health.unhealthy_reason = None
    health.unhealthy_since = None
