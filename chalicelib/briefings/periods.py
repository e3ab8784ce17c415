"""The weeks and months of the 舆情周报 and 月报: their keys, their China-time bounds. Pure.

A week is an ISO week (``2026-W49``), Monday 00:00 to the next Monday 00:00 China time; a month
(``2026-12``) the 1st 00:00 to the next 1st 00:00 China time. China midnight is 16:00 UTC, so
both are whole UTC hours, as the trend counts are. Keys are parsed strictly: ``2026-W53`` only
in a year that has 53 ISO weeks, no ``2026-W7`` or ``2026-1``. Whether a span may be asked for
(not in the future, within the trend counts' retention) is the service's, which has the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from chalicelib.briefings.models import Period
from chalicelib.core.clock import CHINA
from chalicelib.core.errors import Problem, ValidationError

WEEK, MONTH = "week", "month"
KINDS = (WEEK, MONTH)
TITLES = {WEEK: "舆情周报", MONTH: "舆情月报"}
# The schedule mails a finished span at 09:00 China time on its first day after it (Monday, the
# 1st), and retries a failed mail until the end of the next day.
MAIL_AT = timedelta(hours=9)
MAIL_UNTIL = timedelta(days=2)
_WEEK_KEY = re.compile(r"\A([0-9]{4})-W([0-9]{2})\Z")
_MONTH_KEY = re.compile(r"\A([0-9]{4})-([0-9]{2})\Z")


@dataclass(frozen=True)
class Span:
    """One week or month: ``start`` and ``end`` are UTC instants of China midnights."""

    kind: str
    key: str
    start: datetime
    end: datetime

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    def first_day(self) -> date:
        return self.start.astimezone(CHINA).date()

    def period(self, now: datetime) -> Period:
        """The whole span once it has ended; before that, from its start to the end of the
        current hour, provisional (served, never stored)."""
        if now >= self.end:
            return Period(self.start, self.end)
        hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        return Period(self.start, max(hour + timedelta(hours=1), self.start), provisional=True)

    def mail_window(self) -> tuple[datetime, datetime]:
        """When the schedule mails this span: 09:00 China time on the day after it ends, until the
        end of the next day."""
        return self.end + MAIL_AT, self.end + MAIL_UNTIL


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=CHINA).astimezone(UTC)


def week_span(year: int, week: int) -> Span:
    """ISO week ``week`` of ``year``; ValueError if that year has no such week."""
    monday = date.fromisocalendar(year, week, 1)
    return Span(
        WEEK, f"{year:04d}-W{week:02d}", _midnight(monday), _midnight(monday + timedelta(days=7))
    )


def month_span(year: int, month: int) -> Span:
    """Month ``month`` of ``year``; ValueError if it is not a month."""
    first = date(year, month, 1)
    after = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Span(MONTH, f"{year:04d}-{month:02d}", _midnight(first), _midnight(after))


def check_week(value: str) -> Span:
    """A ``YYYY-Www`` path parameter (ISO week), or a 400 that says why not."""
    match = _WEEK_KEY.match(value)
    try:
        if not match:
            raise ValueError(value)
        return week_span(int(match[1]), int(match[2]))
    except (ValueError, OverflowError):
        raise ValidationError(
            "invalid week",
            [Problem("/week", "an ISO week as YYYY-Www (W01–W52, W53 in years that have it)")],
        ) from None


def check_month(value: str) -> Span:
    """A ``YYYY-MM`` path parameter, or a 400 that says why not."""
    match = _MONTH_KEY.match(value)
    try:
        if not match:
            raise ValueError(value)
        return month_span(int(match[1]), int(match[2]))
    except (ValueError, OverflowError):
        raise ValidationError("invalid month", [Problem("/month", "a month as YYYY-MM")]) from None


def span_of(kind: str, moment: datetime) -> Span:
    """The week or month (China time) that ``moment`` falls in."""
    day = moment.astimezone(CHINA).date()
    if kind == WEEK:
        year, week, _ = day.isocalendar()
        return week_span(year, week)
    return month_span(day.year, day.month)


def previous(kind: str, moment: datetime) -> Span:
    """The last finished week or month before the one ``moment`` falls in."""
    return span_of(kind, span_of(kind, moment).start - timedelta(seconds=1))
