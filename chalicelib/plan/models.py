"""The plan's vocabulary and a read-only view over a validated plan document (预案).

The plan is stored and served as the JSON document people edit (see README "The plan"); code
reads it through :class:`PlanView`, which only exists for documents that passed validation, so
its helpers can index without re-checking.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.core.observability import mask_contact

# Levels, most severe first (I 特别重大 红, II 重大 橙, III 较大 黄, IV 一般 蓝).
LEVELS: tuple[str, ...] = ("I", "II", "III", "IV")
# The default names and colours of the levels (DESIGN.md §2): what the briefing prints, what the
# built-in plan starts from, and what the dashboard's dom.js LEVELS repeats (a test compares).
LEVEL_NAMES: dict[str, str] = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般"}
LEVEL_COLOURS: dict[str, str] = {"I": "红", "II": "橙", "III": "黄", "IV": "蓝"}
# Levels for which the 指挥部 is always alerted, whatever the caller asks.
HQ_LEVELS: frozenset[str] = frozenset({"I", "II"})
HQ_GROUP = "hq"
# Roles inside a group: 总指挥, 副总指挥/副组长, 组长, 成员.
MEMBER_ROLES: tuple[str, ...] = ("commander", "deputy", "lead", "member")
CHANNELS: tuple[str, ...] = ("sms", "email")
# Deadlines a level may set, in minutes (DESIGN.md §2): report to the HQ, 初步研判,
# authoritative information, press conference, public response. ``None`` = not required.
DEADLINE_KEYS: tuple[str, ...] = (
    "report_hq",
    "triage",
    "authoritative_info",
    "press_conference",
    "public_response",
)
DEADLINE_LABELS: dict[str, str] = {
    "report_hq": "报告指挥部",
    "triage": "初步研判",
    "authoritative_info": "发布权威信息",
    "press_conference": "召开新闻发布会",
    "public_response": "公开回应",
}
DEFAULT_BRIEFING_TIME = "08:00"
# Every SMS of a drill starts with this; templates must leave room for it.
DRILL_PREFIX = "【演练】"
PUBLICITY = "publicity"


@dataclass(frozen=True)
class Contact:
    """One way to reach one member: the subscription an SNS topic holds for them."""

    group: str
    member_id: str
    name: str
    role: str
    channel: str  # "sms" | "email"
    endpoint: str  # E.164 phone or e-mail address
    levels: tuple[str, ...]


class PlanView:
    """Typed reads over a plan document that has passed :func:`validation.validate_plan`."""

    def __init__(self, doc: Mapping[str, Any], version: int = 0) -> None:
        self.doc = doc
        self.version = version

    @property
    def name(self) -> str:
        return str(self.doc["organisation"]["name"])

    def group_ids(self) -> list[str]:
        return [str(g["id"]) for g in self.doc["groups"]]

    def group(self, group_id: str) -> Mapping[str, Any] | None:
        return next((g for g in self.doc["groups"] if g["id"] == group_id), None)

    def level(self, level_id: str) -> Mapping[str, Any] | None:
        return next((lv for lv in self.doc["levels"] if lv["id"] == level_id), None)

    def level_for_risk(self, risk: float) -> str | None:
        """The most severe level whose ``min_risk`` the score reaches, or None."""
        for level in sorted(self.doc["levels"], key=lambda lv: -float(lv["min_risk"])):
            if risk >= float(level["min_risk"]):
                return str(level["id"])
        return None

    def template(self, template_id: str) -> Mapping[str, Any] | None:
        return next((t for t in self.doc["sms_templates"] if t["id"] == template_id), None)

    def measures_for(self, group_id: str) -> list[Mapping[str, Any]]:
        return [m for m in self.doc["measures"] if m["owner"] == group_id]

    @property
    def escalation(self) -> Mapping[str, Any]:
        return dict(self.doc["escalation"])

    @property
    def sms_daily_cap(self) -> int | None:
        """SMS recipients allowed per day (China time); None when the plan sets no cap."""
        cap = self.doc.get("alerting", {}).get("sms_daily_cap")
        return None if cap is None else int(cap)

    @property
    def briefing_time(self) -> str:
        """When the daily briefing (舆情日报) is built and mailed, ``HH:MM`` China time."""
        return str(self.doc.get("briefing", {}).get("time") or DEFAULT_BRIEFING_TIME)

    @property
    def ops_group(self) -> str | None:
        group = self.doc.get("alerting", {}).get("ops_group")
        return str(group) if group else None

    def contacts(self, group_id: str) -> Iterator[Contact]:
        """Every (member, channel) of a group that has an endpoint: one subscription each."""
        group = self.group(group_id)
        if group is None:
            return
        for member in group.get("members", []):
            levels = tuple(member.get("levels") or LEVELS)
            channels = member.get("channels") or [c for c in CHANNELS if member.get(_field(c))]
            for channel in channels:
                endpoint = member.get(_field(channel))
                if endpoint:
                    yield Contact(
                        group=group_id,
                        member_id=str(member["id"]),
                        name=str(member["name"]),
                        role=str(member["role"]),
                        channel=str(channel),
                        endpoint=str(endpoint),
                        levels=levels,
                    )


def publicity_group(plan: Mapping[str, Any]) -> str | None:
    """Who answers for public statements (宣传组): the plan's setting, else the owner of the
    information-release measure, else the group with id ``publicity`` if the plan has one.
    The workflow alerts this group about public deadlines; only it (and the HQ) drafts, edits
    and releases statements (口径)."""
    configured = plan.get("workflow", {}).get("publicity_group")
    if configured:
        return str(configured)
    for measure in plan.get("measures", []):
        if measure.get("id") == "release" and measure.get("owner"):
            return str(measure["owner"])
    groups = {g.get("id") for g in plan.get("groups", [])}
    return PUBLICITY if PUBLICITY in groups else None


def masked_contacts(
    doc: Mapping[str, Any], shown: Callable[[str], bool]
) -> tuple[dict[str, Any], bool]:
    """A copy of the plan document in which the phone numbers and e-mail addresses of every
    group for which ``shown(group_id)`` is false are masked (``*******8011``,
    ``w***@example.org``), and whether anything was masked. The stored document is untouched."""
    copied: dict[str, Any] = copy.deepcopy(dict(doc))
    masked = False
    for group in copied.get("groups", []):
        if shown(str(group.get("id"))):
            continue
        for member in group.get("members", []):
            for key in ("phone", "email"):
                if isinstance(member.get(key), str):
                    member[key] = mask_contact(member[key])
                    masked = True
    return copied, masked


def _field(channel: str) -> str:
    return "phone" if channel == "sms" else "email"
