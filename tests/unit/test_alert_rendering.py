"""Message rendering, dedup ids, filter policies and the plan diff: pure, no AWS."""

from __future__ import annotations

import pytest

from chalicelib.alerts import render
from chalicelib.alerts.models import (
    AlertRequest,
    filter_policy,
    message_attributes,
    message_id,
    policy_matches,
)
from chalicelib.alerts.policy import backoff
from chalicelib.alerts.sending import china_day, recipients
from chalicelib.core.errors import ValidationError
from chalicelib.deploy.iam import resolved_policies
from chalicelib.plan.diff import summarize
from chalicelib.plan.models import PlanView
from chalicelib.plan.templates import render_sms
from tests.iam_audit import allows
from tests.plan_helpers import example_plan, group


def request(**changes: object) -> AlertRequest:
    values: dict[str, object] = {
        "incident_key": "inc-42",
        "event": "opened",
        "level": "II",
        "template_id": "incident_alert",
        "variables": {
            "level": "II",
            "subject": "滨江一院",
            "summary": "网传急诊科医疗纠纷",
            "deadline": "30分钟",
        },
    }
    values.update(changes)
    return AlertRequest(**values)  # type: ignore[arg-type]


def test_sms_is_rendered_from_the_template_within_one_segment() -> None:
    plan = PlanView(example_plan())
    text = render.sms_text(plan, request())
    assert text == "【滨江一院】II级舆情：滨江一院。网传急诊科医疗纠纷。请30分钟内响应"
    assert len(text) <= 70


def test_long_values_are_cut_to_their_declared_length_so_the_sms_fits() -> None:
    plan = PlanView(example_plan())
    long = request(
        variables={
            "level": "II",
            "subject": "滨" * 40,
            "summary": "很长的摘要" * 20,
            "deadline": "30分钟",
        },
        drill=True,
    )
    text = render.sms_text(plan, long)
    assert text.startswith("【演练】【滨江一院】")
    assert "…" in text
    assert len(text) <= 70


def test_a_missing_variable_or_template_is_a_400_naming_it() -> None:
    plan = PlanView(example_plan())
    with pytest.raises(ValidationError) as raised:
        render.sms_text(plan, request(variables={"level": "II"}))
    assert {p.path for p in raised.value.problems} == {
        "/variables/subject",
        "/variables/summary",
        "/variables/deadline",
    }
    with pytest.raises(ValidationError):
        render.sms_text(plan, request(template_id="nope"))


def test_whitespace_in_values_cannot_break_the_sms_into_lines() -> None:
    template = {"id": "t", "text": "A{x}B", "variables": {"x": 5}}
    assert render_sms(template, {"x": "a\n b"}) == "Aa bB"


def test_the_email_has_the_full_picture_for_the_group() -> None:
    plan = PlanView(example_plan())
    subject, body = render.email(
        plan,
        request(
            drill=True,
            email_body="急诊科患者家属在微博发帖，转发 3000+。",
            links=["https://weibo.example.org/1"],
        ),
        "publicity",
    )
    assert subject.startswith("【演练】[滨江市第一人民医院]")
    assert "II级（重大·橙）" in body
    assert "急诊科患者家属在微博发帖" in body
    assert "发布权威信息：5 小时内" in body
    assert "召开新闻发布会：1 天内" in body
    assert "信息发布（5 小时内）" in body
    assert "舆论引导" in body
    assert "应急处置" not in body  # coordination's measure
    assert "https://weibo.example.org/1" in body
    assert body.startswith("【演练】")


def test_the_dedup_id_depends_on_incident_event_level_and_group_only() -> None:
    first = message_id("inc-1", "opened", "II", "office")
    assert first == message_id("inc-1", "opened", "II", "office")
    assert (
        len(
            {
                first,
                message_id("inc-1", "opened", "I", "office"),
                message_id("inc-1", "escalated", "II", "office"),
                message_id("inc-2", "opened", "II", "office"),
                message_id("inc-1", "opened", "II", "hq"),
            }
        )
        == 5
    )


