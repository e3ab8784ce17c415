"""End to end: local embedded mode as a newcomer runs it, as a separate process.

Start → ``/health`` answers 200 → local.json holds URLs and tokens per role and per group → the
AWS CLI sees the tables and the state machine → a report walks through every step of the
response workflow to closed, with the HQ and the groups acting through the API → a schedule fires
on demand → crawling works offline → SIGTERM stops it cleanly → a restart finds the data and the
tokens, and an incident that was waiting for the HQ goes on from where a person can act.
"""

from __future__ import annotations

import io
import json
import socket
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import boto3
import docx
import pytest
import requests

from chalicelib.briefings.models import DOCX_TYPE
from chalicelib.core.clock import CHINA
from tests.e2e.local_mode import LocalMode, aws_cli, free_port, local_cli
from tests.plan_helpers import quick_plan
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e


def _incident(info: dict[str, Any], incident: str) -> dict[str, Any]:
    hq = {"Authorization": f"Bearer {info['tokens']['hq']}"}
    shown: dict[str, Any] = requests.get(
        f"{info['api_url']}/incidents/{incident}", headers=hq, timeout=10
    ).json()
    return shown


def _waiting_for(info: dict[str, Any], incident: str, kind: str) -> bool:
    return any(w["kind"] == kind for w in _incident(info, incident).get("waiting_for", []))


def _post(info: dict[str, Any], token: str, path: str, body: dict[str, Any]) -> Any:
    response = requests.post(
        f"{info['api_url']}{path}",
        headers={"Authorization": f"Bearer {token}"},
        json=body,
        timeout=30,
    )
    assert response.status_code in {200, 201}, f"{path}: {response.status_code} {response.text}"
    return response.json()


def _planned_tasks(info: dict[str, Any], incident: str) -> list[dict[str, Any]]:
    """The incident's tasks once the measures step has written them all (its timeline entry
    comes after its tasks: read earlier, a task may be missing); else []."""
    shown = _incident(info, incident)
    planned = any(str(e["id"]).startswith("measures#") for e in shown["timeline"])
    return list(shown["tasks"]) if planned else []


def _walk_to_closed(info: dict[str, Any], incident: str, level: str = "II") -> None:
    """The HQ activates; each group acknowledges and completes its own task with its lead's
    token; the 宣传组 releases an approved statement; the HQ closes after the evaluation."""
    hq = info["tokens"]["hq"]
    wait_for(lambda: _waiting_for(info, incident, "decision"))
    _post(info, hq, f"/incidents/{incident}/decision", {"action": "activate", "level": level})
    wait_for(lambda: _planned_tasks(info, incident))
    publicity = info["group_tokens"]["publicity"]
    draft = _post(info, publicity, f"/incidents/{incident}/statements", {"text": "情况说明"})
    sid = draft["statement_id"]
    _post(info, hq, f"/incidents/{incident}/statements/{sid}/approve", {})
    _post(info, publicity, f"/incidents/{incident}/statements/{sid}/release", {"channel": "官微"})
    for task in _planned_tasks(info, incident):
        task_id, group = task["task_id"], task["group"]
        lead = info["group_tokens"][group]
        wait_for(lambda t=task_id: _waiting_for(info, incident, f"ack#{t}"))
        _post(info, lead, f"/incidents/{incident}/tasks/{task_id}", {"action": "ack"})
        wait_for(lambda t=task_id: _waiting_for(info, incident, f"done#{t}"))
        _post(info, lead, f"/incidents/{incident}/tasks/{task_id}", {"action": "complete"})
    wait_for(lambda: _waiting_for(info, incident, "close"), timeout=90)
    _post(info, hq, f"/incidents/{incident}/close", {"note": "处置完毕"})
    wait_for(lambda: _incident(info, incident)["status"] == "closed")


def _session(info: dict[str, Any]) -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=info["aws_env"]["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=info["aws_env"]["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=info["aws_env"]["AWS_SESSION_TOKEN"],
        region_name=info["region"],
    )


