"""The sheet of each list an official forwards: its columns, Chinese headers and one row per item.

Pure. Each function takes the JSON answer of its route — exactly what that route answers the
same caller — and the plan's :class:`~chalicelib.exports.models.Names`, and makes a
:class:`~chalicelib.exports.models.Sheet`; the wording of every export lives here, in one place,
in the words of the dashboard and the briefing (platforms, levels, incident states and steps,
outbox states and events come from the same tables).

- :func:`feed` — 实时舆情 (``GET /posts``): one row per post.
- :func:`clusters` — 热点事件簇 (``GET /clusters``): one row per story of the window.
- :func:`incidents` — 舆情事件台账 (``GET /incidents``): one row per incident.
- :func:`outbox` — 告警发送记录 (``GET /outbox``): one row per message, recipients in one cell.
- :func:`evidence` — 证据清单 (``GET /incidents/{id}/evidence``): one row per piece, its SHA-256.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.alerts.names import channel_name, event_name
from chalicelib.alerts.names import status_name as message_status
from chalicelib.exports.models import (
    Cell,
    Column,
    Kind,
    Names,
    Sheet,
    china,
    joined,
    yes_no,
)
from chalicelib.incidents.names import status_name, step_name, wait_name
from chalicelib.plan.models import DEADLINE_LABELS, LEVEL_NAMES
from chalicelib.posts.models import ENGAGEMENT_KEYS, PLATFORM_LABELS

_PLATFORMS = {p.value: label for p, label in PLATFORM_LABELS.items()}
_ENGAGEMENT_HEADERS = {
    "heat": "热度",
    "views": "阅读",
    "likes": "点赞",
    "comments": "评论",
    "reposts": "转发",
}
_ORDER_NAMES = {"growth": "增速", "posts": "窗口内帖数", "risk": "最高风险"}
_EVIDENCE_KINDS = {"post": "帖子", "url": "网页"}


def level_name(level: Any) -> str:
    """``II级（重大）``; an unknown level as it is, none as empty."""
    if not level:
        return ""
    name = LEVEL_NAMES.get(str(level))
    return f"{level}级（{name}）" if name else str(level)


def platform_name(platform: Any) -> str:
    return _PLATFORMS.get(str(platform), str(platform or ""))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _integer(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


# -- 实时舆情 -------------------------------------------------------------------------------------
FEED_COLUMNS = (
    Column("发现时间（北京时间）", Kind.TIME, 19),
    Column("发布时间（北京时间）", Kind.TIME, 19),
    Column("平台", width=8),
    Column("级别", width=11),
    Column("风险分", Kind.NUMBER, 7),
    Column("情感值", Kind.NUMBER, 7),
    Column("负面", width=5),
    Column("标题", width=30),
    Column("正文", width=60),
    Column("作者", width=12),
    Column("链接", width=40),
    Column("监测主体", width=14),
    Column("危机词", width=14),
    Column("研判依据", width=40),
    *(Column(_ENGAGEMENT_HEADERS[k], Kind.INTEGER, 8) for k in ENGAGEMENT_KEYS),
    Column("热榜排名", Kind.INTEGER, 8),
    Column("事件簇", width=16),
    Column("来源", width=14),
    Column("演练", width=5),
    Column("帖子编号", width=34),
)


def feed(answer: Mapping[str, Any], names: Names) -> Sheet:
    rows: list[tuple[Cell, ...]] = []
    for post in _list(answer.get("posts")):
        engagement = post.get("engagement") or {}
        rows.append(
            (
                china(post.get("seen_at")),
                china(post.get("published_at")),
                platform_name(post.get("platform")),
                level_name(post.get("level")),
                _number(post.get("risk")),
                _number(post.get("sentiment")),
                yes_no(post.get("negative")),
                _text(post.get("title")),
                _text(post.get("text")),
                _text(post.get("author")),
                _text(post.get("url")),
                joined(names.subject(s) for s in _list(post.get("subjects"))),
                joined(_list(post.get("crisis_words"))),
                joined(_list(post.get("reasons")), "；"),
                *(_integer(engagement.get(k)) for k in ENGAGEMENT_KEYS),
                _integer(post.get("rank")),
                _text(post.get("cluster_id")),
                _text(post.get("source_id")),
                yes_no(post.get("drill")),
                _text(post.get("post_id")),
            )
        )
    notes = []
    if answer.get("next_cursor"):
        notes.append(
            (
                "还有更早的帖子",
                f"本表为一页（{len(rows)} 条，按发现时间从新到旧）。"
                "缩小筛选条件或按天（day=）导出，"
                f"或带 cursor={answer['next_cursor']} 续导下一页。",
            )
        )
    return Sheet("实时舆情", FEED_COLUMNS, rows, notes)


# -- 热点事件簇 -----------------------------------------------------------------------------------
CLUSTER_COLUMNS = (
    Column("级别", width=11),
    Column("事件（首帖摘要）", width=50),
    Column("增速（倍）", Kind.NUMBER, 9),
    Column("窗口内帖数", Kind.INTEGER, 10),
    Column("累计帖数", Kind.INTEGER, 9),
    Column("最高风险", Kind.NUMBER, 9),
    Column("首次发现（北京时间）", Kind.TIME, 19),
    Column("最近出现（北京时间）", Kind.TIME, 19),
    Column("平台", width=14),
    Column("监测主体", width=14),
    Column("代表帖子", width=60),
    Column("事件簇编号", width=18),
)


def clusters(answer: Mapping[str, Any], names: Names) -> Sheet:
    rows: list[tuple[Cell, ...]] = []
    for entry in _list(answer.get("clusters")):
        top = [
            joined((_text(p.get("title")), _text(p.get("url"))), " ")
            for p in _list(entry.get("top_posts"))
            if isinstance(p, Mapping)
        ]
        rows.append(
            (
                level_name(entry.get("level")),
                _text(entry.get("story")),
                _number(entry.get("growth")),
                _integer(entry.get("posts_in_window")),
                _integer(entry.get("count")),
                _number(entry.get("max_risk")),
                china(entry.get("first_seen")),
                china(entry.get("last_seen")),
                joined(platform_name(p) for p in _list(entry.get("platforms"))),
                joined(names.subject(s) for s in _list(entry.get("subjects"))),
                joined(top, "\n"),
                _text(entry.get("cluster_id")),
            )
        )
    by = str(answer.get("by") or "growth")
    notes = [
        ("统计时段", f"最近 {answer.get('hours', 24)} 小时"),
        ("排序", f"按{_ORDER_NAMES.get(by, by)}从高到低"),
    ]
    return Sheet("热点事件簇", CLUSTER_COLUMNS, rows, notes)


# -- 舆情事件台账 ---------------------------------------------------------------------------------
INCIDENT_COLUMNS = (
    Column("事件编号", width=18),
    Column("级别", width=11),
    Column("标题", width=40),
    Column("状态", width=10),
    Column("当前步骤", width=10),
    Column("发现时间（北京时间）", Kind.TIME, 19),
    Column("下一时限", width=20),
    Column("时限到期（北京时间）", Kind.TIME, 19),
    Column("已超时次数", Kind.INTEGER, 10),
    Column("各项时限", width=40),
    Column("演练", width=5),
    Column("事件簇", width=16),
)


def _deadlines(value: Any) -> str:
    """``报告指挥部：按时；初步研判：超时`` from an incident's recorded deadlines."""
    if not isinstance(value, Mapping):
        return ""
    parts = []
    for kind, entry in value.items():
        if not isinstance(entry, Mapping):
            continue
        met = entry.get("met")
        verdict = "按时" if met is True else "超时" if met is False else "进行中"
        parts.append(f"{DEADLINE_LABELS.get(str(kind), str(kind))}：{verdict}")
    return "；".join(parts)