def test_a_level_iv_alert_does_not_match_a_member_subscribed_to_i_and_ii_only() -> None:
    # GIVEN 马琳 of the 技术保障组, subscribed to levels I–II
    plan = PlanView(example_plan())
    sms = next(c for c in plan.contacts("tech") if c.member_id == "ma-lin" and c.channel == "sms")
    policy = filter_policy(sms)
    assert policy == {"level": ["I", "II"], "channel": ["sms"]}

    def attrs(level: str, channels: list[str]) -> dict[str, dict[str, str]]:
        return message_attributes(
            level=level, incident="x", drill=False, channels=channels, event="opened"
        )

    assert policy_matches(policy, attrs("II", ["sms", "email"]))
    assert not policy_matches(policy, attrs("IV", ["sms", "email"]))
    assert not policy_matches(policy, attrs("I", ["email"]))  # SMS degraded to e-mail
    assert not policy_matches(policy, {"level": {"DataType": "String", "StringValue": "I"}})
    assert policy_matches(None, attrs("IV", ["sms"]))


def test_recipients_of_a_message_are_the_matching_contacts_of_its_group() -> None:
    plan = PlanView(example_plan())
    item = {
        "group": "tech",
        "level": "III",
        "incident_id": "x",
        "event": "e",
        "channels": ["sms", "email"],
    }
    assert {(c.member_id, c.channel) for c in recipients(plan, item)} == {
        ("zheng-kai", "sms"),
        ("zheng-kai", "email"),
    }


def test_backoff_doubles_is_capped_and_scaled() -> None:
    # 30 s, 60 s, then at most 2 minutes, for every level (decision 72)
    assert [backoff(n, 1.0).total_seconds() for n in (1, 2, 3, 4, 10)] == [30, 60, 120, 120, 120]
    assert backoff(3, 0.01).total_seconds() == 1.2
    assert backoff(1, 0.0001).total_seconds() == 1.0


def test_the_sms_day_is_the_day_in_china() -> None:
    from datetime import UTC, datetime

    assert china_day(datetime(2026, 3, 1, 16, 30, tzinfo=UTC)) == "2026-03-02"


def test_the_version_summary_names_what_changed() -> None:
    old = example_plan()
    new = example_plan()
    group(new, "office")["members"].append(
        {"id": "new-one", "name": "新人", "role": "member", "email": "new@example.org"}
    )
    group(new, "tech")["members"].pop()
    new["levels"][0]["deadlines_minutes"]["report_hq"] = 5
    new["groups"].append(
        {
            "id": "legal",
            "name": "法务组",
            "members": [{"id": "fa", "name": "法务", "role": "lead", "email": "fa@example.org"}],
        }
    )
    new["escalation"]["max_repeats"] = 2
    summary = summarize(old, new)
    assert summary["sections"]["members"] == {
        "added": ["legal/fa", "office/new-one"],
        "removed": ["tech/ma-lin"],
    }
    assert summary["sections"]["groups"] == {"added": ["legal"]}
    assert summary["sections"]["levels"] == {"changed": ["I"]}
    assert summary["sections"]["escalation"] == {"changed": ["escalation"]}
    assert "members removed: tech/ma-lin" in summary["text"]
    assert summarize(None, new)["text"] == "first version"
    assert summarize(new, new)["text"] == "no change"


@pytest.mark.parametrize("stage", ["dev", "prod"])
@pytest.mark.parametrize("function", ["api_handler", "alert_dispatch"])
def test_the_functions_that_reconcile_may_manage_the_stages_group_topics(
    stage: str, function: str
) -> None:
    # PUT /plan reconciles at once; alert_dispatch catches up a reconciliation that failed.
    policy = resolved_policies(stage=stage, account="123456789012", region="cn-north-1")[function]
    topic = f"arn:aws:sns:cn-north-1:123456789012:yuqing-{stage}-group-legal"
    needed = {
        "sns:CreateTopic",
        "sns:Subscribe",
        "sns:Unsubscribe",
        "sns:ListSubscriptionsByTopic",
        "sns:SetSubscriptionAttributes",
        "sns:GetSubscriptionAttributes",
        "sns:GetTopicAttributes",
        "sns:Publish",
    }
    assert {action for action in needed if not allows(policy, action, topic)} == set()
    other_stage = topic.replace(f"yuqing-{stage}-", "yuqing-local-")
    assert not allows(policy, "sns:CreateTopic", other_stage)


def test_the_email_subject_is_one_line_shorter_than_100_characters() -> None:
    plan = PlanView(example_plan())
    subject, _ = render.email(plan, request(email_subject="第一行\n第二行" + "长" * 200), "hq")
    assert "\n" not in subject
    assert len(subject) < 100
