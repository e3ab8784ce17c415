"""Message rendering: the short SMS (from a registered template) and the full e-mail. Pure.

The SMS is what wakes someone up: one 70-character segment where the template allows, always
from a template (carrier rule in mainland China). The e-mail carries the whole picture for the
group it goes to: level and colour, subject, summary, links, the level's deadlines, and what
the plan asks of this group (its duty and the measures it owns, with their deadlines).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.alerts.models import AlertRequest
from chalicelib.core.errors import Problem, ValidationError
from chalicelib.plan.models import DEADLINE_KEYS, DEADLINE_LABELS, DRILL_PREFIX, PlanView
from chalicelib.plan.templates import render_sms

EMAIL_SUBJECT_MAX = 100  # SNS: fewer than 100 characters


def sms_text(plan: PlanView, request: AlertRequest) -> str:
    template = plan.template(request.template_id)
    if template is None:
        raise ValidationError(
            f"unknown SMS template {request.template_id!r}",
            [Problem("/template_id", f"the plan has no SMS template {request.template_id!r}")],
        )
    return render_sms(template, request.variables, drill=request.drill)


def _minutes(value: int) -> str:
    if value % 1440 == 0:
        return f"{value // 1440} 天"
    if value % 60 == 0:
        return f"{value // 60} 小时"
    return f"{value} 分钟"


def email(plan: PlanView, request: AlertRequest, group_id: str) -> tuple[str, str]:
    """(subject, body) of the e-mail to one group."""
    level: Mapping[str, Any] = plan.level(request.level) or {}
    group: Mapping[str, Any] = plan.group(group_id) or {}
    prefix = DRILL_PREFIX if request.drill else ""
    heading = f"{request.level}级（{level.get('name', '')}·{level.get('colour', '')}）"
    subject = request.email_subject or f"{heading}舆情 {request.incident_key}：{request.event}"
    # SNS refuses subjects with line breaks or of 100 characters or more.
    subject = " ".join(f"{prefix}[{plan.name}] {subject}".split())[: EMAIL_SUBJECT_MAX - 1]
    lines = []
    if request.drill:
        lines += ["【演练】本消息为预案演练，不是真实事件。", ""]
    lines += [
        f"级别：{heading}",
        f"事件：{request.incident_key}（{request.event}）",
        f"接收：{group.get('name', group_id)}",
        "",
        request.email_body.strip() or sms_text(plan, request),
        "",
    ]
    deadlines = level.get("deadlines_minutes") or {}
    due = [(k, deadlines[k]) for k in DEADLINE_KEYS if deadlines.get(k)]
    if due:
        lines.append("本级别时限：")
        lines += [f"  - {DEADLINE_LABELS[k]}：{_minutes(int(v))}内" for k, v in due]
        lines.append("")
    asked = [group.get("duty", "")] if group.get("duty") else []
    for measure in plan.measures_for(group_id):
        limit = (measure.get("deadline_minutes") or {}).get(request.level)
        when = f"（{_minutes(int(limit))}内）" if limit else ""
        asked.append(f"{measure['name']}{when}：{measure['description']}")
    if asked:
        lines.append("请本组：")
        lines += [f"  - {a}" for a in asked]
        lines.append("")
    if request.links:
        lines.append("链接：")
        lines += [f"  {link}" for link in request.links]
        lines.append("")
    if request.requires_ack:
        lines.append("请确认收到（POST /alerts/<消息编号>/ack），否则将按预案重复提醒并逐级升级。")
    return subject, "\n".join(lines).strip() + "\n"
