"""Lists as spreadsheets (导出 Excel): the vocabulary every export shares. Pure.

Officials forward lists — the feed, the hot stories, the incident ledger (事件台账), the alerts
sent, the evidence kept — as Excel workbooks. Each list route answers ``?format=xlsx`` with the
rows its JSON answer holds for the same caller and query: the :class:`Sheet` is built from that
very answer (:mod:`chalicelib.exports.sheets`), so whatever the JSON masks (contacts) or leaves
out (evidence content) the workbook masks and leaves out too. One row per item, Chinese headers,
and a second sheet, 说明, saying what was exported, when, with which query.

Two rules make every cell safe and useful (:mod:`chalicelib.exports.render_xlsx` applies them):

- **Text is never a formula.** A crawled post saying ``=HYPERLINK("http://…", "点击领取")`` or
  ``@SUM(A1)`` arrives as exactly those characters. Every text cell is written as a string, and
  one that starts with what a spreadsheet takes for the start of a formula (``=``, ``+``, ``-``,
  ``@``, tab, carriage return: OWASP's list for CSV injection) also carries Excel's quote prefix
  (the ``'`` a person types), so that editing the cell later does not make it one either. The
  text itself is unchanged: no apostrophe is added to what the post said.
- **Times are China time** (北京时间, UTC+8) and real date-times, so an analyst can sort and
  filter on them; Excel has no time zones, so each time column's header says 北京时间.

Limits: a sheet holds at most Excel's 1,048,576 rows (the header is one of them) and a cell at
most 32,767 characters; longer text is cut with an ellipsis, and characters XML 1.0 cannot carry
(NUL and the other C0 controls but tab, line feed and carriage return) are dropped. Each route's
own limit (200 posts, 500 messages, …) keeps a workbook far smaller than either, and its
memory bounded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from chalicelib.core.clock import CHINA

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# ``?format=`` of a list: the first is the default (core.http.requested_format).
FORMATS = ("json", "xlsx")
# Excel's grid: 1,048,576 rows (one of them the header) and 32,767 characters in a cell.
MAX_ROWS = 1_048_575
MAX_CELL_CHARS = 32_767
# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 has no way to carry these (openpyxl would raise); lone surrogates cannot be UTF-8.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

Cell = str | int | float | datetime | None


class Kind(StrEnum):
    """How a column's values are shown."""

    TEXT = "text"
    INTEGER = "integer"  # 0
    NUMBER = "number"  # 0.00 (scores)
    TIME = "time"  # a China-time date-time, TIME_FORMAT


@dataclass(frozen=True)
class Column:
    header: str  # Chinese, what the official reads
    kind: Kind = Kind.TEXT
    width: int = 12  # in characters (a CJK character counts about two)


@dataclass(frozen=True)
class Sheet:
    """One list: a header row, one row per item; ``notes`` go on the 说明 sheet."""

    title: str  # the sheet's tab, e.g. 实时舆情 (≤ 31 characters, no []:*?/ or backslash)
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]]
    notes: list[tuple[str, str]] = field(default_factory=list)
    stem: str = ""  # the file name's stem when not the title (证据清单-<incident>)
    filename: str = ""  # set by :func:`finish`
    exported_at: datetime | None = None  # UTC, set by :func:`finish`

    def __post_init__(self) -> None:
        widths = {len(row) for row in self.rows}
        if widths - {len(self.columns)}:
            raise ValueError(f"{self.title}: rows must have {len(self.columns)} cells")


@dataclass(frozen=True)
class Names:
    """The current plan's names for the ids a list holds (groups, subjects), so an exported
    sheet says 宣传组 and 医疗安全 where the JSON says ``publicity`` and ``medical``."""

    groups: Mapping[str, str] = field(default_factory=dict)
    subjects: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: Mapping[str, Any]) -> Names:
        def named(entries: Any) -> dict[str, str]:
            return {
                str(e["id"]): str(e.get("name") or e["id"])
                for e in entries or []
                if isinstance(e, Mapping) and e.get("id")
            }

        return cls(named(plan.get("groups")), named(plan.get("subjects")))

    def group(self, group_id: Any) -> str:
        return self.groups.get(str(group_id), str(group_id)) if group_id else ""

    def subject(self, subject_id: Any) -> str:
        return self.subjects.get(str(subject_id), str(subject_id)) if subject_id else ""


# A list's JSON answer and the plan's names → its sheet (:mod:`chalicelib.exports.sheets`).
ToSheet = Callable[[Mapping[str, Any], Names], Sheet]


@dataclass(frozen=True)
class Workbook:
    """An export as handed out: its file name (Chinese, with the time of export) and bytes."""

    filename: str
    body: bytes


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet take this text for a formula (or its start)?"""
    return text.startswith(FORMULA_STARTS)


def cell_text(text: str) -> str:
    """Text a cell can hold: no character XML refuses, at most :data:`MAX_CELL_CHARS`."""
    text = _SURROGATE.sub("\ufffd", _NOT_XML.sub("", text))
    if len(text) > MAX_CELL_CHARS:
        return text[: MAX_CELL_CHARS - 1] + "…"
    return text


def china(value: Any) -> datetime | str | None:
    """A stored ISO time (UTC, ``Z`` or an offset; naive means UTC) as a naive China-time
    date-time for a cell; a value that is no time stays as it is (text), absent is empty."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return _to_china(moment)


def _to_china(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(CHINA).replace(tzinfo=None)


def joined(values: Iterable[Any], sep: str = "、") -> str:
    return sep.join(str(v) for v in values if v not in (None, ""))


def yes_no(value: Any) -> str:
    return "是" if value else "否"


def finish(sheet: Sheet, now: datetime, source: str, query: Mapping[str, str]) -> Sheet:
    """The sheet as handed out: its file name (stem and export time, China time) and the 说明
    rows every export starts with — what it is, when, which query, how many rows."""
    local = _to_china(now)
    conditions = "；".join(f"{k}={v}" for k, v in sorted(query.items()) if k != "format")
    notes = [
        ("导出内容", f"{sheet.title}（{source}）"),
        ("导出时间（北京时间）", f"{local:%Y-%m-%d %H:%M:%S}"),
        ("查询条件", conditions or "（无，默认条件）"),
        ("条数", str(len(sheet.rows))),
        ("时间", "表中时间均为北京时间（UTC+8）"),
    ]
    if len(sheet.rows) > MAX_ROWS:
        notes.append(("截断", f"Excel 每表最多 {MAX_ROWS} 行，仅含前 {MAX_ROWS} 行"))
    return replace(
        sheet,
        notes=notes + list(sheet.notes),
        filename=f"{sheet.stem or sheet.title}-{local:%Y%m%d-%H%M}.xlsx",
        exported_at=now,
    )
