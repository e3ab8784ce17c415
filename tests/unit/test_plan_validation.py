"""Plan validation is pure: every problem of a document, each with its path, in one answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core.errors import ValidationError
from chalicelib.plan.models import PlanView
from chalicelib.plan.validation import bounded_plan, check_plan, validate_plan
from tests.plan_helpers import example_plan, group, paths


def test_the_example_plan_is_valid_and_has_every_default_group() -> None:
    doc = example_plan()
    assert validate_plan(doc) == []
    view = PlanView(doc)
    assert set(view.group_ids()) == {
        "hq",
        "office",
        "monitoring",
        "publicity",
        "tech",
        "coordination",
        "logistics",
    }
    assert [(lv["id"], lv["min_risk"]) for lv in doc["levels"]] == [
        ("I", 0.85),
        ("II", 0.7),
        ("III", 0.5),
        ("IV", 0.3),
    ]
    assert view.level_for_risk(0.9) == "I"
    assert view.level_for_risk(0.7) == "II"
    assert view.level_for_risk(0.29) is None


def test_the_variant_groups_are_expressible() -> None:
    # GIVEN the second plan's organisation: 信息收集与研判组、舆情应对组、网络舆情监控组
    doc = example_plan()
    hq = group(doc, "hq")
    doc["groups"] = [hq] + [
        {
            "id": gid,
            "name": name,
            "members": [
                {"id": f"{gid}-lead", "name": "组长", "role": "lead", "email": f"{gid}@example.org"}
            ],
        }
        for gid, name in [
            ("analysis", "信息收集与研判组"),
            ("response", "舆情应对组"),
            ("netwatch", "网络舆情监控组"),
        ]
    ]
    for level in doc["levels"]:
        level["alert_groups"] = ["analysis", "netwatch"]
    for measure in doc["measures"]:
        measure["owner"] = "response"
    doc["escalation"]["steps"] = [{"after_minutes": 15, "notify": ["hq"]}]
    doc["alerting"]["ops_group"] = "netwatch"
    assert validate_plan(doc) == []


def test_a_broken_plan_lists_every_problem_with_its_path() -> None:
    # GIVEN a plan with many independent mistakes
    doc = example_plan()
    office = group(doc, "office")
    office["members"][0]["phone"] = "138 0013 8010"  # not E.164
    office["members"][1]["email"] = "wu.lei.example.org"
    group(doc, "tech")["id"] = "publicity"  # duplicate group id
    doc["levels"][1]["min_risk"] = 0.9  # II above I: overlap
    doc["levels"].pop()  # IV missing
    doc["measures"][0].pop("owner")
    doc["measures"][1]["owner"] = "press"
    doc["escalation"]["steps"][0]["notify"] = ["nobody"]
    doc["sms_templates"][0]["text"] += "，详情请登录系统查看并在十分钟内回复确认"

    # WHEN it is validated
    found = paths(validate_plan(doc))

    # THEN each mistake is reported at its own path
    assert {
        "/groups/1/members/0/phone",
        "/groups/1/members/1/email",
        "/groups/4/id",
        "/levels/1/min_risk",
        "/levels",
        "/measures/0/owner",
        "/measures/1/owner",
        "/escalation/steps/0/notify/0",
        "/sms_templates/0/text",
    } <= found


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: d.__setitem__("extra", 1), "/extra"),
        (lambda d: d.pop("measures"), "/measures"),
        (lambda d: d["organisation"].__setitem__("name", " "), "/organisation/name"),
        (lambda d: d.__setitem__("organisation", {}), "/organisation/name"),
        (lambda d: d.__setitem__("organisation", "滨江"), "/organisation"),
        (lambda d: d["groups"].pop(0), "/groups"),  # no hq
        (lambda d: group(d, "hq")["members"].pop(0), "/groups/0/members"),  # no commander
        (
            lambda d: group(d, "office")["members"][1].__setitem__("id", "chen-jing"),
            "/groups/1/members/1/id",
        ),
        (
            lambda d: group(d, "office")["members"][0].__setitem__("role", "boss"),
            "/groups/1/members/0/role",
        ),
        (
            lambda d: group(d, "office")["members"][0].update(levels=["V"]),
            "/groups/1/members/0/levels/0",
        ),
        (
            lambda d: group(d, "monitoring")["members"][2].update(channels=["sms"]),
            "/groups/2/members/2/channels/0",
        ),
        (
            lambda d: (
                group(d, "office")["members"][0].pop("phone")
                and group(d, "office")["members"][0].pop("email")
            ),
            "/groups/1/members/0",
        ),
        (lambda d: d["levels"][3].__setitem__("id", "I"), "/levels/3/id"),
        (lambda d: d["levels"][2].__setitem__("min_risk", 1.5), "/levels/2/min_risk"),
        (
            lambda d: d["levels"][0]["deadlines_minutes"].pop("triage"),
            "/levels/0/deadlines_minutes/triage",
        ),
        (
            lambda d: d["levels"][0]["deadlines_minutes"].__setitem__("lunch", 5),
            "/levels/0/deadlines_minutes/lunch",
        ),
        (
            lambda d: d["levels"][0].__setitem__("alert_groups", ["press"]),
            "/levels/0/alert_groups/0",
        ),
        (lambda d: d["measures"][2].__setitem__("id", "release"), "/measures/2/id"),
        (
            lambda d: d["measures"][0]["deadline_minutes"].__setitem__("I", 0),
            "/measures/0/deadline_minutes/I",
        ),
        (lambda d: d["escalation"].__setitem__("max_repeats", -1), "/escalation/max_repeats"),
        (
            lambda d: d["escalation"]["steps"][1].__setitem__("after_minutes", 5),
            "/escalation/steps/1/after_minutes",
        ),
        (lambda d: d["subjects"][0].__setitem__("rule", ""), "/subjects/0/rule"),
        (lambda d: d["subjects"][0].__setitem__("terms", [""]), "/subjects/0/terms/0"),
        (lambda d: d["sms_templates"][0]["variables"].pop("summary"), "/sms_templates/0/text"),
        (lambda d: d["sms_templates"][0].__setitem__("limit", 30), "/sms_templates/0/text"),
        (
            lambda d: d["sms_templates"][1].__setitem__("id", "incident_alert"),
            "/sms_templates/1/id",
        ),
        (lambda d: d["alerting"].__setitem__("ops_group", "it"), "/alerting/ops_group"),
        (lambda d: d["alerting"].__setitem__("sms_daily_cap", "many"), "/alerting/sms_daily_cap"),
    ],
)
def test_each_kind_of_mistake_is_found_at_its_path(edit, path) -> None:
    doc = example_plan()
    edit(doc)
    assert path in paths(validate_plan(doc))


def test_a_document_that_is_not_an_object_is_one_problem() -> None:
    assert paths(validate_plan([1, 2])) == {""}


def test_the_rule_check_seam_reports_the_parsers_message() -> None:
    # GIVEN a rule checker that rejects an unbalanced parenthesis with its position
    def check(rule: str) -> str | None:
        return f"unbalanced ( at {rule.index('(')}" if rule.count("(") != rule.count(")") else None

    doc = example_plan()
    doc["subjects"][1]["rule"] = "(滨江一院 AND 红包"

    problems = validate_plan(doc, rule_check=check)
    assert [(p.path, p.message) for p in problems] == [("/subjects/1/rule", "unbalanced ( at 0")]


def test_check_plan_raises_a_400_with_every_problem() -> None:
    doc = example_plan()
    doc["levels"][0]["alert_groups"] = ["x", "y"]
    with pytest.raises(ValidationError) as raised:
        check_plan(doc)
    assert raised.value.status == 400
    assert paths(raised.value.details["problems"]) == {
        "/levels/0/alert_groups/0",
        "/levels/0/alert_groups/1",
    }


def test_templates_the_system_sends_must_exist() -> None:
    doc = example_plan()
    doc["sms_templates"] = [t for t in doc["sms_templates"] if t["id"] != "deadline_missed"]
    problems = validate_plan(doc)
    assert [(p.path, "deadline_missed" in p.message) for p in problems] == [
        ("/sms_templates", True)
    ]


def test_workflow_settings_are_checked() -> None:
    doc = example_plan()
    doc["workflow"] = {
        "publicity_group": "nosuch",
        "ack_minutes": {"V": 3, "I": 0},
        "cooldown_minutes": "long",
        "speed": 1,
    }
    assert paths(validate_plan(doc)) == {
        "/workflow/publicity_group",
        "/workflow/ack_minutes/V",
        "/workflow/ack_minutes/I",
        "/workflow/cooldown_minutes",
        "/workflow/speed",
    }


def _full_plan() -> dict[str, Any]:
    """The example with every optional numeric setting present (the workflow defaults)."""
    doc = example_plan()
    doc["workflow"] = {
        "ack_minutes": {"I": 10, "II": 15, "III": 60, "IV": 120},
        "monitor_interval_minutes": 30,
        "cooldown_minutes": 360,
        "close_after_minutes": 4320,
        "max_monitor_minutes": 10080,
    }
    return doc


def _numbers(value: Any, path: str = "") -> Iterator[tuple[str, list[Any]]]:
    """Every number in a document: its JSON-pointer path and the keys that reach it."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        here = f"{path}/{key}"
        if isinstance(child, dict | list):
            for found, keys in _numbers(child, here):
                yield found, [key, *keys]
        elif isinstance(child, int | float) and not isinstance(child, bool):
            yield here, [key]


