"""End to end: local mode on the worst night — a quiet start, a quick stop while dozens of
incidents run, and a SIGKILL in the middle of an incident that loses nothing.

Local mode runs at ``YUQING_TIME_SCALE=0.1`` here, so no 研判 deadline passes during a test and
every incident's workflow is still running (waiting for the HQ) when local mode stops.
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import requests

from tests.e2e.local_mode import LocalMode
from tests.plan_helpers import quick_plan
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

SCALE = {"YUQING_TIME_SCALE": "0.1"}
INCIDENTS = 30
# A correctness bound, generous for a loaded machine; the typical stop is a few seconds.
STOP_BOUND_SECONDS = 30
BANNER = "yuqing local mode is up"
WORDS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥金木水火土日月星辰山川河海风云雷电"


def _levels(output: str) -> list[str]:
    """The level of each Powertools (JSON) log line in ``output``."""
    levels = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                levels.append(str(json.loads(line).get("level")))
            except ValueError:
                continue
    return levels


class Api:
    """Calls to the running local mode; every answer is below 500, whatever it is."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.url = info["api_url"]

    def call(self, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        url = f"{self.url}{path}"
        answer = requests.request(method, url, headers=headers, timeout=60, **kwargs)
        assert answer.status_code < 500, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer

    def hq(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.call(method, path, self.info["tokens"]["hq"], **kwargs).json()

    def report(self, title: str, content: str, level: str, key: str) -> dict[str, Any]:
        answer = self.call(
            "POST",
            "/reports",
            self.info["tokens"]["reporter"],
            headers={"Idempotency-Key": key},
            json={"title": title, "content": content, "level": level},
        )
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def waiting_for(self, incident: str, kind: str, since: str = "") -> bool:
        shown = self.hq("GET", f"/incidents/{incident}")
        return any(
            w["kind"] == kind and str(w["since"]) >= since for w in shown.get("waiting_for", [])
        )


def _running(info: dict[str, Any]) -> set[str]:
    """Names of the response workflow's RUNNING executions, as Step Functions lists them."""
    session = boto3.session.Session(
        aws_access_key_id=info["aws_env"]["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=info["aws_env"]["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=info["aws_env"]["AWS_SESSION_TOKEN"],
        region_name=info["region"],
    )
    sfn = session.client("stepfunctions", endpoint_url=info["aws_endpoint_url"])
    machine = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    names: set[str] = set()
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=machine, statusFilter="RUNNING"
    ):
        names.update(e["name"] for e in page["executions"])
    return names


def _story(i: int) -> str:
    pick = random.Random(i)
    return "".join(pick.choice(WORDS) for _ in range(24))


def test_a_busy_local_mode_starts_quietly_stops_quickly_and_resumes_every_incident(
    local_mode: LocalMode,
) -> None:
    # GIVEN local mode, started
    info = local_mode.start(env=SCALE)
    api = Api(info)

    # THEN its console says it is up and nothing below WARNING (README: logs at WARNING)
    before_banner = local_mode.output().split(BANNER)[0]
    assert not set(_levels(before_banner)) & {"DEBUG", "INFO"}, before_banner[:2000]

    # WHEN 30 people report 30 different stories at once, each opening an incident
    def report(i: int) -> str:
        made = api.report(f"事件{i} {_story(i)[:6]}", _story(i), "III", f"busy-night-{i:04d}")
        return str(made["incident_id"])

    with ThreadPoolExecutor(8) as pool:
        incidents = set(pool.map(report, range(INCIDENTS)))
    assert len(incidents) == INCIDENTS
    executions = {f"incident-{i}" for i in incidents}
    wait_for(lambda: executions <= _running(info), timeout=120)

    # WHEN it is stopped with SIGTERM while their workflows run
    asked = time.monotonic()
    assert local_mode.stop() == 0
    stopped_in = time.monotonic() - asked

    # THEN it stopped within the bound, saying nothing below WARNING all along
    assert stopped_in < STOP_BOUND_SECONDS, f"stop took {stopped_in:.1f} s"
    assert not set(_levels(local_mode.output())) & {"DEBUG", "INFO"}
    # AND the snapshot holds every incident and every running execution
    state = local_mode.state_dir / "state"
    saved = json.loads((state / "executions.json").read_text(encoding="utf-8"))
    assert executions <= {e["name"] for e in saved["running"]}
    table = json.loads((state / "dynamodb" / "yuqing-local-incidents.json").read_text())
    metas = {i["pk"]["S"] for i in table["items"] if i["sk"]["S"] == "META"}
    assert incidents <= metas

    # WHEN it starts again THEN every workflow runs again and asks the HQ afresh
    restarted_at = datetime.now(UTC).isoformat()
    again = local_mode.start(env=SCALE)
    wait_for(lambda: executions <= _running(again), timeout=120)

    def asked_again(incident: str) -> bool:
        shown = Api(again).hq("GET", f"/incidents/{incident}")
        return any(
            w["kind"] == "decision" and str(w["since"]) >= restarted_at
            for w in shown.get("waiting_for", [])
        )

    for incident in incidents:
        wait_for(lambda i=incident: asked_again(i), timeout=120)
    assert local_mode.stop() == 0


def test_a_local_mode_killed_mid_incident_loses_nothing_and_every_alert_goes_out(
    local_mode: LocalMode,
) -> None:
    # GIVEN an incident the HQ has just activated, whose groups have their tasks (an hour each
    # to acknowledge, so none runs out while the test waits on a busy machine)
    info = local_mode.start(env=SCALE)
    api = Api(info)
    saved = api.call("PUT", "/plan", info["tokens"]["hq"], json=quick_plan())
    assert saved.status_code == 200, saved.text
    a = api.report("滨江一院急诊科家属维权", "网传急诊科医疗事故，家属维权。", "II", "kill-0001")[
        "incident_id"
    ]
    wait_for(lambda: api.waiting_for(a, "decision"), timeout=90)
    api.hq("POST", f"/incidents/{a}/decision", json={"action": "activate", "level": "II"})
    wait_for(lambda: api.hq("GET", f"/incidents/{a}")["tasks"], timeout=90)
    # ... and, a moment before the kill, a second report answered 201
    b = api.report("滨江大学食堂食物中毒", "网传滨江大学食堂学生中毒送医。", "II", "kill-0002")[
        "incident_id"
    ]

    # WHEN local mode is killed (no handler runs; the last periodic save is seconds old or none)
    local_mode.kill()

    # AND started again
    restarted_at = datetime.now(UTC).isoformat()
    again = local_mode.start(env=SCALE)
    api = Api(again)

    # THEN both incidents are there with everything written before the kill: A's decision on
    # its timeline and its groups' tasks, B as reported
    shown_a = api.hq("GET", f"/incidents/{a}")
    assert "decided" in {e["id"] for e in shown_a["timeline"]}, shown_a["timeline"]
    tasks = shown_a["tasks"]
    assert tasks
    assert api.hq("GET", f"/incidents/{b}")["status"] in {"open", "reported", "awaiting_decision"}
    # AND neither is stuck: both workflows run again
    wait_for(lambda: {f"incident-{a}", f"incident-{b}"} <= _running(again), timeout=120)

    # AND every alert goes out: A's report and activation, B's report — each once
    def delivered(incident: str, wanted: set[str]) -> bool:
        messages = api.hq("GET", f"/outbox?incident={incident}")["messages"]
        out = {m["event"] for m in messages if m["status"] != "pending"}
        return wanted <= out

    wait_for(lambda: delivered(a, {"reported", "activated#II"}), timeout=120)
    wait_for(lambda: delivered(b, {"reported"}), timeout=120)
    for incident in (a, b):
        messages = api.hq("GET", f"/outbox?incident={incident}")["messages"]
        keys = [m["message_id"] for m in messages]
        assert len(keys) == len(set(keys))

    # AND A's response goes on: its resumed workflow (restarted from the top, so it asks again;
    # docs/local-mode.md) takes the HQ's decision and then its group's acknowledgement
    wait_for(lambda: api.waiting_for(a, "decision", since=restarted_at), timeout=120)
    api.hq("POST", f"/incidents/{a}/decision", json={"action": "activate", "level": "II"})
    task = tasks[0]
    lead = again["group_tokens"][task["group"]]
    wait_for(lambda: api.waiting_for(a, f"ack#{task['task_id']}", since=restarted_at), timeout=120)
    acked = api.call(
        "POST", f"/incidents/{a}/tasks/{task['task_id']}", lead, json={"action": "ack"}
    )
    assert acked.status_code == 200, acked.text
    assert local_mode.stop() == 0
