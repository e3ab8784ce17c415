"""Health rules: when a source turns unhealthy, when it recovers, and that it alerts once."""

from __future__ import annotations

from chalicelib.sources.health import (
    FAILURES_BEFORE_UNHEALTHY,
    CrawlOutcome,
    Outcome,
    assess,
    outage_key,
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


def test_each_failure_streak_is_numbered_once_and_the_number_outlives_recovery():
    # GIVEN a source that breaks, recovers, and breaks again (a challenge: at once)
    challenge = CrawlOutcome(Outcome.CHALLENGE, "2023-11-15T00:02:00+00:00", error="验证")
    health, transitions = run(SourceHealth(), challenge, challenge, ok(3), challenge)
    # THEN two streaks, each counted on its transition only
    assert transitions == [True, False, False, True]
    assert health.outages == 2


def test_the_same_stored_record_gives_the_same_streak_whenever_the_crawl_runs():
    # GIVEN one stored health WHEN the same transition is assessed at two different times (a
    # redelivered crawl message) THEN the streak number, and so the key, is the same
    stored = SourceHealth(consecutive_failures=FAILURES_BEFORE_UNHEALTHY - 1)
    first = assess(stored, FAILED).health
    later = assess(stored, CrawlOutcome(Outcome.FAILED, "2023-11-15T09:00:00+00:00")).health
    assert first.unhealthy_since != later.unhealthy_since  # what the old key was made of
    created = "2023-11-01T08:00:00.123456+00:00"
    assert outage_key(created, first.outages) == outage_key(created, later.outages)
    assert outage_key(created, 1) == "20231101080000123456#1"
    # AND a source deleted and created again counts its streaks anew under another key
    assert outage_key("2023-12-01T00:00:00+00:00", 1) != outage_key(created, 1)
    assert outage_key(None, 1) == "0#1"
