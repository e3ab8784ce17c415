"""Excel exports without AWS: the cell rules, the sheets of each list, and the workbook read back.

Every workbook is read back with openpyxl, as a colleague's Excel would open it: what matters is
each cell's type and value, not how the writer was called.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from chalicelib.exports import models, render_xlsx, sheets
from chalicelib.exports.models import (
    FORMULA_STARTS,
    MAX_CELL_CHARS,
    Column,
    Kind,
    Names,
    Sheet,
    cell_text,
    china,
    finish,
    is_formula_like,
)

NOW = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 2026-03-02 00:30 China time
NAMES = Names.of(
    {
        "groups": [{"id": "hq", "name": "指挥部"}, {"id": "office", "name": "办公室"}],
        "subjects": [{"id": "hospital", "name": "滨江一院"}],
    }
)


def read(sheet: Sheet) -> tuple[Worksheet, Worksheet]:
    """The data sheet and the 说明 sheet of ``sheet`` rendered and opened again."""
    book = load_workbook(io.BytesIO(render_xlsx.render(sheet)))
    data, notes = book.worksheets
    assert isinstance(data, Worksheet)
    assert isinstance(notes, Worksheet)
    return data, notes


def one_column(*values: Any, kind: Kind = Kind.TEXT) -> Sheet:
    return Sheet("测试", (Column("内容", kind),), [(v,) for v in values])


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_text_that_starts_like_a_formula_is_stored_as_that_text(start: str) -> None:
    # GIVEN a post that starts with what a spreadsheet takes for a formula
    text = f'{start}HYPERLINK("http://evil.example","点击")'
    # WHEN it is exported
    data, _ = read(one_column(text))
    cell = data["A2"]
    # THEN the cell is a string holding exactly that text, quote-prefixed like a typed '…
    assert cell.data_type == "s"
    assert cell.value == text
    assert cell.quotePrefix is True
    # AND no formula is anywhere in the file
    with zipfile.ZipFile(io.BytesIO(render_xlsx.render(one_column(text)))) as parts:
        xml = parts.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml
    assert b"<f " not in xml


def test_ordinary_text_and_numbers_keep_their_types() -> None:
    data, _ = read(Sheet("测试", (Column("文"), Column("数", Kind.NUMBER)), [("1+1 网友", -0.8)]))
    text, number = data["A2"], data["B2"]
    assert (text.value, text.data_type, text.quotePrefix) == ("1+1 网友", "s", False)
    assert (number.value, number.data_type, number.number_format) == (-0.8, "n", "0.00")
    assert not is_formula_like("滨江一院")
    assert is_formula_like("-1")
    assert is_formula_like("\r=1")


def test_times_are_china_time_as_real_date_times() -> None:
    # GIVEN stored UTC times in their spellings
    assert china("2026-03-01T16:30:00+00:00") == datetime(2026, 3, 2, 0, 30)
    assert china("2026-03-01T16:30:00Z") == datetime(2026, 3, 2, 0, 30)
    assert china("2026-03-01T16:30:00") == datetime(2026, 3, 2, 0, 30)  # naive means UTC
    assert china("not a time") == "not a time"
    assert china(None) is None
    assert china("") is None
    # WHEN written THEN a date-time cell with its format, no time zone (Excel has none)
    data, _ = read(one_column(china("2026-03-01T16:30:00Z"), kind=Kind.TIME))
    assert data["A2"].value == datetime(2026, 3, 2, 0, 30)
    assert data["A2"].number_format == models.TIME_FORMAT


def test_a_cell_holds_only_what_xml_and_excel_can() -> None:
    assert cell_text("坏\x00字\x1b") == "坏字"
    assert cell_text("坏\ud800字") == "坏\ufffd字"
    long = cell_text("长" * (MAX_CELL_CHARS + 10))
    assert len(long) == MAX_CELL_CHARS
    assert long.endswith("…")
    data, _ = read(one_column("\x00=1+1", "", None, True))
    assert (data["A2"].value, data["A2"].quotePrefix) == ("=1+1", True)
    assert data["A3"].value is None
    assert data["A4"].value is None
    assert data["A5"].value == "是"


def test_rows_beyond_excel_s_grid_are_cut_and_the_notes_say_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(models, "MAX_ROWS", 3)
    monkeypatch.setattr(render_xlsx, "MAX_ROWS", 3)
    sheet = finish(one_column(*"abcde"), NOW, "GET /test", {})
    data, notes = read(sheet)
    assert [c.value for c in data["A"]] == ["内容", "a", "b", "c"]
    assert ("截断", "Excel 每表最多 3 行，仅含前 3 行") in list(notes.iter_rows(values_only=True))


def test_a_row_of_another_width_is_refused() -> None:
    with pytest.raises(ValueError, match="2 cells"):
        Sheet("测试", (Column("a"), Column("b")), [("only one",)])


def test_the_finished_sheet_says_what_when_and_which_query() -> None:
    sheet = finish(
        sheets.feed({"posts": [], "next_cursor": None}, NAMES),
        NOW,
        "GET /posts",
        {"format": "xlsx", "level": "II", "day": "2026-03-01"},
    )
    assert sheet.filename == "实时舆情-20260302-0030.xlsx"
    data, notes = read(sheet)
    assert [c.value for c in data[1]] == [c.header for c in sheets.FEED_COLUMNS]
    assert data.max_row == 1
    assert data.freeze_panes == "A2"
    assert list(notes.iter_rows(values_only=True))[1:5] == [
        ("导出内容", "实时舆情（GET /posts）"),
        ("导出时间（北京时间）", "2026-03-02 00:30:00"),
        ("查询条件", "day=2026-03-01；level=II"),
        ("条数", "0"),
    ]


def test_a_post_row_is_in_the_plan_s_and_the_dashboard_s_words() -> None:
    post = {
        "post_id": "p1",
        "seen_at": "2026-03-01T16:30:00+00:00",
        "platform": "weibo",
        "level": "II",
        "risk": 0.91,
        "sentiment": -0.62,
        "negative": True,
        "title": "滨江一院",
        "text": "正文",
        "subjects": ["hospital", "gone"],
        "crisis_words": ["死亡", "维权"],
        "reasons": ["命中主体", "负面"],
        "engagement": {"likes": 12, "reposts": 3},
        "rank": 4,
        "drill": False,
    }
    sheet = sheets.feed({"posts": [post], "next_cursor": "abc"}, NAMES)
    row = dict(zip((c.header for c in sheet.columns), sheet.rows[0], strict=True))
    assert row["平台"] == "微博"
    assert row["级别"] == "II级（重大）"
    assert row["监测主体"] == "滨江一院、gone"  # a subject the plan no longer has: its id
    assert row["危机词"] == "死亡、维权"
    assert row["研判依据"] == "命中主体；负面"
    assert (row["点赞"], row["转发"], row["阅读"], row["热榜排名"]) == (12, 3, None, 4)
    assert (row["负面"], row["演练"]) == ("是", "否")
    assert sheet.notes[0][0] == "还有更早的帖子"
    assert "cursor=abc" in sheet.notes[0][1]


def test_an_incident_row_names_its_state_next_deadline_and_deadlines() -> None:
    incident = {
        "incident_id": "c-1",
        "level": "III",
        "status": "active",
        "step": "implement",
        "title": "标题",
        "opened_at": "2026-03-01T16:00:00+00:00",
        "drill": True,
        "deadlines": {
            "report_hq": {"due_at": "x", "met": True},
            "triage": {"due_at": "y", "met": False},
        },
        "next_deadline": {
            "kind": "ack#office-1",
            "due_at": "2026-03-01T17:00:00Z",
            "group": "office",
        },
        "breaches": 1,
    }
    sheet = sheets.incidents({"incidents": [incident]}, NAMES)
    row = dict(zip((c.header for c in sheet.columns), sheet.rows[0], strict=True))
    assert (row["状态"], row["当前步骤"], row["演练"]) == ("响应中", "组织实施", "是")
    assert row["下一时限"] == "办公室 确认任务"
    assert row["时限到期（北京时间）"] == datetime(2026, 3, 2, 1, 0)
    assert row["各项时限"] == "报告指挥部：按时；初步研判：超时"
    assert row["已超时次数"] == 1


def test_an_outbox_row_lists_recipients_as_masked_in_the_answer() -> None:
    message = {
        "message_id": "m1",
        "incident_id": "c-1",
        "event": "task#office-1",
        "level": "II",
        "group": "office",
        "status": "awaiting_ack",
        "channels": ["sms", "email"],
        "sms": "+【滨江一院】II级舆情",
        "recipients": [
            {"group": "office", "name": "陈静", "channel": "sms", "contact": "*********8010"}
        ],
    }
    sheet = sheets.outbox({"messages": [message], "count": 1}, NAMES)
    row = dict(zip((c.header for c in sheet.columns), sheet.rows[0], strict=True))
    assert (row["消息类型"], row["状态"], row["接收组"]) == ("任务分派", "待确认", "办公室")
    assert row["渠道"] == "短信、邮件"
    assert row["接收人（联系方式已脱敏）"] == "陈静（办公室·短信）*********8010"
    assert "当前订阅（SNS）" not in [c.header for c in sheet.columns]
    data, _ = read(sheet)  # the SMS text starts with "+": text, not a formula
    sms = data.cell(row=2, column=[c.header for c in sheet.columns].index("短信内容") + 1)
    assert (sms.value, sms.data_type, sms.quotePrefix) == ("+【滨江一院】II级舆情", "s", True)