def test_local_mode_runs_restarts_and_keeps_its_data(local_mode: LocalMode) -> None:
    # GIVEN local mode started as a newcomer would
    info = local_mode.start()
    assert info["api_url"] == f"http://127.0.0.1:{local_mode.port}"
    assert set(info["tokens"]) == {"hq", "lead", "member", "reporter", "viewer"}
    api = info["api_url"]
    hq = {"Authorization": f"Bearer {info['tokens']['hq']}"}

    # /health says only ok to anyone, and what it checked to a viewer
    assert requests.get(f"{api}/health", timeout=10).json() == {"status": "ok"}
    viewer = {"Authorization": f"Bearer {info['tokens']['viewer']}"}
    health = requests.get(f"{api}/health", headers=viewer, timeout=10).json()
    assert health["status"] == "ok"
    assert {c["kind"] for c in health["components"]} == {"table", "queue", "topic", "state_machine"}
    assert health["alerts"]["ok"] is True
    who = requests.get(f"{api}/whoami", headers=hq, timeout=10)
    assert who.status_code == 200
    assert who.json()["role"] == "hq"
    assert requests.get(f"{api}/whoami", timeout=10).status_code == 401

    # THEN the AWS CLI against the local endpoint lists the tables and the state machine
    tables = aws_cli(info, "dynamodb", "list-tables")["TableNames"]
    assert "yuqing-local-incidents" in tables
    machines = aws_cli(info, "stepfunctions", "list-state-machines")["stateMachines"]
    assert [m["name"] for m in machines] == ["yuqing-local-response"]

    # WHEN a person reports an incident and the HQ and the groups act through the API
    saved = requests.put(f"{api}/plan", headers=hq, json=quick_plan(), timeout=30)
    assert saved.status_code == 200, saved.text
    reported = _post(
        info,
        info["tokens"]["reporter"],
        "/reports",
        {
            "title": "滨江一院急诊科家属维权",
            "content": "网传滨江一院急诊科医疗事故，家属维权。",
            "level": "II",
        },
    )
    incident = reported["incident_id"]
    _walk_to_closed(info, incident)

    # THEN the timeline shows every step with its time, and the outbox every alert
    shown = _incident(info, incident)
    steps = {e["step"] for e in shown["timeline"]}
    assert {"report", "triage", "measures", "implement", "monitor", "evaluate", "close"} <= steps
    assert all(e["at"] for e in shown["timeline"])
    assert wait_for(lambda: _incident(info, incident)["execution"]["status"] == "SUCCEEDED")
    outbox = requests.get(f"{api}/outbox?incident={incident}", headers=hq, timeout=10).json()
    events = {m["event"] for m in outbox["messages"]}
    assert {"reported", "activated#II"} <= events
    assert any(event.startswith("task#") for event in events)

    # AND a drill runs the same pipeline, marked as a drill, and produces its report
    drill = _post(info, info["tokens"]["hq"], "/drills", {"scenario": "rumour-accident"})
    drill_id = drill["drill_id"]

    def drill_report() -> Any:
        report = requests.get(f"{api}/drills/{drill_id}", headers=hq, timeout=10).json()
        return report if report.get("incidents") and report["incidents"][0]["steps"] else None

    report = wait_for(drill_report)
    assert report["excluded_from_statistics"] is True
    drilled = report["incidents"][0]["incident_id"]
    assert _incident(info, drilled)["drill"] is True
    assert "report_hq" in {step["key"] for step in report["incidents"][0]["steps"]}
    real = requests.get(f"{api}/incidents?drill=false", headers=hq, timeout=10).json()
    assert drilled not in {i["incident_id"] for i in real["incidents"]}

    # AND a schedule fires on demand through the same Lambda path
    fired = local_cli(local_mode.state_dir, "fire", "health_probe")
    assert fired.returncode == 0, fired.stdout + fired.stderr
    assert json.loads(fired.stdout)["result"] == {"ok": True, "down": []}

    # AND the example sources were seeded: crawling the demo source now stores posts, the public
    # hot lists are refused offline, and a source at a private address is refused
    ddb = _session(info).client("dynamodb", endpoint_url=info["aws_endpoint_url"])
    sources = requests.get(f"{info['api_url']}/sources", headers=hq, timeout=10).json()["sources"]
    assert {"demo-weibo", "demo-forum", "weibo-hot"} <= {s["id"] for s in sources}
    crawl = requests.post(f"{info['api_url']}/sources/demo-weibo/crawl", headers=hq, timeout=60)
    assert crawl.status_code == 200, crawl.text
    assert crawl.json()["outcome"] == "ok"
    assert crawl.json()["items"] == 12
    posts = ddb.scan(TableName="yuqing-local-posts")["Items"]
    assert len(posts) >= 12
    # ... scored on the way in (one write per post carries its risk and reasons)
    assert all("risk" in post and "reasons" in post for post in posts)

    # AND today's briefing (舆情日报), the closed incident's evaluation (舆情评估) and the drill
    # report download over HTTP as Word documents that open, each with a chart
    today = datetime.now(CHINA).date().isoformat()

    # ... before the plan's briefing time the day's is still open, and its name says so (asked
    # before and after the download: the briefing time may pass in between, at any hour we run)
    def interim() -> str:
        daily = requests.get(f"{api}/briefings/{today}", headers=hq, timeout=60).json()
        return "-临时版" if daily["provisional"] else ""

    before = interim()
    for path, filenames in (
        (f"/briefings/{today}", {f"舆情日报-{today}{before}.docx"}),
        (f"/incidents/{incident}/report", {f"舆情评估-{incident}.docx"}),
        (f"/drills/{drill_id}", {f"演练评估-{drill_id}.docx"}),
    ):
        word = requests.get(f"{api}{path}?format=docx", headers=hq, timeout=60)
        assert word.status_code == 200, word.text
        assert word.headers["Content-Type"] == DOCX_TYPE
        if path.startswith("/briefings/"):
            filenames.add(f"舆情日报-{today}{interim()}.docx")
        disposition = word.headers["Content-Disposition"]
        assert unquote(disposition.split("filename*=UTF-8''")[1]) in filenames
        document = docx.Document(io.BytesIO(word.content))
        assert document.inline_shapes, path
        assert document.paragraphs[0].text  # the title
    public = requests.post(f"{info['api_url']}/sources/weibo-hot/crawl", headers=hq, timeout=60)
    assert public.json()["error"]["code"] == "offline"
    private = requests.post(
        f"{info['api_url']}/sources",
        headers=hq,
        json={"id": "intranet", "kind": "rss", "url": "http://192.168.1.10/feed"},
        timeout=10,
    )
    assert private.status_code == 400
    assert "private address" in private.json()["problems"][0]["message"]

    # GIVEN, at the moment of stopping, an incident waiting for the HQ's decision and a queued
    # message (on the dead-letter queue, which no function consumes)
    sqs = _session(info).client("sqs", endpoint_url=info["aws_endpoint_url"])
    queue = sqs.get_queue_url(QueueName="yuqing-local-crawl-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody='{"source": "kept"}')
    waiting = _post(
        info,
        info["tokens"]["reporter"],
        "/reports",
        {
            "title": "滨江一院停车收费投诉",
            "content": "市民投诉滨江一院停车收费过高。",
            "level": "IV",
        },
    )["incident_id"]
    wait_for(lambda: _waiting_for(info, waiting, "decision"))

    # WHEN it is stopped with SIGTERM THEN it exits cleanly and saves its tables
    assert local_mode.stop() == 0
    assert (local_mode.state_dir / "state" / "dynamodb" / "yuqing-local-incidents.json").exists()

    # WHEN it starts again THEN the data and the tokens written before are still there
    restarted_at = datetime.now(UTC).isoformat()
    again = local_mode.start()
    assert again["tokens"] == info["tokens"]
    assert again["group_tokens"] == info["group_tokens"]
    assert _incident(again, incident)["status"] == "closed"
    ddb = _session(again).client("dynamodb", endpoint_url=again["aws_endpoint_url"])
    probe = ddb.get_item(TableName="yuqing-local-system", Key={"pk": {"S": "health"}})
    assert probe["Item"]["status"]["S"] == "ok"

    # AND the message is queued again
    sqs = _session(again).client("sqs", endpoint_url=again["aws_endpoint_url"])
    queue = sqs.get_queue_url(QueueName="yuqing-local-crawl-dlq")["QueueUrl"]
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue).get("Messages", [])] == [
        '{"source": "kept"}'
    ]
    # AND the interrupted workflow runs again and asks the HQ afresh (as a person reloading
    # would see): the HQ decides and it goes on to close, with its first steps recorded once
    wait_for(
        lambda: any(
            w["kind"] == "decision" and str(w["since"]) >= restarted_at
            for w in _incident(again, waiting)["waiting_for"]
        )
    )
    _walk_to_closed(again, waiting, level="IV")
    reports = [e for e in _incident(again, waiting)["timeline"] if e["id"] == "report"]
    assert len(reports) == 1

    # AND a second local mode on the same state directory is refused while this one runs
    second = local_cli(local_mode.state_dir, "run", port=free_port())
    assert second.returncode == 1
    assert "another local mode is using" in second.stderr
    assert local_mode.stop() == 0


def test_a_busy_api_port_fails_fast_with_a_clear_message(local_mode: LocalMode) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", local_mode.port))
        busy.listen()
        done = local_cli(local_mode.state_dir, "run", port=local_mode.port)
    assert done.returncode == 1
    assert "could not start" in done.stderr
