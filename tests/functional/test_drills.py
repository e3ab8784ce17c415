"""Drills (预案演练): the API's 4xx through ``chalice.test.Client``, and a bundled scenario run
through the real pipeline and the real workflow in moto's executing Step Functions.

Time is driven by the test: ``DrillService.advance(drill_id, now)`` injects every event due by
``now``; local mode's pacing thread is switched off.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.auth.store import TokenStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.clock import utcnow
from chalicelib.core.settings import Settings
from chalicelib.drills import views as drill_views
from chalicelib.drills.scenario import MAX_EVENTS, load_bundled
from chalicelib.drills.wiring import drill_service
from chalicelib.incidents.queries import IncidentQueries
from chalicelib.plan.models import DRILL_PREFIX
from chalicelib.workflow.statemachine import StateMachine
from tests.auth_helpers import role_tokens
from tests.functional.test_workflow_paths import HQ, Live, live
from tests.plan_helpers import quick_plan

__all__ = ["live"]  # the fixture, shared with the workflow paths

INLINE: dict[str, Any] = {
    "name": "内联演练",
    "description": "一条帖子和一份上报",
    "events": [
        {
            "at_minutes": 0,
            "kind": "report",
            "title": "滨江一院急诊科患者家属维权",
            "content": "网传滨江一院急诊科发生医疗事故，家属在门口拉横幅维权。",
            "level": "III",
        },
        {"at_minutes": 30, "kind": "post", "text": "滨江一院急诊科医疗事故，家属维权", "copies": 3},
    ],
}


@pytest.fixture(autouse=True)
def no_pacing_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drill_views, "PACE_IN_PROCESS", False)


@pytest.fixture
def tokens(clients: AwsClients, settings: Settings) -> dict[str, str]:
    store = TokenStore(clients.table(settings.tables.tokens))
    return role_tokens(store)


def call(client: Client, method: str, path: str, token: str | None, body: Any = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = body if isinstance(body, str) or body is None else json.dumps(body)
    return getattr(client.http, method.lower())(path, headers=headers, body=payload or "")


def count(clients: AwsClients, table: str) -> int:
    return int(clients.table(table).scan(Select="COUNT")["Count"])


def _events(*events: dict[str, Any]) -> dict[str, Any]:
    return {"scenario": {"name": "x", "events": list(events)}}


POST = {"at_minutes": 0, "kind": "post", "text": "滨江一院"}


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({}, {"/scenario"}),
        ({"scenario": "no-such-drill"}, {"/scenario"}),
        ({"scenario": 7, "extra": 1, "note": 5}, {"/scenario", "/extra", "/note"}),
        ({"scenario": {"events": []}}, {"/scenario/name", "/scenario/events"}),
        ({"scenario": {"name": "x", "events": [POST] * (MAX_EVENTS + 1)}}, {"/scenario/events"}),
        (
            _events({"at_minutes": -1, "kind": "tweet"}),
            {"/scenario/events/0/at_minutes", "/scenario/events/0/kind"},
        ),
        (
            _events({**POST, "url": "https://weibo.com/1", "copies": 500, "drill": False}),
            {
                "/scenario/events/0/url",
                "/scenario/events/0/copies",
                "/scenario/events/0/drill",
            },
        ),
        (
            _events({**POST, "platform": "report", "engagement": {"stars": 1}, "rank": 0}),
            {
                "/scenario/events/0/platform",
                "/scenario/events/0/engagement/stars",
                "/scenario/events/0/rank",
            },
        ),
        (
            _events(POST, {"at_minutes": 1, "kind": "report", "title": "", "level": "V"}),
            {"/scenario/events/1/title", "/scenario/events/1/content", "/scenario/events/1/level"},
        ),
        (_events(*[{**POST, "copies": 200}] * 6), {"/scenario/events"}),
        (
            _events({**POST, "platform": ["weibo"], "copies": True, "credibility": 2}),
            {
                "/scenario/events/0/platform",
                "/scenario/events/0/copies",
                "/scenario/events/0/credibility",
            },
        ),
        (
            _events(
                {"at_minutes": 0, "kind": "report", "title": "t", "content": "c", "subject": [1]}
            ),
            {"/scenario/events/0/subject"},
        ),
    ],
)
def test_a_bad_drill_is_400_with_every_problem_and_writes_nothing(
    api_client: Client,
    tokens: dict[str, str],
    clients: AwsClients,
    settings: Settings,
    body: dict[str, Any],
    paths: set[str],
) -> None:
    response = call(api_client, "POST", "/drills", tokens["hq"], body)
    assert response.status_code == 400, response.body
    assert {p["path"] for p in response.json_body["problems"]} == paths
    assert count(clients, settings.tables.incidents) == 0
    assert count(clients, settings.tables.posts) == 0


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [("POST", "/drills", "lead"), ("GET", "/drills", None), ("GET", "/drills/dr-abcdef", None)],
)
def test_only_the_hq_starts_drills_and_everyone_needs_a_token(
    api_client: Client, tokens: dict[str, str], method: str, path: str, role: str | None
) -> None:
    if role:
        response = call(api_client, method, path, tokens[role], {"scenario": "repost-storm"})
        assert response.status_code == 403
    assert call(api_client, method, path, None, {"scenario": "repost-storm"}).status_code == 401


def test_an_inline_drill_injects_what_is_due_and_reports_on_its_incident(
    api_client: Client, tokens: dict[str, str], clients: AwsClients, settings: Settings
) -> None:
    # WHEN the HQ starts an inline drill
    started = call(api_client, "POST", "/drills", tokens["hq"], {"scenario": INLINE})
    assert started.status_code == 201, started.body
    drill = started.json_body
    # THEN the report due at minute 0 is injected at once and the post at minute 30 waits
    injected = [e["injected_at"] is not None for e in drill["events"]]
    assert injected == [True, False]
    assert drill["state"] == "running"
    (incident_id,) = drill["incidents"]
    # AND the incident is a drill: off the real board, on the drill's
    board = call(api_client, "GET", "/incidents?drill=false", tokens["viewer"]).json_body
    assert incident_id not in {i["incident_id"] for i in board["incidents"]}
    drills = call(api_client, "GET", "/incidents?drill=true", tokens["viewer"]).json_body
    assert incident_id in {i["incident_id"] for i in drills["incidents"]}
    # AND the drill is listed, and its report shows the incident excluded from statistics
    listed = call(api_client, "GET", "/drills", tokens["viewer"]).json_body["drills"]
    assert [d["drill_id"] for d in listed] == [drill["drill_id"]]
    report = call(api_client, "GET", f"/drills/{drill['drill_id']}", tokens["viewer"]).json_body
    assert report["excluded_from_statistics"] is True
    assert [i["incident_id"] for i in report["incidents"]] == [incident_id]
    # (moto here does not run the workflow: the report step has not set its deadlines yet)
    assert report["incidents"][0]["steps"][0]["status"] == "pending"
    assert call(api_client, "GET", "/drills/dr-0000000000", tokens["viewer"]).status_code == 404
    assert call(api_client, "GET", "/drills/nope", tokens["viewer"]).status_code == 400
    scenarios = call(api_client, "GET", "/drills/scenarios", tokens["viewer"]).json_body
    assert {s["id"] for s in scenarios["scenarios"]} == {
        "rumour-accident",
        "repost-storm",
        "slow-complaint",
    }


def test_the_same_idempotency_key_starts_one_drill(
    api_client: Client, tokens: dict[str, str]
) -> None:
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {tokens['hq']}",
        "Idempotency-Key": "drill-start-0001",
    }
    body = json.dumps({"scenario": "repost-storm"})
    first = api_client.http.post("/drills", headers=headers, body=body)
    second = api_client.http.post("/drills", headers=headers, body=body)
    assert first.status_code == second.status_code == 201
    assert first.json_body["drill_id"] == second.json_body["drill_id"]
    listed = call(api_client, "GET", "/drills", tokens["viewer"]).json_body["drills"]
    assert len(listed) == 1


def test_a_bundled_drill_runs_the_real_workflow_marked_as_a_drill(live: Live) -> None:
    # GIVEN the short plan, with 报告 and 研判 deadlines (3.6 s and 18 s at 1/1000) that a busy
    # test machine cannot miss by accident
    plan = quick_plan()
    for level in plan["levels"]:
        level["deadlines_minutes"].update(report_hq=60, triage=300)
    live.save_plan(plan)
    service = drill_service()
    scenario = load_bundled("rumour-accident", {"hospital", "integrity", "safety"})
    # WHEN the rumour drill starts and, later, all its events have come
    started = service.start(HQ, scenario, "季度演练", "dr-0123456789")
    service.advance("dr-0123456789", utcnow() + timedelta(days=1))
    summary = service.summary("dr-0123456789")
    assert summary["state"] == "injected"
    assert all(e["injected_at"] for e in summary["events"])
    assert summary["incidents"], started
    incident = summary["incidents"][0]
    assert live.meta(incident)["drill"] is True

    # AND the HQ decides in time and every group acknowledges and completes its task
    live.wait(lambda: live.waiting(incident, "decision"))
    live.actions.decide(incident, HQ, {"action": "activate", "level": "II", "note": "辟谣"})
    live.wait(lambda: live.planned_tasks(incident))
    done = live.all_tasks_done(incident)
    # AND no statement is released before the authoritative-information deadline
    live.wait(lambda: "deadline#authoritative_info" in live.timeline_keys(incident), seconds=30)

    # THEN every alert of the drill is marked: drill=true, SMS and e-mail start with 【演练】
    outbox = live.clients.table(live.settings.tables.outbox).scan()["Items"]
    mine = [m for m in outbox if m["incident_id"] == incident]
    assert mine
    assert all(m["drill"] is True for m in mine)
    assert all(str(m["sms"]).startswith(DRILL_PREFIX) for m in mine)
    assert all(str(m["email_subject"]).startswith(DRILL_PREFIX) for m in mine)

    # AND the drill report lists each step's time against its deadline
    report = service.report("dr-0123456789")
    row = next(r for r in report["incidents"] if r["incident_id"] == incident)
    steps = {s["key"]: s for s in row["steps"]}
    assert steps["report_hq"]["status"] == "met"
    assert steps["triage"]["status"] == "met"
    assert steps["triage"]["taken_minutes"] <= steps["triage"]["allowed_minutes"]
    for task_id in done:
        assert steps[f"task:{task_id}:ack"]["status"] == "met"
        assert steps[f"task:{task_id}:done"]["status"] == "met"
    assert steps["authoritative_info"]["status"] == "missed"
    # (the workflow goes on alerting meanwhile: the report may count a few more)
    assert row["alerts"]["messages"] == row["alerts"]["marked_drill"] >= len(mine)
    assert report["totals"]["missed"] >= 1
    assert report["excluded_from_statistics"] is True
    # AND the incident stays off the real board
    queries = IncidentQueries(live.store, StateMachine.of(live.settings, live.clients))
    assert incident not in {
        i["incident_id"] for i in queries.list(status=None, level=None, drill=False)
    }
    live.sfn.stop_execution(executionArn=live.execution(incident)["executionArn"])