def incidents(answer: Mapping[str, Any], names: Names) -> Sheet:
    rows: list[tuple[Cell, ...]] = []
    for row in _list(answer.get("incidents")):
        nxt = row.get("next_deadline") if isinstance(row.get("next_deadline"), Mapping) else None
        rows.append(
            (
                _text(row.get("incident_id")),
                level_name(row.get("level")),
                _text(row.get("title")),
                status_name(_text(row.get("status"))),
                step_name(_text(row.get("step"))),
                china(row.get("opened_at")),
                wait_name(str(nxt.get("kind")), nxt.get("group"), names.group) if nxt else "",
                china(nxt.get("due_at")) if nxt else None,
                _integer(row.get("breaches")),
                _deadlines(row.get("deadlines")),
                yes_no(row.get("drill")),
                _text(row.get("cluster_id")),
            )
        )
    return Sheet("舆情事件台账", INCIDENT_COLUMNS, rows)


# -- 告警发送记录 ---------------------------------------------------------------------------------
OUTBOX_COLUMNS = (
    Column("创建时间（北京时间）", Kind.TIME, 19),
    Column("发送时间（北京时间）", Kind.TIME, 19),
    Column("事件编号", width=18),
    Column("消息类型", width=12),
    Column("级别", width=11),
    Column("接收组", width=12),
    Column("状态", width=12),
    Column("重复提醒次数", Kind.INTEGER, 8),
    Column("升级级数", Kind.INTEGER, 8),
    Column("渠道", width=10),
    Column("短信内容", width=40),
    Column("邮件主题", width=30),
    Column("邮件正文", width=50),
    Column("接收人（联系方式已脱敏）", width=50),
    Column("确认人", width=12),
    Column("确认时间（北京时间）", Kind.TIME, 19),
    Column("演练", width=5),
    Column("消息编号", width=20),
)
LIVE_COLUMN = Column("当前订阅（SNS）", width=40)


