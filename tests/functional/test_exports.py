"""``?format=xlsx`` on the lists officials forward, through the app against moto.

GIVEN posts, incidents, evidence and alerts made the way the system makes them (the scoring sink,
``POST /reports``, ``POST /alerts``), some of them saying things a spreadsheet would run as a
formula, WHEN a caller asks a list route for Excel THEN the workbook holds exactly the rows the
JSON answer holds for that caller — one per item, Chinese headers, China time — every text a
string (never a formula), contacts masked as in JSON, and the same 4xx as JSON for a bad query
or a role that may not read the list.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from chalice.test import Client
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from chalicelib.auth.store import TokenStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.exports.models import XLSX_TYPE
from chalicelib.exports.sheets import (
    CLUSTER_COLUMNS,
    EVIDENCE_COLUMNS,
    FEED_COLUMNS,
    INCIDENT_COLUMNS,
    OUTBOX_COLUMNS,
    level_name,
)
from chalicelib.ingest.wiring import build_scoring_sink
from chalicelib.plan.defaults import BUILTIN_PLAN
from chalicelib.posts.models import Item, Platform
from tests.auth_helpers import role_tokens
from tests.functional.test_scoring_sink import STORY
from tests.plan_helpers import example_plan

# A fixed morning: 01:25 UTC is 09:25 China time, whatever the day and hour of the run.
FIXED = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
# What a spreadsheet would take for a formula (OWASP's list), each opening a post's title.
HOSTILE = {
    "=": '=HYPERLINK("http://evil.example/x","点击查看原帖")',
    "+": "+SUM(1,2)医院回应",
    "-": "-2+3 医院通报",
    "@": "@SUM(A1:A9) 家属发声",
    "\t": "\t=1+1 转发",
    "\r": "\r=cmd|' /C calc'!A0",
}


@pytest.fixture
def tokens(clients: AwsClients, settings: Settings) -> dict[str, str]:
    store = TokenStore(clients.table(settings.tables.tokens))
    return role_tokens(store)


def get(client: Client, path: str, token: str) -> Any:
    return client.http.get(path, headers={"Authorization": f"Bearer {token}", "Accept": "*/*"})


def workbook(response: Any) -> Worksheet:
    """The data sheet of an xlsx answer, after checking it is one."""
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == XLSX_TYPE
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    book = load_workbook(io.BytesIO(response.body))
    assert book.sheetnames[1] == "说明"
    sheet = book.worksheets[0]
    assert isinstance(sheet, Worksheet)
    return sheet


def headers(sheet: Worksheet) -> list[Any]:
    return [c.value for c in sheet[1]]


def column(sheet: Worksheet, header: str) -> list[Any]:
    index = headers(sheet).index(header)
    return [row[index].value for row in sheet.iter_rows(min_row=2)]


def filename(response: Any) -> str:
    return unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''")[1])


@pytest.fixture
def hostile_feed(clients: AwsClients, settings: Settings) -> list[Item]:
    """Posts about the hospital story whose titles start like formulas, seen at FIXED − n min."""
    sink = build_scoring_sink(settings, clients, plan=lambda: BUILTIN_PLAN, clock=lambda: FIXED)
    batch = [
        Item(
            source_id="news",
            platform=Platform.NEWS,
            title=title,
            text=f"{STORY} 第{i}篇",
            fetched_at=FIXED - timedelta(minutes=5 + i),
            external_id=f"hostile-{i}",
        )
        for i, title in enumerate(HOSTILE.values())
    ]
    assert sink.ingest(batch, credibility=0.6).new == len(batch)
    return batch


def test_the_feed_as_excel_is_the_json_page_one_row_per_post_and_never_a_formula(
    api_client: Client, tokens: dict[str, str], hostile_feed: list[Item]
) -> None:
    # GIVEN the JSON page of the day's feed
    page = get(api_client, "/posts?day=2026-03-02&limit=200", tokens["viewer"]).json_body
    assert len(page["posts"]) == len(HOSTILE)
    # WHEN a viewer asks for the same page as Excel
    answer = get(api_client, "/posts?day=2026-03-02&limit=200&format=xlsx", tokens["viewer"])
    sheet = workbook(answer)
    # THEN one row per post, in the JSON's order, under the Chinese headers
    assert headers(sheet) == [c.header for c in FEED_COLUMNS]
    assert column(sheet, "帖子编号") == [p["post_id"] for p in page["posts"]]
    # AND every title is the post's text exactly, stored as a string, never as a formula
    titles = {p["post_id"]: p["title"] for p in page["posts"]}
    index = headers(sheet).index("标题")
    for row in sheet.iter_rows(min_row=2):
        cell = row[index]
        post_id = row[headers(sheet).index("帖子编号")].value
        assert cell.data_type == "s"
        assert cell.value == titles[post_id]
        assert cell.quotePrefix is True  # each of them starts like a formula
    assert {str(t)[0] for t in titles.values()} == set(HOSTILE), "every trigger reached a cell"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    # AND times are China time: seen 01:25 UTC is 09:25 in Beijing
    seen = column(sheet, "发现时间（北京时间）")
    assert datetime(2026, 3, 2, 9, 25) in seen
    assert all(isinstance(s, datetime) and s.tzinfo is None for s in seen)
    # AND platform and level in words, the file named in Chinese
    assert set(column(sheet, "平台")) == {"新闻"}
    assert filename(answer).startswith("实时舆情-")
    assert filename(answer).endswith(".xlsx")


def test_a_bad_format_or_query_is_the_same_400_as_json(
    api_client: Client, tokens: dict[str, str]
) -> None:
    # WHEN a format no list has, or an empty one, is asked for THEN 400 naming the two it has
    for path in ("/posts?format=docx", "/incidents?format=", "/clusters?format=csv"):
        answer = get(api_client, path, tokens["viewer"])
        assert answer.status_code == 400, path
        assert answer.json_body["problems"] == [{"path": "/format", "message": "one of json, xlsx"}]
    # AND a bad filter is the same 400 in Excel as in JSON
    bad = get(api_client, "/posts?level=V&format=xlsx", tokens["viewer"])
    assert bad.status_code == 400
    assert bad.json_body == get(api_client, "/posts?level=V", tokens["viewer"]).json_body


def test_clusters_as_excel_list_the_json_s_stories(
    api_client: Client, tokens: dict[str, str], clients: AwsClients, settings: Settings
) -> None:
    # GIVEN a story minutes old (the route's window ends now)
    now = datetime.now(UTC).replace(microsecond=0)
    sink = build_scoring_sink(settings, clients, plan=lambda: BUILTIN_PLAN, clock=lambda: now)
    batch = [
        Item(
            source_id="weibo-search",
            platform=Platform.WEIBO,
            title="",
            text=f"转发//@网友{i}:{STORY}",
            fetched_at=now - timedelta(minutes=10 - i),
            external_id=f"w{i}",
        )
        for i in range(4)
    ]
    sink.ingest(batch, credibility=0.6)
    listed = get(api_client, "/clusters?hours=24", tokens["viewer"]).json_body["clusters"]
    assert listed
    # WHEN asked as Excel THEN the same clusters, one row each, with their counts as numbers
    sheet = workbook(get(api_client, "/clusters?hours=24&format=xlsx", tokens["viewer"]))
    assert headers(sheet) == [c.header for c in CLUSTER_COLUMNS]
    assert column(sheet, "事件簇编号") == [c["cluster_id"] for c in listed]
    assert column(sheet, "累计帖数") == [c["count"] for c in listed]
    assert column(sheet, "平台")[0] == "微博"


def report(client: Client, token: str, title: str) -> Any:
    body = {"title": title, "content": f"{STORY}（{title}）", "level": "III"}
    return client.http.post(
        "/reports",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        body=json.dumps(body, ensure_ascii=False),
    )


def test_incidents_and_their_evidence_as_excel(api_client: Client, tokens: dict[str, str]) -> None:
    # GIVEN a reported incident, and evidence kept for it with a note that starts like a formula
    made = report(api_client, tokens["reporter"], "=1+2 滨江一院家属维权")
    assert made.status_code == 201, made.body
    incident = made.json_body["incident_id"]
    board = get(api_client, "/incidents", tokens["viewer"]).json_body["incidents"]
    # WHEN the board is asked for as Excel
    sheet = workbook(get(api_client, "/incidents?format=xlsx", tokens["viewer"]))
    # THEN the same incidents, their state in words, the title as text
    assert headers(sheet) == [c.header for c in INCIDENT_COLUMNS]
    assert column(sheet, "事件编号") == [i["incident_id"] for i in board]
    row = column(sheet, "事件编号").index(incident)
    assert column(sheet, "状态")[row] == "已登记"
    assert column(sheet, "级别")[row] == level_name(board[row]["level"])  # e.g. II级（重大）
    assert str(column(sheet, "级别")[row]).endswith("）")
    title = sheet.cell(row=row + 2, column=headers(sheet).index("标题") + 1)
    assert (title.value, title.data_type) == (board[row]["title"], "s")

    shown = get(api_client, f"/incidents/{incident}", tokens["viewer"]).json_body
    post_id = shown["reports"][0]["post_id"]
    note = "@SUM(1+1)*cmd|' /C calc'!A0"
    kept = api_client.http.post(
        f"/incidents/{incident}/evidence",
        headers={"Authorization": f"Bearer {tokens['member']}", "Content-Type": "application/json"},
        body=json.dumps({"post_id": post_id, "note": note}),
    )
    assert kept.status_code == 201, kept.body
    path = f"/incidents/{incident}/evidence"
    listed = get(api_client, path, tokens["viewer"]).json_body["evidence"]
    answer = get(api_client, f"{path}?format=xlsx", tokens["viewer"])
    sheet = workbook(answer)
    assert headers(sheet) == [c.header for c in EVIDENCE_COLUMNS]
    assert column(sheet, "SHA-256") == [e["sha256"] for e in listed]
    assert column(sheet, "备注") == [note]
    assert column(sheet, "类型") == ["帖子"]
    assert filename(answer).startswith(f"证据清单-{incident}-")
    # AND a viewer can read neither more nor less than in JSON: an unknown incident is a 404
    missing = get(api_client, "/incidents/c-nosuch/evidence?format=xlsx", tokens["viewer"])
    assert missing.status_code == 404


def test_the_outbox_as_excel_masks_contacts_as_json_does_and_only_for_the_hq(
    api_client: Client, tokens: dict[str, str]
) -> None:
    # GIVEN the example plan and an alert to the office (level II: the HQ too)
    hq = {"Authorization": f"Bearer {tokens['hq']}", "Content-Type": "application/json"}
    saved = api_client.http.put("/plan", headers=hq, body=json.dumps(example_plan()))
    assert saved.status_code == 200, saved.body
    body = {
        "incident": "test-1",
        "event": "reported",
        "level": "II",
        "template_id": "incident_alert",
        "variables": {
            "level": "II",
            "subject": "测试事件",
            "summary": "=测试",
            "deadline": "30分钟",
        },
        "groups": ["office"],
    }
    sent = api_client.http.post("/alerts", headers=hq, body=json.dumps(body, ensure_ascii=False))
    assert sent.status_code == 200, sent.body
    listed = get(api_client, "/outbox?incident=test-1", tokens["hq"]).json_body["messages"]
    # WHEN the HQ asks for the outbox as Excel
    answer = get(api_client, "/outbox?incident=test-1&format=xlsx", tokens["hq"])
    sheet = workbook(answer)
    # THEN one row per message, the groups by their plan names, the recipients as JSON masks them
    assert headers(sheet) == [c.header for c in OUTBOX_COLUMNS]
    assert column(sheet, "消息编号") == [m["message_id"] for m in listed]
    assert set(column(sheet, "接收组")) == {"舆情应急指挥部", "办公室"}
    assert set(column(sheet, "消息类型")) == {"新事件报告"}
    cells = "\n".join(str(v) for v in column(sheet, "接收人（联系方式已脱敏）"))
    for message in listed:
        for r in message["recipients"]:
            assert r["contact"] in cells
    assert "+8613800138010" not in cells
    with zipfile.ZipFile(io.BytesIO(answer.body)) as parts:  # nowhere in the file, either
        assert not any(b"13800138010" in parts.read(name) for name in parts.namelist())
    # AND a viewer, who may not read the outbox in JSON, may not read it in Excel either
    assert get(api_client, "/outbox?format=xlsx", tokens["viewer"]).status_code == 403
    # AND live=1 adds the subscriptions SNS holds, masked, in one more column
    live = workbook(get(api_client, "/outbox?incident=test-1&live=1&format=xlsx", tokens["hq"]))
    assert headers(live)[-1] == "当前订阅（SNS）"
    assert "+8613800138010" not in "".join(str(v) for v in column(live, "当前订阅（SNS）"))
