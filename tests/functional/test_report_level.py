"""A manual report's level (上报人定级) against moto: the workflow never starts below it.

The response workflow starts the moment the incident's META is written, and its first step reads
the incident's level whenever it runs. These tests record the level stored at each start (what
that first step would read then) by wrapping the real :class:`StateMachine`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.auth.models import Principal, Role
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.incidents.opener import IncidentOpener
from chalicelib.incidents.store import IncidentStore
from chalicelib.ingest.wiring import build_scoring_sink
from chalicelib.plan.defaults import EXAMPLE_PLAN, LEVEL_RANK
from chalicelib.posts.store import PostStore
from chalicelib.reports.service import ReportService, parse_report
from chalicelib.workflow.statemachine import StateMachine

# About a subject of the example plan (滨江一院) with crisis words: it clusters, and its score
# alone gives it a level below II.
REPORT = {
    "title": "滨江一院急诊科患者家属聚集维权，现场视频在微博传播",
    "content": "微博多条视频显示滨江一院急诊科门口有家属拉横幅，称患者抢救不及时，转发已过千。",
    "platform": "weibo",
}
PLAN = json.loads(EXAMPLE_PLAN.read_text())
REPORTER = Principal(name="值班上报员", role=Role.REPORTER)


@pytest.fixture
def world(moto: dict[str, str], settings: Settings, clients: AwsClients) -> dict[str, Any]:
    table = clients.table(settings.tables.incidents)
    starter = StateMachine.of(settings, clients)
    started: list[tuple[str, str]] = []

    def start(incident_id: str, drill: bool) -> str:
        meta = table.get_item(Key={"pk": incident_id, "sk": "META"}, ConsistentRead=True)["Item"]
        started.append((incident_id, str(meta["level"])))
        return starter.start(incident_id, drill)

    opener = IncidentOpener(IncidentStore(table), start)
    sink = build_scoring_sink(settings, clients, plan=lambda: PLAN, incidents=opener)
    service = ReportService(
        sink, PostStore(clients.table(settings.tables.posts)), opener, IncidentStore(table)
    )
    sfn = clients.client("stepfunctions")
    machine = clients.state_machine_arn(settings.state_machine)
    return {
        "service": service,
        "started": started,
        "table": table,
        "executions": lambda: sfn.list_executions(stateMachineArn=machine)["executions"],
    }


def submit(world: dict[str, Any], body: dict[str, Any], report_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = world["service"].submit(
        REPORTER, parse_report(body, {"hospital"}), report_id
    )
    return answer


def items(world: dict[str, Any], incident_id: str) -> list[dict[str, Any]]:
    found = world["table"].query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": incident_id}
    )
    return list(found["Items"])


def test_without_a_reporter_level_the_story_scores_below_ii(world: dict[str, Any]) -> None:
    """GIVEN the report text alone
    WHEN it is reported without a level
    THEN its incident opens at a level below II — so the next test proves the reporter's
    level, not the score.
    """
    answer = submit(world, REPORT, "r-plain")
    assert answer["opened"] is True
    assert LEVEL_RANK[answer["level"]] < LEVEL_RANK["II"]
    assert {level for _, level in world["started"]} == {answer["level"]}


def test_a_level_ii_report_starts_its_workflow_at_ii_and_only_once(
    world: dict[str, Any],
) -> None:
    """GIVEN a report the reporter rated II about a story that scores lower
    WHEN it is submitted, and then submitted again (a retry under the same key)
    THEN every workflow start found the incident already at II; there is one incident and one
    execution, opened at II (no escalation record), with the reporter's reason on the incident.
    """
    first = submit(world, {**REPORT, "level": "II"}, "r-level-ii")
    again = submit(world, {**REPORT, "level": "II"}, "r-level-ii")

    assert first["incident_id"] == again["incident_id"]
    assert (first["opened"], again["opened"]) == (True, False)
    assert first["level"] == again["level"] == "II"
    assert world["started"], "the workflow was started"
    assert {started for started in world["started"]} == {(first["incident_id"], "II")}
    assert [e["name"] for e in world["executions"]()] == [f"incident-{first['incident_id']}"]
    stored = {str(i["sk"]): i for i in items(world, first["incident_id"])}
    assert stored["META"]["level"] == "II"
    assert "上报人定级 II" in stored["META"]["reasons"]
    assert not [sk for sk in stored if sk.startswith("ESC#")]
    assert [sk for sk in stored if sk.startswith("REPORT#")] == ["REPORT#r-level-ii"]


def test_a_reporter_level_below_the_score_changes_nothing(world: dict[str, Any]) -> None:
    """GIVEN a story that scores some level
    WHEN a reporter rates it IV
    THEN the incident keeps the scored level: the reporter's level is a floor, never a cap.
    """
    scored = submit(world, {**REPORT, "drill": True}, "r-drill-plain")["level"]
    answer = submit(world, {**REPORT, "title": "另一条", "level": "IV"}, "r-low")
    assert answer["level"] == scored
