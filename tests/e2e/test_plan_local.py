"""End to end: the plan and alerts in local mode, as the issue's "done when" describes.

The example plan is loaded on first start → a broken PUT /plan is 400 with every problem → a
valid change is version 2 and its subscriptions are visible with the AWS CLI → an alert for a
test incident is in /outbox with its recipients → a restart keeps version 2 (the example never
overwrites a stored plan) and reconciles the subscriptions again.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.e2e.local_mode import LocalMode, aws_cli, local_cli
from tests.plan_helpers import example_plan, group

pytestmark = pytest.mark.e2e


def _endpoints(info: dict[str, Any], group_id: str) -> set[str]:
    arn = f"arn:aws:sns:{info['region']}:{info['account']}:yuqing-local-group-{group_id}"
    listed = aws_cli(info, "sns", "list-subscriptions-by-topic", "--topic-arn", arn)
    return {s["Endpoint"] for s in listed["Subscriptions"]}


def test_plan_and_alerts_in_local_mode(local_mode: LocalMode) -> None:
    local = local_mode
    info = local.start()
    api = info["api_url"]
    hq = {"Authorization": f"Bearer {info['tokens']['hq']}"}

    # GIVEN a first start: the example plan is version 1 and its contacts are subscribed
    plan = requests.get(f"{api}/plan", headers=hq, timeout=10).json()
    assert plan["version"] == 1
    assert plan["plan"]["organisation"]["name"] == "滨江市第一人民医院"
    assert "+8613800138041" in _endpoints(info, "tech")

    # WHEN a broken plan is PUT THEN 400 lists each problem and no version is written
    broken = example_plan()
    group(broken, "tech")["members"][0]["phone"] = "12345"
    broken["measures"][0]["owner"] = "press"
    response = requests.put(f"{api}/plan", headers=hq, json=broken, timeout=10)
    assert response.status_code == 400
    assert {p["path"] for p in response.json()["problems"]} == {
        "/groups/4/members/0/phone",
        "/measures/0/owner",
    }

    # WHEN a valid change is PUT THEN it is version 2 and SNS follows it
    doc = example_plan()
    group(doc, "tech")["members"].pop()  # 马琳 leaves the 技术保障组
    saved = requests.put(f"{api}/plan", headers={**hq, "If-Match": "1"}, json=doc, timeout=30)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2
    assert _endpoints(info, "tech") == {"+8613800138040", "zheng.kai@example.org"}

    # WHEN an alert is sent for a test incident THEN /outbox lists it with its recipients
    alert = {
        "incident": "e2e-plan",
        "event": "opened",
        "level": "III",
        "template_id": "incident_alert",
        "variables": {
            "level": "III",
            "subject": "测试",
            "summary": "端到端测试",
            "deadline": "2小时",
        },
        "groups": ["tech"],
    }
    sent = requests.post(f"{api}/alerts", headers=hq, json=alert, timeout=30)
    assert sent.status_code == 200, sent.text
    outbox = requests.get(
        f"{api}/outbox", params={"incident": "e2e-plan"}, headers=hq, timeout=10
    ).json()
    [message] = outbox["messages"]
    assert message["status"] == "awaiting_ack"
    assert message["sns_message_id"]
    assert {(r["name"], r["channel"]) for r in message["recipients"]} == {
        ("郑凯", "sms"),
        ("郑凯", "email"),
    }

    # AND the alert_dispatch schedule runs through the Lambda path without errors
    fired = local_cli(local.state_dir, "fire", "alert_dispatch")
    assert fired.returncode == 0, fired.stdout + fired.stderr
    result = json.loads(fired.stdout)
    assert result["error"] is None
    assert result["result"]["errors"] == []

    # WHEN local mode restarts THEN version 2 is kept, whole (the HQ sees every contact), and
    # the subscriptions are there again
    assert local.stop() == 0
    again = local.start()
    plan = requests.get(
        f"{again['api_url']}/plan",
        headers={"Authorization": f"Bearer {again['tokens']['hq']}"},
        timeout=10,
    ).json()
    assert plan["version"] == 2
    assert _endpoints(again, "tech") == {"+8613800138040", "zheng.kai@example.org"}
    assert json.dumps(plan["plan"], ensure_ascii=False) == json.dumps(doc, ensure_ascii=False)
    assert local.stop() == 0