def _set(doc: dict[str, Any], keys: list[Any], value: Any) -> None:
    target: Any = doc
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value


NUMBERS = list(_numbers(_full_plan()))


def test_every_number_in_the_plan_is_found() -> None:
    found = {re.sub(r"/\d+/", "/*/", path) for path, _ in NUMBERS}
    assert {
        "/levels/*/min_risk",
        "/levels/*/deadlines_minutes/triage",
        "/measures/*/deadline_minutes/I",
        "/escalation/repeat_interval_minutes",
        "/escalation/max_repeats",
        "/escalation/steps/*/after_minutes",
        "/sms_templates/*/limit",
        "/sms_templates/*/variables/level",
        "/alerting/sms_daily_cap",
        "/workflow/ack_minutes/I",
        "/workflow/max_monitor_minutes",
    } <= found


@pytest.mark.parametrize(("path", "keys"), NUMBERS, ids=[p for p, _ in NUMBERS])
def test_every_number_in_the_plan_is_bounded_and_says_its_bound(path: str, keys: list[Any]) -> None:
    for value in (10**13, -(10**13), True, 2.5):
        # GIVEN the example with one number huge, hugely negative, a boolean or a fraction
        doc = _full_plan()
        _set(doc, keys, value)
        # WHEN validated THEN that number is a problem whose message names the allowed range
        found = [p for p in validate_plan(doc) if p.path == path]
        assert found, f"{path} = {value!r} was accepted"
        assert re.search(r"\d", found[0].message), found[0].message


