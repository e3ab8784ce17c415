"""Health rules: when a source turns unhealthy, when it recovers, and that it alerts once."""

from __future__ import annotations

from chalicelib.sources.health import (
    FAILURES_BEFORE_UNHEALTHY,
    CrawlOutcome,
    Outcome,
    assess,
)
from chalicelib.sources.models import SourceHealth


def run(health: SourceHealth, *outcomes: CrawlOutcome) -> tuple[SourceHealth, list[bool]]:
    transitions = []
    for outcome in outcomes:
        result = assess(health, outcome)
        health = result.health
        transitions.append(result.became_unhealthy)
    return health, transitions


def ok(items: int) -> CrawlOutcome:
    return CrawlOutcome(Outcome.OK, "2023-11-15T00:00:00+00:00", items=items)


FAILED = CrawlOutcome(
    Outcome.FAILED, "2023-11-15T00:01:00+00:00", error_code="timeout", error="slow"
)


def test_n_failures_in_a_row_turn_it_unhealthy_once():
    health, transitions = run(SourceHealth(), *[FAILED] * (FAILURES_BEFORE_UNHEALTHY + 2))
    assert not health.healthy
    assert health.unhealthy_code == "failures"
    assert transitions.count(True) == 1
    assert transitions.index(True) == FAILURES_BEFORE_UNHEALTHY - 1
    assert health.consecutive_failures == FAILURES_BEFORE_UNHEALTHY + 2


def test_a_success_between_failures_resets_the_count():
    health, transitions = run(SourceHealth(), FAILED, FAILED, ok(20), FAILED, FAILED)
    assert health.healthy
    assert not any(transitions)


def test_a_challenge_is_unhealthy_at_once():
    challenge = CrawlOutcome(Outcome.CHALLENGE, "t", error_code="challenge", error="captcha")
    health, transitions = run(SourceHealth(), challenge)
    assert transitions == [True]
    assert health.unhealthy_code == "challenge"


def test_zero_items_where_there_used_to_be_many():
    health, transitions = run(SourceHealth(), ok(30), ok(28), ok(0), ok(0))
    assert transitions == [False, False, True, False]
    assert health.unhealthy_code == "zero_items"
    health, _ = run(health, ok(25))
    assert health.healthy


def test_a_quiet_source_with_few_items_is_not_unhealthy_when_empty():
    health, transitions = run(SourceHealth(), ok(1), ok(0))
    assert health.healthy
    assert not any(transitions)


def test_offline_skips_change_nothing_but_the_attempt():
    skipped = CrawlOutcome(Outcome.SKIPPED, "t2", error_code="offline", error="offline")
    health, transitions = run(SourceHealth(), *[skipped] * 5)
    assert health.healthy
    assert health.consecutive_failures == 0
    assert not any(transitions)
    assert health.last_error_code == "offline"


def test_a_304_ends_a_failure_streak_but_not_a_zero_items_alarm():
    health, _ = run(SourceHealth(), *[FAILED] * FAILURES_BEFORE_UNHEALTHY)
    recovered = assess(health, CrawlOutcome(Outcome.NOT_MODIFIED, "t3"))
    assert recovered.health.healthy
    assert recovered.recovered
    empty, _ = run(SourceHealth(), ok(30), ok(0))
    still = assess(empty, CrawlOutcome(Outcome.NOT_MODIFIED, "t4"))
    assert not still.health.healthy
