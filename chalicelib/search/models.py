"""The search's vocabulary: its time window, the cursor that resumes it, the text a rule reads.

Pure: no clock, no table. A window is half-open, ``[since, until)`` in UTC; ``from`` and ``to``
come as China dates (a date's whole day, Beijing time: the users' calendar) or as instants with
their offset. The feed index ``by_day`` is partitioned by UTC day, so a window is read as its UTC
days, newest first, each between two ISO strings: stored ``seen_at`` values are ISO-8601 in UTC
with six-digit fractions or none, and such strings sort as the instants they name.

A cursor says where the next page starts (a day, and the last index entry read on it, or the top
of the day) and what it was made for: the search's fingerprint (rule and filters) and its
resolved window, so "more" continues the same search even when ``to`` was "now". It is base64 of
a small JSON object with a checksum; anything that does not decode to a position inside its own
window is refused before a query is made (DynamoDB answers a start key outside the key
condition with an error, which would be a 500).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chalicelib.core.clock import CHINA, iso
from chalicelib.posts.models import feed_day
from chalicelib.scoring.rules import normalise

MAX_WINDOW = timedelta(days=31)
DEFAULT_WINDOW = timedelta(days=7)
MAX_CURSOR = 400
_TICK = timedelta(microseconds=1)
_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
_INSTANT = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})\Z")
_POST_ID = re.compile(r"\A[A-Za-z0-9_-]{1,80}\Z")
_CURSOR_VERSION = 1
# Posts are kept 90 days; the bounds keep every date computed from a window in the calendar.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
BOUND_FORMAT = (
    "a date YYYY-MM-DD (China time) or an instant with its offset (2026-05-01T08:00+08:00), "
    "from 2000 to 2099"
)


def parse_bound(text: str, *, end: bool) -> datetime | None:
    """``from`` (``end=False``) or ``to`` (``end=True``) as an instant in UTC; None if it is
    neither a date nor an instant with an offset, or is not in [2000, 2100). A date is a China
    day: ``from`` its first moment, ``to`` the moment after its last, so ``from=to=<date>`` is
    that whole day."""
    try:
        if _DATE.match(text):
            day = date.fromisoformat(text) + (timedelta(days=1) if end else timedelta())
            return _in_range(datetime.combine(day, time(), CHINA).astimezone(UTC))
        if _INSTANT.match(text):
            return _in_range(datetime.fromisoformat(text).astimezone(UTC))
    except (ValueError, OverflowError):  # 2026-02-30, 24:00, or past the calendar's end
        return None
    return None


def _in_range(moment: datetime) -> datetime | None:
    return moment if EARLIEST <= moment <= LATEST else None


@dataclass(frozen=True)
class Window:
    """``[since, until)`` in UTC."""

    since: datetime
    until: datetime

    def days(self) -> list[str]:
        """The UTC days (``by_day`` partitions) the window touches, newest first."""
        if self.until <= self.since:
            return []
        first, last = self.since.date(), (self.until - _TICK).date()
        return [(last - timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]

    def bounds(self, day: str) -> tuple[str, str]:
        """The inclusive ``seen_at`` range to read on ``day`` (a ``BETWEEN`` on the sort key)."""
        start = datetime.combine(date.fromisoformat(day), time(), UTC)
        low = max(self.since, start)
        high = min(self.until, start + timedelta(days=1)) - _TICK
        return iso(low), iso(high)

    def contains(self, day: str, seen_at: str) -> bool:
        """Is the entry at ``seen_at`` on ``day`` one this window reads?"""
        if day not in self.days() or feed_day(seen_at) != day:
            return False
        low, high = self.bounds(day)
        return low <= seen_at <= high

    def end_of(self, day: str) -> datetime:
        """The moment after ``day`` within the window: everything newer was read."""
        start = datetime.combine(date.fromisoformat(day), time(), UTC)
        return min(self.until, start + timedelta(days=1))


@dataclass(frozen=True)
class Position:
    """Where a search goes on: ``day``, after the index entry ``key`` (``pk``, ``day``,
    ``seen_at``), or from the top of the day when ``key`` is None."""

    day: str
    key: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SearchCursor:
    fingerprint: str
    window: Window
    position: Position


def fingerprint(what: Sequence[str | bool | None]) -> str:
    """What a cursor must agree with: the rule as written and the filters' values."""
    raw = json.dumps(list(what), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def _checksum(body: Mapping[str, Any]) -> str:
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


def encode_cursor(cursor: SearchCursor) -> str:
    body: dict[str, Any] = {
        "v": _CURSOR_VERSION,
        "f": cursor.fingerprint,
        "s": iso(cursor.window.since),
        "u": iso(cursor.window.until),
        "d": cursor.position.day,
    }
    key = cursor.position.key
    if key is not None:
        body.update(k=str(key["pk"]), t=str(key["seen_at"]))
    body["c"] = _checksum(body)
    raw = json.dumps(body, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(text: str) -> SearchCursor | None:
    """The cursor ``text`` encodes, or None if it is not one this API gave out intact."""
    if len(text) > MAX_CURSOR:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        body = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(body, dict) or body.get("v") != _CURSOR_VERSION:
        return None
    keyed = {"v", "f", "s", "u", "d", "k", "t", "c"}
    if set(body) not in (keyed, keyed - {"k", "t"}):
        return None
    if not all(isinstance(body[name], str) for name in body if name != "v"):
        return None
    check = body.pop("c")
    if check != _checksum(body) or not _DATE.match(body["d"]):
        return None
    since, until = _instant(body["s"]), _instant(body["u"])
    if since is None or until is None or not since <= until <= since + MAX_WINDOW:
        return None
    window = Window(since, until)
    day = body["d"]
    if day not in window.days():
        return None
    key: dict[str, str] | None = None
    if "k" in body:
        key = {"pk": body["k"], "day": day, "seen_at": body["t"]}
        if not _POST_ID.match(key["pk"]) or not window.contains(day, key["seen_at"]):
            return None
    return SearchCursor(body["f"], window, Position(day, key))


def _instant(text: str) -> datetime | None:
    if len(text) > 40 or not _INSTANT.match(text):
        return None
    try:
        return _in_range(datetime.fromisoformat(text).astimezone(UTC))
    except (ValueError, OverflowError):
        return None


def searchable_text(post: Mapping[str, Any]) -> str:
    """What a rule reads of a stored post: its title and text as scoring read them (the text
    as stored, cut to one write unit for a long post), normalised once."""
    title, text = str(post.get("title") or ""), str(post.get("text") or "")
    if text and title and not text.startswith(title):
        return normalise(f"{title}\n{text}")
    return normalise(text or title)
