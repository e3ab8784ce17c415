"""The backlog of unpublished alerts (积压), as /health and the metrics show it: pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.alerts.models import Backlog

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def test_an_empty_backlog_is_zero_old() -> None:
    empty = Backlog.of([])
    assert (empty.pending, empty.oldest_created_at) == (0, None)
    assert empty.as_dict(NOW) == {
        "pending": 0,
        "oldest_pending_at": None,
        "oldest_age_seconds": 0,
        "as_of": NOW.isoformat(),
    }


def test_the_backlog_is_as_old_as_its_oldest_message_whatever_the_offset() -> None:
    # GIVEN pending messages written at different times (one stored with +08:00)
    created = [
        (NOW - timedelta(minutes=3)).isoformat(),
        "2026-03-02T08:30:00+08:00",  # 00:30 UTC: the oldest
        (NOW - timedelta(seconds=5)).isoformat(),
    ]
    backlog = Backlog.of(created)
    # THEN the count, the oldest by instant (not by text) and its age
    assert backlog.pending == 3
    assert backlog.oldest_created_at == "2026-03-02T08:30:00+08:00"
    assert backlog.oldest_age_seconds(NOW) == 30 * 60
    assert backlog.as_dict(NOW)["oldest_age_seconds"] == 1800
