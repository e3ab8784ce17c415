"""The 周报's and 月报's spans: keys parsed strictly, China-time bounds, the last finished span."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.briefings.periods import MONTH, WEEK, check_month, check_week, previous
from chalicelib.core.errors import ValidationError


def test_a_week_is_monday_to_monday_china_time() -> None:
    span = check_week("2026-W49")
    assert (span.kind, span.key, span.title) == (WEEK, "2026-W49", "舆情周报")
    assert span.start == datetime(2026, 11, 29, 16, tzinfo=UTC)  # Monday 11-30 00:00 China
    assert span.end == datetime(2026, 12, 6, 16, tzinfo=UTC)
    # W53 only in a year that has it: 2026 begins on a Thursday, 2027 does not
    assert check_week("2026-W53").end == datetime(2027, 1, 3, 16, tzinfo=UTC)
    assert check_week("2020-W01").start == datetime(2019, 12, 29, 16, tzinfo=UTC)


def test_a_month_is_the_first_to_the_next_first_china_time() -> None:
    span = check_month("2026-12")
    assert (span.kind, span.key, span.title) == (MONTH, "2026-12", "舆情月报")
    assert span.start == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert span.end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert check_month("2028-02").end - check_month("2028-02").start == (
        datetime(2028, 3, 1) - datetime(2028, 2, 1)
    )


@pytest.mark.parametrize(
    "key", ["2027-W53", "2026-W00", "2026-W54", "2026-W7", "2026W49", "2026-w49", "9999-W52", ""]
)
def test_a_bad_week_is_a_400_naming_the_week(key: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_week(key)
    assert [p.path for p in caught.value.problems] == ["/week"]


@pytest.mark.parametrize("key", ["2026-13", "2026-00", "2026-1", "2026-12-01", "0000-01", "latest"])
def test_a_bad_month_is_a_400_naming_the_month(key: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_month(key)
    assert [p.path for p in caught.value.problems] == ["/month"]


def test_the_previous_span_is_the_last_finished_one_in_china_time() -> None:
    # Monday 2026-12-07 00:30 China time is still Sunday in UTC: last week is W49 all the same
    now = datetime(2026, 12, 6, 16, 30, tzinfo=UTC)
    assert previous(WEEK, now).key == "2026-W49"
    assert previous(MONTH, now).key == "2026-11"
    # 2027-01-01 00:30 China time: last week is 2026's W53, last month 2026-12
    new_year = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert previous(WEEK, new_year).key == "2026-W52"
    assert previous(MONTH, new_year).key == "2026-12"
    assert previous(WEEK, datetime(2027, 1, 4, 1, tzinfo=UTC)).key == "2026-W53"


def test_the_current_span_is_provisional_up_to_the_end_of_the_hour() -> None:
    span = check_week("2026-W49")
    now = datetime(2026, 12, 2, 3, 20, tzinfo=UTC)
    current = span.period(now)
    assert current.provisional is True
    assert (current.start, current.end) == (span.start, datetime(2026, 12, 2, 4, tzinfo=UTC))
    done = span.period(span.end)
    assert (done.start, done.end, done.provisional) == (span.start, span.end, False)
    # The mail window: Monday 09:00 China time until Wednesday 00:00
    assert span.mail_window() == (
        datetime(2026, 12, 7, 1, tzinfo=UTC),
        datetime(2026, 12, 8, 16, tzinfo=UTC),
    )