@pytest.mark.parametrize(
    ("keys", "limit", "unit"),
    [
        (["levels", 0, "deadlines_minutes", "triage"], 14400, "minutes"),
        (["measures", 0, "deadline_minutes", "I"], 14400, "minutes"),
        (["escalation", "steps", 1, "after_minutes"], 14400, "minutes"),
        (["escalation", "repeat_interval_minutes"], 1440, "minutes"),
        (["escalation", "max_repeats"], 20, ""),
        (["alerting", "sms_daily_cap"], 100_000, "SMS"),
        (["sms_templates", 0, "limit"], 500, "characters"),
        (["sms_templates", 0, "variables", "level"], 200, "characters"),
        (["workflow", "close_after_minutes"], 14400, "minutes"),
    ],
)
def test_each_bound_is_inclusive_and_named_in_the_message(
    keys: list[Any], limit: int, unit: str
) -> None:
    doc = _full_plan()
    _set(doc, keys, limit)
    path = "/" + "/".join(map(str, keys))
    at_limit = [p for p in validate_plan(doc) if p.path == path]
    assert at_limit == [] or keys[0] == "sms_templates"  # a longer variable may overflow text
    _set(doc, keys, limit + 1)
    over = [p.message for p in validate_plan(doc) if p.path == path]
    assert over
    assert f"to {limit}" in over[0]
    assert unit in over[0]


def test_more_than_ten_escalation_steps_are_refused() -> None:
    doc = example_plan()
    doc["escalation"]["steps"] = [
        {"after_minutes": 10 * (i + 1), "notify": ["hq"]} for i in range(11)
    ]
    assert paths(validate_plan(doc)) == {"/escalation/steps"}


def test_a_stored_plan_beyond_the_bounds_is_read_with_the_nearest_bound() -> None:
    # GIVEN a plan saved before the bounds: every integer 10**13 (or negative)
    doc = _full_plan()
    integers = [(p, k) for p, k in NUMBERS if not p.endswith("min_risk")]
    for _, keys in integers:
        _set(doc, keys, 10**13)
    _set(doc, ["escalation", "max_repeats"], -5)
    # WHEN it is bounded
    bounded, moved = bounded_plan(doc)
    # THEN every integer is at its bound, the result is a valid plan, the original untouched
    assert paths(moved) == {p for p, _ in integers}
    assert bounded["levels"][0]["deadlines_minutes"]["triage"] == 14400
    assert bounded["alerting"]["sms_daily_cap"] == 100_000
    assert bounded["escalation"]["max_repeats"] == 0
    assert bounded["escalation"]["steps"][0]["after_minutes"] == 14400
    assert doc["levels"][0]["deadlines_minutes"]["triage"] == 10**13
    # (two steps at the same bound are no longer "later one after another"; that is all)
    assert paths(validate_plan(bounded)) <= {
        "/escalation/steps/1/after_minutes",
        *(f"/sms_templates/{i}/text" for i in range(len(doc["sms_templates"]))),
    }
    assert bounded_plan(example_plan()) == (example_plan(), [])


@pytest.mark.parametrize(
    ("keys", "value"),
    [
        (["groups", 1, "id"], "office\n"),
        (["groups", 1, "members", 0, "phone"], "+8613800138010\n"),
        (["groups", 1, "members", 0, "phone"], "+٨٦١٣٨٠٠١٣٨٠١٠"),
        (["groups", 1, "members", 0, "email"], "chen.jing@example.org\n"),
    ],
)
def test_ids_and_contacts_take_no_final_newline_or_non_ascii_digits(
    keys: list[Any], value: str
) -> None:
    doc = example_plan()
    _set(doc, keys, value)
    assert "/" + "/".join(map(str, keys)) in paths(validate_plan(doc))