def _recipient(r: Mapping[str, Any], names: Names) -> str:
    """``马琳（技术保障组·短信）*********8011`` — the contact as masked in the answer."""
    who = _text(r.get("name") or r.get("member"))
    where = f"{names.group(r.get('group'))}·{channel_name(r.get('channel'))}"
    return f"{who}（{where}）{_text(r.get('contact'))}"


def outbox(answer: Mapping[str, Any], names: Names) -> Sheet:
    messages = [m for m in _list(answer.get("messages")) if isinstance(m, Mapping)]
    live = any("live_subscriptions" in m for m in messages)
    rows: list[tuple[Cell, ...]] = []
    for m in messages:
        recipients = [r for r in _list(m.get("recipients")) if isinstance(r, Mapping)]
        row: tuple[Cell, ...] = (
            china(m.get("created_at")),
            china(m.get("sent_at")),
            _text(m.get("incident_id")),
            event_name(m.get("event")),
            level_name(m.get("level")),
            names.group(m.get("group")),
            message_status(m.get("status")),
            _integer(m.get("repeats")),
            _integer(m.get("escalation_step")),
            joined(channel_name(c) for c in _list(m.get("channels"))),
            _text(m.get("sms")),
            _text(m.get("email_subject")),
            _text(m.get("email_body")),
            joined((_recipient(r, names) for r in recipients), "\n"),
            _text(m.get("acked_by")),
            china(m.get("acked_at")),
            yes_no(m.get("drill")),
            _text(m.get("message_id")),
        )
        if live:
            subscriptions = [
                s for s in _list(m.get("live_subscriptions")) if isinstance(s, Mapping)
            ]
            row += (
                joined((f"{s.get('protocol')} {s.get('endpoint')}" for s in subscriptions), "\n"),
            )
        rows.append(row)
    columns = OUTBOX_COLUMNS + ((LIVE_COLUMN,) if live else ())
    return Sheet("告警发送记录", columns, rows)


# -- 证据清单 -------------------------------------------------------------------------------------
EVIDENCE_COLUMNS = (
    Column("固定时间（北京时间）", Kind.TIME, 19),
    Column("类型", width=6),
    Column("链接", width=40),
    Column("实际地址", width=40),
    Column("帖子编号", width=34),
    Column("HTTP 状态", Kind.INTEGER, 9),
    Column("SHA-256", width=66),
    Column("大小（字节）", Kind.INTEGER, 12),
    Column("内容类型", width=20),
    Column("固定人", width=12),
    Column("备注", width=30),
    Column("证据编号", width=20),
)


def evidence(answer: Mapping[str, Any], names: Names, incident_id: str) -> Sheet:
    rows: list[tuple[Cell, ...]] = []
    for e in _list(answer.get("evidence")):
        kind = _text(e.get("kind"))
        rows.append(
            (
                china(e.get("captured_at")),
                _EVIDENCE_KINDS.get(kind, kind),
                _text(e.get("url")),
                _text(e.get("final_url")),
                _text(e.get("post_id")),
                _integer(e.get("http_status")),
                _text(e.get("sha256")),
                _integer(e.get("size")),
                _text(e.get("content_type")),
                _text(e.get("by")),
                _text(e.get("note")),
                _text(e.get("evidence_id")),
            )
        )
    notes = [
        ("事件编号", incident_id),
        ("核验", "原始内容按固定时的字节保存，SHA-256 可据此核验；内容本身不在本表中"),
    ]
    return Sheet("证据清单", EVIDENCE_COLUMNS, rows, notes, stem=f"证据清单-{incident_id}")
