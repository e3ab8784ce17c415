"""The one notion of "now": timezone-aware UTC, injectable for tests.

Services take a ``Clock`` in their constructor (default :func:`utcnow`) so that deadlines,
retries and rate limits can be tested without sleeping or patching ``datetime``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

Clock = Callable[[], datetime]
# Beijing time for people (SMS, daily counts): no daylight saving, so a fixed offset is exact.
CHINA = timezone(timedelta(hours=8))


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_instant(value: str) -> datetime:
    """A stored ISO time (``Z`` or an offset, fractions or not; naive means UTC). Unreadable:
    the far future, so a damaged deadline never shows as overdue."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    """ISO-8601 in UTC with an explicit offset: the one time format stored and served."""
    return moment.astimezone(UTC).isoformat()
