"""The document model every report is rendered from (HTML and Word), and the briefing's period.

Pure. Each report (舆情日报 daily briefing, 舆情评估 incident evaluation, 演练评估 drill report)
is first built as JSON-able data — what is stored and what ``?format=json`` answers — and then
turned into one :class:`Document`: headings, paragraphs, tables and charts. The two renderers
(:mod:`render_html`, :mod:`render_docx`) know only this model, so the three reports share them
and a report's wording lives in one place.

Charts are specifications (:class:`Chart`), not images: :mod:`charts` draws them with Pillow
and the Chinese font subset it ships, so labels, series names and axis titles are Chinese as the
HQ reads them; the caption (图1 …) is document text under the image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chalicelib.core.clock import CHINA
from chalicelib.core.errors import Problem, ValidationError

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML_TYPE = "text/html; charset=utf-8"
# ``?format=`` of a report: the first is the default (core.http.requested_format).
FORMATS = ("json", "html", "docx")
DATE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


@dataclass(frozen=True)
class Series:
    """One series of a chart; ``name`` is its legend entry."""

    name: str
    values: list[float]


@dataclass(frozen=True)
class Chart:
    """Bars (and optionally one line on a second axis, e.g. a share in %) over labels.

    Labels too long for their room are cut with an ellipsis when drawn; ``y_label`` titles the
    value axis, ``y2_label`` the line's axis.
    """

    caption: str  # document text under the image (may be Chinese)
    labels: list[str]
    bars: list[Series]
    line: Series | None = None
    y_label: str = ""
    y2_label: str = ""
    horizontal: bool = False


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]
    filename: str  # without extension, may be Chinese (RFC 5987 in the header)
    banner: str = ""  # e.g. 【演练】 or 临时版: shown above everything


def check_date(value: str) -> date:
    """A ``YYYY-MM-DD`` path parameter, or a 400 that says why not."""
    try:
        if not DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            "invalid date", [Problem("/date", "a calendar date as YYYY-MM-DD")]
        ) from None


def parse_time(value: str) -> time:
    """A validated plan's ``HH:MM`` (see ``plan.validation.BRIEFING_TIME``)."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Period:
    """The 24 hours a briefing covers, on whole UTC hours (trend counts are hourly)."""

    start: datetime
    end: datetime
    provisional: bool = False

    def hours(self) -> list[datetime]:
        return [self.start + timedelta(hours=i) for i in range(self.hours_count)]

    @property
    def hours_count(self) -> int:
        return int((self.end - self.start).total_seconds() // 3600)

    def utc_days(self) -> list[str]:
        days = {h.date().isoformat() for h in self.hours()}
        return sorted(days)

    def contains(self, iso_text: str) -> bool:
        moment = datetime.fromisoformat(iso_text.replace("Z", "+00:00"))
        return self.start <= moment < self.end

    def label(self) -> str:
        a, b = self.start.astimezone(CHINA), self.end.astimezone(CHINA)
        return f"{a:%Y-%m-%d %H:%M} 至 {b:%Y-%m-%d %H:%M}（北京时间）"

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "timezone": "Asia/Shanghai",
            "label": self.label(),
            "provisional": self.provisional,
        }


def _hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def due_at(day: date, at: time) -> datetime:
    """When the briefing of ``day`` is due: ``at`` China time on that day."""
    return datetime.combine(day, at, tzinfo=CHINA)


def period_for(day: date, at: time, now: datetime) -> Period:
    """The 24 hours before the briefing time of ``day`` (whole hours); before that time, the 24
    hours up to the current hour, marked provisional (served, never stored)."""
    due = due_at(day, at).astimezone(UTC)
    if now >= due:
        end = _hour_floor(due)
        return Period(end - timedelta(hours=24), end)
    return rolling_period(now)


def rolling_period(now: datetime) -> Period:
    """The 24 hours up to the end of the current hour, provisional: what a briefing asked for
    "now" covers (``GET /briefings/latest``), and a date's briefing before its time."""
    end = _hour_floor(now.astimezone(UTC)) + timedelta(hours=1)
    return Period(end - timedelta(hours=24), end, provisional=True)


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def short(text: str, limit: int) -> str:
    """Whitespace folded, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def china_time(value: Any) -> str:
    """An ISO time as ``MM-DD HH:MM`` China time, or a dash."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(CHINA).strftime("%m-%d %H:%M")
