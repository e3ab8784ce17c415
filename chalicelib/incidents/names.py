"""The words people read for an incident's state (状态) and for what the workflow waits on.

One table, read by the briefing (舆情日报, 舆情评估) and the Excel incident list, and mirrored word
for word by the dashboard (``static/dom.js`` ``STATUS_TEXT``, ``STEP_TEXT`` and ``WAIT_TEXT``;
tests/functional/test_dashboard_files.py keeps them equal), so the Word document on the HQ's
desk, the spreadsheet it forwards and the board on the wall say the same thing about the same
incident. Pure.
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.plan.models import DEADLINE_LABELS

STATUS_NAMES: dict[str, str] = {
    "open": "已登记",
    "reported": "已报告",
    "awaiting_decision": "待研判",
    "active": "响应中",
    "evaluating": "评估中",
    "closed": "已结束",
    "dismissed": "已排除",
    "expired": "已超时终止",
}

# The workflow's step (应对流程) an incident is at.
STEP_NAMES: dict[str, str] = {
    "report": "发现报告",
    "triage": "初步研判",
    "measures": "制定措施",
    "implement": "组织实施",
    "monitor": "监测降温",
    "evaluate": "评估总结",
    "close": "结束",
}

# A wait's kind is ``decision``, ``close``, ``ack#<task>``, ``done#<task>`` or
# ``public#<deadline>`` (see ``incidents.queries.board_facts``).
WAIT_NAMES: dict[str, str] = {
    "decision": "指挥部研判",
    "close": "结束响应",
    "ack": "确认任务",
    "done": "完成任务",
}


def status_name(status: str) -> str:
    return STATUS_NAMES.get(status, status)


def step_name(step: str) -> str:
    return STEP_NAMES.get(step, step)


def wait_name(kind: str, group: str | None, group_name: Callable[[str], str]) -> str:
    """``宣传组 确认任务``, ``指挥部研判``, ``宣传组 发布权威信息`` for a wait's kind and group."""
    head, _, rest = str(kind).partition("#")
    what = DEADLINE_LABELS.get(rest, rest) if head == "public" else WAIT_NAMES.get(head, kind)
    if group and head not in ("decision", "close"):
        return f"{group_name(group)} {what}"
    return what
