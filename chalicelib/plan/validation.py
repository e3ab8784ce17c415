"""Validation of a whole plan document: every problem, each with its JSON-pointer path.

A crisis team editing the plan at night needs the full list of what is wrong in one answer, not
one error per attempt, so nothing here stops at the first problem. This module holds the plan's
bounds and formats and what each section must hold, in document order; the primitives it walks
with are :class:`~chalicelib.plan.checker.Checker`'s, and the SMS templates' section is checked
beside the templates (:func:`~chalicelib.plan.templates.check_templates`). Pure: no I/O.

The subject rule language belongs to the scoring package; its parser plugs in as ``rule_check``
(``Callable[[str], str | None]``: an error message with the position, or None). Without it a rule
only has to be non-empty text of at most :data:`MAX_RULE_CHARS` characters.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from chalicelib.core.errors import Problem, ValidationError
from chalicelib.plan.checker import Checker
from chalicelib.plan.models import (
    CHANNELS,
    DEADLINE_KEYS,
    HQ_GROUP,
    LEVELS,
    MEMBER_ROLES,
)
from chalicelib.plan.templates import check_templates

RuleCheck = Callable[[str], str | None]

MAX_RULE_CHARS = 2000
# Every duration in the plan is at most ten days. The workflow adds these minutes to the clock:
# without a bound, 10**13 minutes is saved and every later workflow fails with OverflowError.
MAX_MINUTES = 14_400
MINUTES = f" minutes ({MAX_MINUTES} = 10 days)"
MAX_REPEAT_INTERVAL = 1440  # a day between repeats of an unacknowledged alert
MAX_REPEATS = 20
MAX_ESCALATION_STEPS = 10
# SMS recipients a day (China time). A whole organisation paged ten times a day is far below;
# above it the cap is no longer a guard against runaway spend (SNS bills each message).
MAX_SMS_DAILY_CAP = 100_000
# E.164: "+", country code, subscriber number, at most 15 ASCII digits in all (\d would also
# take "٨٦", which SNS refuses), no spaces.
E164 = re.compile(r"\A\+[1-9][0-9]{6,14}\Z")
EMAIL = re.compile(r"\A[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\Z")
TOP_LEVEL = (
    "organisation",
    "groups",
    "levels",
    "measures",
    "escalation",
    "subjects",
    "sms_templates",
    "alerting",
    "workflow",
    "briefing",
)
REQUIRED_TOP_LEVEL = TOP_LEVEL[:-3]
# The response workflow's own settings (optional; defaults in chalicelib/workflow/logic/reading.py).
WORKFLOW_MINUTES = (
    "monitor_interval_minutes",
    "cooldown_minutes",
    "close_after_minutes",
    "max_monitor_minutes",
)
# The daily briefing's time (舆情日报), China time; 24-hour HH:MM.
BRIEFING_TIME = re.compile(r"\A([01]\d|2[0-3]):[0-5]\d\Z")


def default_rule_check(rule: str) -> str | None:
    if not rule.strip():
        return "the rule is empty"
    if len(rule) > MAX_RULE_CHARS:
        return f"the rule is longer than {MAX_RULE_CHARS} characters"
    return None


class _PlanChecker(Checker):
    """The walk over a whole plan: its sections in document order, and references to groups."""

    def __init__(self, rule_check: RuleCheck) -> None:
        super().__init__()
        self.rule_check = rule_check

    def known_groups(self, value: Any, path: str, groups: set[str], *, non_empty: bool) -> None:
        for i, group in enumerate(self.array(value, path, non_empty=non_empty)):
            if not isinstance(group, str) or group not in groups:
                self.add(f"{path}/{i}", f"unknown group {group!r}")

    # -- sections ----------------------------------------------------------------------------
    def plan(self, doc: Any) -> None:
        root = self.obj(doc, "")
        if root is None:
            return
        for key in root:
            if key not in TOP_LEVEL:
                self.add(f"/{key}", f"unknown section; expected one of {', '.join(TOP_LEVEL)}")
        for key in REQUIRED_TOP_LEVEL:
            if key not in root:
                self.add(f"/{key}", "is required")
        if "organisation" in root:
            org = self.obj(root["organisation"], "/organisation")
            if org is not None:
                self.text(org, "name", "/organisation")
        groups = self.groups(root.get("groups", []))
        levels = self.levels(root.get("levels", []), groups)
        self.measures(root.get("measures", []), groups, levels)
        if "escalation" in root:
            self.escalation(root["escalation"], groups)
        self.subjects(root.get("subjects", []))
        check_templates(self, root.get("sms_templates", []))
        if "alerting" in root:
            self.alerting(root["alerting"], groups)
        if "workflow" in root:
            self.workflow(root["workflow"], groups)
        if "briefing" in root:
            self.briefing(root["briefing"])

    def groups(self, value: Any) -> set[str]:
        ids: list[tuple[str, str]] = []
        member_ids: list[tuple[str, str]] = []
        for path, group in self.entries(value, "/groups"):
            gid = self.slug(group, path)
            ids.append((gid, f"{path}/id"))
            self.text(group, "name", path)
            self.text(group, "duty", path, required=False)
            members = self.array(group.get("members"), f"{path}/members", non_empty=True)
            roles: list[str] = []
            for j, raw_member in enumerate(members):
                mpath = f"{path}/members/{j}"
                member = self.obj(raw_member, mpath)
                if member is None:
                    continue
                member_ids.append((self.slug(member, mpath), f"{mpath}/id"))
                roles.append(self.member(member, mpath))
            if gid == HQ_GROUP and members and "commander" not in roles:
                self.add(f"{path}/members", "the 指挥部 (hq) needs a member with role commander")
        self.unique(ids, "group")
        self.unique(member_ids, "member")
        found = {gid for gid, _ in ids if gid}
        if value and isinstance(value, list) and HQ_GROUP not in found:
            self.add("/groups", "the 指挥部 group 'hq' is required")
        return found

    def member(self, member: Mapping[str, Any], path: str) -> str:
        self.text(member, "name", path)
        role = member.get("role")
        if role not in MEMBER_ROLES:
            self.add(f"{path}/role", f"must be one of {', '.join(MEMBER_ROLES)}")
        phone, email = member.get("phone"), member.get("email")
        if phone is not None and (not isinstance(phone, str) or not E164.match(phone)):
            self.add(f"{path}/phone", "must be an E.164 number such as +8613800138000")
        if email is not None and (not isinstance(email, str) or not EMAIL.match(email)):
            self.add(f"{path}/email", "must be an e-mail address")
        if phone is None and email is None:
            self.add(path, "needs a phone or an email")
        if "channels" in member:
            for k, channel in enumerate(self.array(member["channels"], f"{path}/channels")):
                if channel not in CHANNELS:
                    self.add(f"{path}/channels/{k}", "must be sms or email")
                elif member.get("phone" if channel == "sms" else "email") is None:
                    self.add(f"{path}/channels/{k}", f"{channel} needs a contact to reach")
        if "levels" in member:
            levels = self.array(member["levels"], f"{path}/levels", non_empty=True)
            for k, level in enumerate(levels):
                if level not in LEVELS:
                    self.add(f"{path}/levels/{k}", f"must be one of {', '.join(LEVELS)}")
        return str(role)

    def levels(self, value: Any, groups: set[str]) -> set[str]:
        seen: dict[str, int] = {}
        risks: dict[str, float] = {}
        for i, raw in enumerate(self.array(value, "/levels", non_empty=True)):
            path = f"/levels/{i}"
            level = self.obj(raw, path)
            if level is None:
                continue
            lid = level.get("id")
            if lid not in LEVELS:
                self.add(f"{path}/id", f"must be one of {', '.join(LEVELS)}")
            elif lid in seen:
                self.add(f"{path}/id", f"duplicate level {lid} (first at /levels/{seen[lid]})")
            else:
                seen[lid] = i
            self.text(level, "name", path)
            self.text(level, "colour", path)
            risk = level.get("min_risk")
            if isinstance(risk, bool) or not isinstance(risk, int | float) or not 0 < risk <= 1:
                self.add(f"{path}/min_risk", "must be a number in (0, 1]")
            elif lid in LEVELS and lid not in risks:
                risks[lid] = float(risk)
            deadlines = self.obj(level.get("deadlines_minutes"), f"{path}/deadlines_minutes")
            for key, minutes in (deadlines or {}).items():
                dpath = f"{path}/deadlines_minutes/{key}"
                if key not in DEADLINE_KEYS:
                    self.add(dpath, f"unknown deadline; expected {', '.join(DEADLINE_KEYS)}")
                elif minutes is not None and deadlines is not None:
                    self.integer(deadlines, key, dpath, low=1, high=MAX_MINUTES, unit=MINUTES)
            for key in ("report_hq", "triage"):
                if deadlines is not None and deadlines.get(key) is None:
                    self.add(f"{path}/deadlines_minutes/{key}", "is required")
            self.known_groups(
                level.get("alert_groups"), f"{path}/alert_groups", groups, non_empty=True
            )
        for lid in LEVELS:
            if value and isinstance(value, list) and lid not in seen:
                self.add("/levels", f"level {lid} is missing")
        # Thresholds must fall strictly from I to IV, or two levels overlap.
        ordered = [lid for lid in LEVELS if lid in risks]
        for higher, lower in itertools.pairwise(ordered):
            if risks[lower] >= risks[higher]:
                self.add(
                    f"/levels/{seen[lower]}/min_risk",
                    f"level {lower} ({risks[lower]}) overlaps level {higher} ({risks[higher]}): "
                    "min_risk must fall from I to IV",
                )
        return set(seen)

    def measures(self, value: Any, groups: set[str], levels: set[str]) -> None:
        ids: list[tuple[str, str]] = []
        for path, measure in self.entries(value, "/measures"):
            ids.append((self.slug(measure, path), f"{path}/id"))
            self.text(measure, "name", path)
            self.text(measure, "description", path)
            owner = measure.get("owner")
            if owner in (None, ""):
                self.add(f"{path}/owner", "every measure needs an owning group")
            elif not isinstance(owner, str) or owner not in groups:
                self.add(f"{path}/owner", f"unknown group {owner!r}")
            deadlines = self.obj(measure.get("deadline_minutes"), f"{path}/deadline_minutes")
            for key in deadlines or {}:
                if key not in LEVELS:
                    self.add(f"{path}/deadline_minutes/{key}", "must be a level I–IV")
                elif deadlines is not None:
                    dpath = f"{path}/deadline_minutes/{key}"
                    self.integer(deadlines, key, dpath, low=1, high=MAX_MINUTES, unit=MINUTES)
        self.unique(ids, "measure")

    def escalation(self, value: Any, groups: set[str]) -> None:
        policy = self.obj(value, "/escalation")
        if policy is None:
            return
        self.integer(
            policy,
            "repeat_interval_minutes",
            "/escalation/repeat_interval_minutes",
            low=1,
            high=MAX_REPEAT_INTERVAL,
            unit=" minutes",
        )
        self.integer(policy, "max_repeats", "/escalation/max_repeats", low=0, high=MAX_REPEATS)
        last = 0
        steps = self.array(policy.get("steps", []), "/escalation/steps")
        if len(steps) > MAX_ESCALATION_STEPS:
            self.add("/escalation/steps", f"at most {MAX_ESCALATION_STEPS} steps")
        for i, raw in enumerate(steps):
            path = f"/escalation/steps/{i}"
            step = self.obj(raw, path)
            if step is None:
                continue
            after = self.integer(
                step,
                "after_minutes",
                f"{path}/after_minutes",
                low=1,
                high=MAX_MINUTES,
                unit=MINUTES,
            )
            if after is not None:
                if after <= last:
                    self.add(f"{path}/after_minutes", "steps must come later one after another")
                last = max(last, after)
            self.known_groups(step.get("notify"), f"{path}/notify", groups, non_empty=True)

    def subjects(self, value: Any) -> None:
        ids: list[tuple[str, str]] = []
        for path, subject in self.entries(value, "/subjects"):
            ids.append((self.slug(subject, path), f"{path}/id"))
            self.text(subject, "name", path)
            rule = subject.get("rule")
            if not isinstance(rule, str):
                self.add(f"{path}/rule", "must be a string")
            elif (error := self.rule_check(rule)) is not None:
                self.add(f"{path}/rule", error)
            for k, term in enumerate(self.array(subject.get("terms", []), f"{path}/terms")):
                if not isinstance(term, str) or not term.strip():
                    self.add(f"{path}/terms/{k}", "must be a non-empty string")
        self.unique(ids, "subject")

    def alerting(self, value: Any, groups: set[str]) -> None:
        alerting = self.obj(value, "/alerting")
        if alerting is None:
            return
        if "sms_daily_cap" in alerting:
            self.integer(
                alerting,
                "sms_daily_cap",
                "/alerting/sms_daily_cap",
                low=0,
                high=MAX_SMS_DAILY_CAP,
                unit=" SMS recipients a day",
            )
        ops = alerting.get("ops_group")
        if ops is not None and (not isinstance(ops, str) or ops not in groups):
            self.add("/alerting/ops_group", f"unknown group {ops!r}")

    def workflow(self, value: Any, groups: set[str]) -> None:
        workflow = self.obj(value, "/workflow")
        if workflow is None:
            return
        for key, item in workflow.items():
            path = f"/workflow/{key}"
            if key in WORKFLOW_MINUTES:
                self.integer(workflow, key, path, low=1, high=MAX_MINUTES, unit=MINUTES)
            elif key == "publicity_group":
                if not isinstance(item, str) or item not in groups:
                    self.add(path, f"unknown group {item!r}")
            elif key == "ack_minutes":
                acks = self.obj(item, path)
                for level in acks or {}:
                    if level not in LEVELS:
                        self.add(f"{path}/{level}", f"must be one of {', '.join(LEVELS)}")
                    elif acks is not None:
                        lpath = f"{path}/{level}"
                        self.integer(acks, level, lpath, low=1, high=MAX_MINUTES, unit=MINUTES)
            else:
                expected = ", ".join((*WORKFLOW_MINUTES, "ack_minutes", "publicity_group"))
                self.add(path, f"unknown setting; expected one of {expected}")

    def briefing(self, value: Any) -> None:
        briefing = self.obj(value, "/briefing")
        if briefing is None:
            return
        for key, item in briefing.items():
            if key != "time":
                self.add(f"/briefing/{key}", "unknown setting; expected time")
            elif not isinstance(item, str) or not BRIEFING_TIME.match(item):
                self.add(
                    "/briefing/time",
                    f"must be a time of day HH:MM (00:00–23:59, China time), got {item!r}",
                )


def validate_plan(doc: Any, rule_check: RuleCheck | None = None) -> list[Problem]:
    """Every problem of a plan document, in document order; empty when it is valid."""
    checker = _PlanChecker(rule_check or default_rule_check)
    checker.plan(doc)
    return checker.problems


def bounded_plan(doc: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """A stored plan with every integer outside today's bounds moved to the nearest bound, and
    what was moved. Plans saved before the bounds existed may hold a triage deadline of 10**13
    minutes; read as is, it would fail every workflow and every alert follow-up that adds it to
    the clock. Nothing else is changed: the plan passed validation when it was saved."""
    checker = _PlanChecker(default_rule_check)
    bounded = copy.deepcopy(doc)
    checker.plan(bounded)
    for parent, key, value, _ in checker.out_of_range:
        if isinstance(parent, MutableMapping):
            parent[key] = value
    return bounded, [problem for *_, problem in checker.out_of_range]


def check_plan(doc: Any, rule_check: RuleCheck | None = None) -> None:
    """Raise :class:`ValidationError` (400) listing every problem of an invalid plan."""
    problems = validate_plan(doc, rule_check)
    if problems:
        raise ValidationError(f"the plan has {len(problems)} problem(s)", problems)
