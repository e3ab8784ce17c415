"""The words people read for an outbox message (发件箱): its status, channel and event.

Mirrored word for word by the dashboard (``static/views.js`` ``MESSAGE_STATUS``,
``CHANNEL_TEXT`` and ``EVENT_TEXT``; tests/functional/test_dashboard_files.py keeps them equal),
so the outbox on the screen and the one exported to Excel say the same thing. Pure.
"""

from __future__ import annotations

from typing import Any

STATUS_NAMES: dict[str, str] = {
    "pending": "待发送",
    "awaiting_ack": "待确认",
    "acked": "已确认",
    "sent": "已发送",
    "expired": "未确认（已停止提醒）",
}
CHANNEL_NAMES: dict[str, str] = {"sms": "短信", "email": "邮件", "voice": "电话", "wechat": "微信"}
# An event is ``<kind>`` or ``<kind>#<detail>`` (``task#publicity-1``); the kind is named.
EVENT_NAMES: dict[str, str] = {
    "reported": "新事件报告",
    "activated": "启动响应",
    "task": "任务分派",
    "overdue": "超时提醒",
    "deadline": "公开时限已过",
    "evaluation": "舆情评估",
    "failed": "流程异常",
    "escalated": "级别上升",
    "notice": "通知",
}


def status_name(status: Any) -> str:
    return STATUS_NAMES.get(str(status), str(status or ""))


def channel_name(channel: Any) -> str:
    return CHANNEL_NAMES.get(str(channel), str(channel or ""))


def event_name(event: Any) -> str:
    text = str(event or "")
    return EVENT_NAMES.get(text.split("#", 1)[0], text)
