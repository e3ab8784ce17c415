"""The response workflow end to end in moto's executing Step Functions, with the real handlers.

Each test opens an incident, lets the state machine run the real ``workflow_step`` function
(through local mode's Lambda hook) and acts as the HQ and the groups would, through the same
service the API uses. The plan is the example plan with its durations shortened, under a time
scale of 1/1000, so a 30-minute 研判 deadline passes in about two seconds.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from chalice.test import Client

import app as app_module
from chalicelib.alerts.wiring import alert_service
from chalicelib.auth.models import Principal, Role
from chalicelib.auth.store import TokenStore
from chalicelib.clusters.models import Cluster
from chalicelib.clusters.store import ClusterStore
from chalicelib.core import aws
from chalicelib.core.aws import AwsClients, get_clients
from chalicelib.core.clock import parse_instant
from chalicelib.core.errors import ConflictError, UnavailableError
from chalicelib.core.observability import logger
from chalicelib.core.settings import get_settings, reset_settings
from chalicelib.deploy.template import PROJECT_DIR, render
from chalicelib.incidents.actions import IncidentActions
from chalicelib.incidents.models import IncidentDraft
from chalicelib.incidents.opener import IncidentOpener
from chalicelib.incidents.queries import IncidentQueries
from chalicelib.incidents.store import IncidentStore
from chalicelib.incidents.sweep import IncidentSweep
from chalicelib.incidents.tokens import TokenDesk
from chalicelib.local import lambda_hook
from chalicelib.local.functions import register_functions
from chalicelib.local.provision import TemplateProvisioner
from chalicelib.plan.service import PlanService
from chalicelib.plan.store import PlanStore
from chalicelib.workflow.logic.reading import PUBLIC_DEADLINES
from chalicelib.workflow.statemachine import StateMachine
from chalicelib.workflow.wiring import incident_opener, rise_checker
from tests.moto_harness import executing_moto
from tests.plan_helpers import quick_plan
from tests.waiting import wait_for

REGION = "us-east-1"
ACCOUNT = "123456789012"
HQ = Principal("指挥部值班", Role.HQ)
REPORT = {
    "title": "滨江一院急诊科患者家属聚集维权",
    "content": "微博多条视频显示滨江一院急诊科门口有家属拉横幅，称患者抢救不及时。",
    "platform": "weibo",
    "subject": "hospital",
    "level": "II",
}
STEP_FUNCTION = "yuqing-local-workflow_step"


class Live:
    """The system in moto, with helpers to act and to wait."""

    def __init__(self, registry: lambda_hook.HandlerRegistry) -> None:
        self.registry = registry
        self.settings = get_settings()
        self.clients = get_clients()
        self.store = IncidentStore(self.clients.table(self.settings.tables.incidents))
        sfn = self.clients.client("stepfunctions")
        alerts = alert_service(self.settings, self.clients)
        self.actions = IncidentActions(
            self.store, TokenDesk(self.store, StateMachine.of(self.settings, self.clients)), alerts
        )
        self.sfn = sfn

    def save_plan(self, doc: dict[str, Any]) -> None:
        alerts = alert_service(self.settings, self.clients)
        PlanService(
            PlanStore(self.clients.table(self.settings.tables.plan)),
            after_save=alerts.reconcile_plan,
        ).save(doc, "test")

    def open(self, incident: str, level: str = "II", cluster: str | None = None) -> str:
        opener = IncidentOpener(
            IncidentStore(self.clients.table(self.settings.tables.incidents)),
            StateMachine.of(self.settings, self.clients).start,
        )
        draft = IncidentDraft(cluster or incident, level, "滨江一院医疗纠纷", "家属维权", ["测试"])
        opener.open(draft)
        return draft.incident_id

    def wait(self, what: Callable[[], Any], seconds: float = 30) -> Any:
        return wait_for(what, seconds, every=0.1)

    def waiting(self, incident: str, kind: str) -> bool:
        item = self.store.get(incident, f"TOKEN#{kind}")
        return bool(item and item.get("status") == "waiting")

    def meta(self, incident: str) -> dict[str, Any]:
        return self.store.require(incident)

    def items(self, incident: str) -> list[dict[str, Any]]:
        """An incident's items, read as :meth:`outbox` reads (the workflow may be writing)."""
        for _ in range(5):
            try:
                return self.store.items(incident)
            except RuntimeError:  # "dictionary changed size during iteration", in moto
                continue
        return self.store.items(incident)

    def tasks(self, incident: str) -> dict[str, dict[str, Any]]:
        return {
            str(i["task_id"]): i for i in self.items(incident) if str(i["sk"]).startswith("TASK#")
        }

    def planned_tasks(self, incident: str) -> dict[str, dict[str, Any]]:
        """The tasks once the measures step has written all of them (its timeline entry comes
        after its tasks; the tasks alone may be read between two of their writes); else {}."""
        items = self.items(incident)
        if not any(str(i["sk"]).startswith("TL#measures#") for i in items):
            return {}
        return {str(i["task_id"]): i for i in items if str(i["sk"]).startswith("TASK#")}

    def timeline_keys(self, incident: str | None = None) -> list[str]:
        incidents = [incident] if incident else []
        return [
            str(i["sk"])[3:]
            for each in incidents
            for i in self.items(each)
            if str(i["sk"]).startswith("TL#")
        ]

    def outbox(self) -> list[dict[str, Any]]:
        """The outbox, read while the workflow's threads may be writing to it: moto's in-memory
        table is not safe to copy during a write, so a read that meets one is read again."""
        table = self.clients.table(self.settings.tables.outbox)
        for _ in range(5):
            try:
                return list(table.scan()["Items"])
            except RuntimeError:  # "dictionary changed size during iteration", in moto
                continue
        return list(table.scan()["Items"])

    def outbox_events(self, incident: str) -> set[tuple[str, str]]:
        items = self.outbox()
        return {(str(i["event"]), str(i["group"])) for i in items if i["incident_id"] == incident}

    def outbox_status(self, incident: str, event: str, group: str) -> str:
        items = self.outbox()
        (found,) = [
            i
            for i in items
            if i["incident_id"] == incident and i["event"] == event and i["group"] == group
        ]
        return str(found["status"])

    def execution(self, incident: str) -> dict[str, Any]:
        arn = self.clients.state_machine_arn(self.settings.state_machine)
        arn = arn.replace(":stateMachine:", ":execution:") + f":incident-{incident}"
        return dict(self.sfn.describe_execution(executionArn=arn))

    def finished(self, incident: str) -> dict[str, Any]:
        return dict(self.wait(lambda: (e := self.execution(incident))["status"] != "RUNNING" and e))

    def all_tasks_done(self, incident: str, by: Principal = HQ) -> list[str]:
        """Acknowledge and complete every task as it comes (returns the task ids)."""
        done: list[str] = []
        for task_id in self.tasks(incident):
            ack, done_kind = f"ack#{task_id}", f"done#{task_id}"
            self.wait(functools.partial(self.waiting, incident, ack))
            self.actions.task(incident, task_id, by, {"action": "ack"})
            self.wait(functools.partial(self.waiting, incident, done_kind))
            self.actions.task(incident, task_id, by, {"action": "complete", "note": "已完成"})
            done.append(task_id)
        return done


@pytest.fixture
def live(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    """GIVEN the local stage in moto: functions hooked in, template provisioned, plan saved."""
    monkeypatch.setenv("YUQING_TIME_SCALE", "0.001")
    reset_settings()
    aws.set_clients(None)
    with executing_moto(monkeypatch) as world:
        from app import app

        functions = register_functions(app, "local", world.client, world.registry, {})
        TemplateProvisioner(
            render("local"), world.client, ACCOUNT, REGION, external=functions.provisioned
        ).provision_all()
        yield Live(world.registry)


def _unhurried_triage(doc: dict[str, Any]) -> dict[str, Any]:
    """研判 within 6,000 minutes (6 min at this time scale): the HQ's decision in the test comes
    in time on any machine, however loaded (the example's 30 minutes are 1.8 s here)."""
    for level in doc["levels"]:
        level["deadlines_minutes"]["triage"] = 6000
    return doc


def test_activate_implement_monitor_evaluate_and_close(live: Live) -> None:
    live.save_plan(_unhurried_triage(quick_plan()))
    incident = live.open("walk", level="II")

    # WHEN the HQ activates at level II within the 研判 deadline
    live.wait(lambda: live.waiting(incident, "decision"))
    assert ("reported", "hq") in live.outbox_events(incident)
    live.actions.decide(incident, HQ, {"action": "activate", "level": "II", "note": "启动"})
    # (deciding acknowledges the HQ's alert: no repeats, no escalation)
    assert live.outbox_status(incident, "reported", "hq") == "acked"

    # AND every group acknowledges and completes its task, and a statement is released
    live.wait(lambda: live.planned_tasks(incident))
    groups = {t["group"] for t in live.tasks(incident).values()}
    assert groups == {"publicity", "coordination", "office"}
    draft = live.actions.draft_statement(incident, HQ, {"text": "关于网传情况的说明"})
    live.actions.approve_statement(incident, draft["statement_id"], HQ)
    live.actions.release_statement(incident, draft["statement_id"], HQ, {"channel": "官方微博"})
    live.all_tasks_done(incident)
    assert live.outbox_status(incident, "task#office-1", "office") == "acked"

    # THEN, the story quiet, the evaluation is built and the HQ closes the incident
    live.wait(lambda: live.waiting(incident, "close"), seconds=40)
    evaluation = live.meta(incident)["evaluation"]
    assert evaluation["breaches"] == []
    live.actions.close(incident, HQ, {"note": "处置完毕"})
    assert live.finished(incident)["status"] == "SUCCEEDED"
    meta = live.meta(incident)
    assert meta["status"] == "closed"
    # ... each public deadline met exactly when the statement was released by its due time
    # (3.6 s and 5.4 s after activation at this scale: which one a loaded machine meets is its
    # own affair; the judgement and its alerts must follow from the recorded times)
    public = {k: d for k, d in meta["deadlines"].items() if k in PUBLIC_DEADLINES}
    assert set(public) == {"authoritative_info", "press_conference"}
    for deadline in public.values():
        released = deadline["done_at"]
        assert released is not None
        assert deadline["met"] is (parse_instant(released) <= parse_instant(deadline["due_at"]))
    assert meta["public_deadline"] is None  # none left to count down
    keys = set(live.timeline_keys(incident))
    assert {"report", "assess", "decided", "measures#1", "calm", "evaluate", "close"} <= keys
    events = live.outbox_events(incident)
    assert {("activated#II", "publicity"), ("task#publicity-1", "publicity")} <= events
    missed = {f"deadline#{k}" for k, d in public.items() if not d["met"]}
    assert {event for event, _ in events if event.startswith("deadline#")} == missed


def test_dismiss_closes_and_a_second_decision_is_refused(live: Live) -> None:
    live.save_plan(_unhurried_triage(quick_plan()))
    incident = live.open("dismissed", level="III")
    live.wait(lambda: live.waiting(incident, "decision"))
    live.actions.decide(incident, HQ, {"action": "dismiss", "note": "误报"})
    with pytest.raises(ConflictError):
        live.actions.decide(incident, HQ, {"action": "activate", "level": "III"})
    assert live.finished(incident)["status"] == "SUCCEEDED"
    meta = live.meta(incident)
    assert meta["status"] == "dismissed"  # it says why it ended
    assert meta["closed_at"]
    assert "dismiss" in live.timeline_keys(incident)
    assert not live.tasks(incident)
    # AND an answer with a token Step Functions no longer knows (its wait ended) is a 409
    live.store.update(
        incident, "TOKEN#close", {"token": "stale", "status": "waiting"}, must_exist=False
    )
    with pytest.raises(ConflictError, match="deadline"):
        live.actions.close(incident, HQ, {})


def test_no_decision_escalates_then_activates_levels_i_and_ii(live: Live) -> None:
    live.save_plan(quick_plan())
    incident = live.open("silent", level="II")
    # WHEN nobody decides THEN the breach is recorded and the incident is activated on its own
    live.wait(lambda: live.tasks(incident), seconds=40)
    meta = live.meta(incident)
    assert meta["status"] == "active"
    assert meta["decision"]["auto"] is True
    assert [b["kind"] for b in meta["breaches"]] == ["triage"]
    keys = live.timeline_keys(incident)
    assert {"breach#triage", "decided"} <= set(keys)
    assert ("overdue#triage", "hq") in live.outbox_events(incident)
    live.sfn.stop_execution(executionArn=live.execution(incident)["executionArn"])


def test_a_lapsed_task_is_a_breach_and_a_public_deadline_without_a_statement_alerts(
    live: Live,
) -> None:
    doc = _unhurried_triage(quick_plan(ack_minutes={"I": 1, "II": 1, "III": 1, "IV": 1}))
    for level in doc["levels"]:  # the 新闻发布会 far enough off to be seen as the next one
        if level["deadlines_minutes"].get("press_conference"):
            level["deadlines_minutes"]["press_conference"] = 600
    live.save_plan(doc)
    incident = live.open("lapse", level="II")
    live.wait(lambda: live.waiting(incident, "decision"))
    live.actions.decide(incident, HQ, {"action": "activate", "level": "II"})
    # THEN the upcoming public deadline is recorded on the incident for the board's countdown
    first = live.wait(lambda: live.meta(incident).get("public_deadline"))
    assert first["kind"] == "authoritative_info"
    assert first["group"] == "publicity"
    # WHEN nobody acknowledges the tasks and no statement is released
    live.wait(lambda: "breach#ack#office-1" in live.timeline_keys(incident), seconds=40)
    live.wait(lambda: "deadline#authoritative_info" in live.timeline_keys(incident), seconds=40)
    # THEN the recorded deadline has moved on to the 新闻发布会
    advanced = live.wait(
        lambda: (
            (d := live.meta(incident).get("public_deadline")) and d["kind"] != first["kind"] and d
        )
    )
    assert advanced["kind"] == "press_conference"
    assert advanced["due_at"] > first["due_at"]
    # THEN the breach is on the task and the HQ and 宣传组 are told of the missed deadline
    assert live.tasks(incident)["office-1"]["breaches"][0]["kind"] == "ack"
    events = live.outbox_events(incident)
    assert {
        ("deadline#authoritative_info", "hq"),
        ("deadline#authoritative_info", "publicity"),
    } <= events
    assert live.meta(incident)["deadlines"]["authoritative_info"]["met"] is False
    live.sfn.stop_execution(executionArn=live.execution(incident)["executionArn"])


def test_a_rising_cluster_adds_measures_for_the_new_level(live: Live) -> None:
    live.save_plan(_unhurried_triage(quick_plan()))
    incident = live.open("rise", level="II", cluster="k-rise")
    live.wait(lambda: live.waiting(incident, "decision"))
    live.actions.decide(incident, HQ, {"action": "activate", "level": "II"})
    live.wait(lambda: live.planned_tasks(incident))
    first = set(live.tasks(incident))
    # WHEN the story keeps growing (new posts all the time) and reaches level I
    clusters = ClusterStore(live.clients.table(live.settings.tables.clusters))
    now = datetime.now(UTC)
    clusters.save(Cluster("k-rise", "故事", (1,), (), now, now, count=50, level="I"), 0)
    live.all_tasks_done(incident)

    def growing() -> bool:
        cluster = clusters.get("k-rise")
        assert cluster is not None
        clusters.save(replace(cluster, last_seen=datetime.now(UTC), count=cluster.count + 1), 0)
        return "rise#I" in live.timeline_keys(incident)

    # THEN the monitor raises the incident and adds the level-I measures not yet tasked
    live.wait(growing, seconds=40)
    live.wait(lambda: set(live.tasks(incident)) - first, seconds=20)
    assert live.meta(incident)["level"] == "I"
    assert ("escalated#I", "hq") in live.outbox_events(incident)
    live.sfn.stop_execution(executionArn=live.execution(incident)["executionArn"])


def _flaky(registry: lambda_hook.HandlerRegistry, step: str, failures: int | None) -> list[int]:
    """Make the workflow function fail on ``step`` (``failures`` times, or always) as a Lambda
    with a dependency outage would: the handler raises UnavailableError."""
    real = registry.get(STEP_FUNCTION)
    assert real is not None
    calls: list[int] = []

    def handler(event: Any, context: Any) -> Any:
        if event.get("step") == step:
            calls.append(1)
            if failures is None or len(calls) <= failures:
                raise UnavailableError("DynamoDB unreachable (injected)")
        return real(event, context)

    registry.register(STEP_FUNCTION, handler)
    return calls


def test_a_step_that_fails_twice_is_retried_and_the_flow_goes_on(live: Live) -> None:
    live.save_plan(quick_plan())
    calls = _flaky(live.registry, "assess", failures=2)
    incident = live.open("retried", level="III")
    live.wait(lambda: live.waiting(incident, "decision"), seconds=30)
    assert len(calls) == 3
    assert "assess" in live.timeline_keys(incident)
    live.sfn.stop_execution(executionArn=live.execution(incident)["executionArn"])


def test_a_step_that_always_fails_ends_in_the_failure_path_and_alerts_the_hq(live: Live) -> None:
    live.save_plan(quick_plan())
    calls = _flaky(live.registry, "assess", failures=None)
    incident = live.open("broken", level="III")
    described = live.finished(incident)
    assert described["status"] == "FAILED"
    assert len(calls) == 4  # the first attempt and three retries
    assert "failed" in live.timeline_keys(incident)
    assert live.meta(incident)["workflow_error"].startswith("UnavailableError")
    assert ("failed", "hq") in live.outbox_events(incident)


def test_a_step_that_crashes_once_after_alerting_is_retried_and_alerts_once(live: Live) -> None:
    # GIVEN the report step's first invocation crashes after doing its work (recorded the
    # timeline, alerted the HQ), as a Lambda killed before it answers, or a bug on the way out
    live.save_plan(quick_plan())
    real = live.registry.get(STEP_FUNCTION)
    assert real is not None
    crashes: list[str] = []

    def handler(event: Any, context: Any) -> Any:
        answer = real(event, context)
        if event.get("step") == "report" and not crashes:
            crashes.append("report")
            raise RuntimeError("worker crashed after the step's effects (injected)")
        return answer

    live.registry.register(STEP_FUNCTION, handler)

    # WHEN an incident is opened
    incident = live.open("crashed", level="II")

    # THEN Step Functions retries the step and the incident goes on to the HQ's decision
    live.wait(lambda: live.waiting(incident, "decision"), seconds=30)
    assert crashes == ["report"]
    assert live.execution(incident)["status"] == "RUNNING"
    assert "failed" not in live.timeline_keys(incident)
    # AND the HQ's alert went out once: one message, published on its first attempt
    reported = [
        i for i in live.outbox() if i["incident_id"] == incident and i["event"] == "reported"
    ]
    assert [(i["group"], i["attempts"], i["status"]) for i in reported] == [
        ("hq", 1, "awaiting_ack")
    ]
    live.sfn.stop_execution(executionArn=live.execution(incident)["executionArn"])


def _slow_triage(doc: dict[str, Any]) -> dict[str, Any]:
    """研判 within 600 minutes at IV and 300 at II: 36 s and 18 s at this time scale, so a
    shortened wait is told apart from the first one without racing either."""
    for level in doc["levels"]:
        level["deadlines_minutes"]["triage"] = 300 if level["id"] in ("I", "II") else 600
    return doc


def _triage_due(live: Live, incident: str) -> datetime:
    return parse_instant(str(live.meta(incident)["deadlines"]["triage"]["due_at"]))


def test_a_rise_while_the_hq_is_waited_on_restarts_the_wait_at_the_new_levels_deadline(
    live: Live,
) -> None:
    live.save_plan(_slow_triage(quick_plan()))
    incident = live.open("grows", level="IV")
    live.wait(lambda: live.waiting(incident, "decision"))
    first = live.store.get(incident, "TOKEN#decision")
    assert first is not None
    at_iv = _triage_due(live, incident)

    # WHEN the story rises to II while the HQ is being waited on
    rose_at = datetime.now(UTC)
    draft = IncidentDraft("grows", "II", "滨江一院医疗纠纷", "家属维权", ["测试"])
    assert incident_opener().escalate(draft, "IV")
    # AND the HQ activates at once, while the interrupted wait is being handed out again
    live.actions.decide(incident, HQ, {"action": "activate", "level": "II"})

    # THEN the wait was restarted with II's 研判 deadline, counted from the report (18 s
    # earlier than IV's), the HQ was paged at II once, and the answer reached the new wait
    live.wait(lambda: live.planned_tasks(incident))
    handed_out = datetime.now(UTC) - rose_at  # how long the new wait took to be handed out
    at_ii = _triage_due(live, incident)
    assert at_iv - at_ii == timedelta(seconds=18)
    assert "triage_rise#II" in live.timeline_keys(incident)
    answered = live.store.get(incident, "TOKEN#decision")
    assert answered is not None
    assert answered["status"] == "answered"
    assert answered["token"] != first["token"]
    # ... the new wait's timeout (what Step Functions was given, in whole seconds from the
    # moment the wait began) ends at II's deadline: late by at most the time the machine took
    # to hand the wait out, whatever its load (IV's would be 18 s later)
    late = parse_instant(str(answered["deadline_at"])) - at_ii
    assert timedelta(seconds=-1) <= late <= handed_out + timedelta(seconds=1)
    assert (answered["level"], first["level"]) == ("II", "IV")
    # ... and the HQ's page at II gives that deadline
    (page,) = [
        i for i in live.outbox() if i["incident_id"] == incident and i["event"] == "reported#II"
    ]
    assert "北京时间前）完成研判" in str(page["email_body"])
    assert live.meta(incident)["status"] == "active"
    live.sfn.stop_execution(executionArn=live.execution(incident)["executionArn"])


def test_a_rise_just_before_the_wait_begins_is_caught_once_the_token_is_kept(live: Live) -> None:
    """GIVEN the level rising after ``assess`` read it but before the wait kept its token (so
    nothing could interrupt it) WHEN the wait's step has kept its token THEN the service sees
    the rise and the wait restarts at the new level's deadline."""
    live.save_plan(_slow_triage(quick_plan()))
    real = live.registry.get(STEP_FUNCTION)
    assert real is not None
    raised: list[str] = []

    def rise_first(event: Any, context: Any) -> Any:
        if event.get("step") == "await_decision" and not raised:
            incident_id = event["state"]["incident_id"]
            live.store.update(incident_id, "META", {"level": "II", "level_rank": 3})
            raised.append(incident_id)
        return real(event, context)

    live.registry.register(STEP_FUNCTION, rise_first)
    incident = live.open("between", level="IV")
    live.wait(lambda: "triage_rise#II" in live.timeline_keys(incident))
    live.wait(lambda: live.waiting(incident, "decision"))
    # II's 18 s counted from the report to the HQ (IV's would be 36 s), however long the
    # machine took between opening the incident and reporting it
    reported = parse_instant(str(live.meta(incident)["deadlines"]["report_hq"]["done_at"]))
    assert _triage_due(live, incident) - reported == timedelta(seconds=18)
    live.sfn.stop_execution(executionArn=live.execution(incident)["executionArn"])


def test_the_sweep_restarts_a_wait_whose_interruption_was_lost(live: Live) -> None:
    """GIVEN an incident that rose to II while its wait, for IV, was not interrupted (say Step
    Functions throttled the seam) WHEN the minute sweep runs THEN it restarts the wait at II's
    deadline, once."""
    live.save_plan(_slow_triage(quick_plan()))
    incident = live.open("lost", level="IV")
    live.wait(lambda: live.waiting(incident, "decision"))
    at_iv = _triage_due(live, incident)
    live.store.update(incident, "META", {"level": "II", "level_rank": 3})
    sweep = IncidentSweep(
        live.store,
        StateMachine.of(live.settings, live.clients).start,
        recheck_wait=rise_checker(),
    )
    assert sweep.recheck_waits() == [incident]
    assert sweep.recheck_waits() == []  # already interrupted, or already restarted at II
    live.wait(lambda: "triage_rise#II" in live.timeline_keys(incident))
    live.wait(lambda: live.waiting(incident, "decision"))
    assert at_iv - _triage_due(live, incident) == timedelta(seconds=18)
    live.sfn.stop_execution(executionArn=live.execution(incident)["executionArn"])


def test_an_interruption_of_a_wait_that_is_over_marks_it_expired(live: Live) -> None:
    """GIVEN a decision token Step Functions no longer knows WHEN a rise tries to interrupt it
    THEN nothing is restarted and the token says the wait is over (not left "interrupted")."""
    live.save_plan(quick_plan())
    incident = live.open("over", level="II")
    live.wait(lambda: live.waiting(incident, "decision"))
    live.sfn.stop_execution(executionArn=live.execution(incident)["executionArn"])
    live.store.update(incident, "TOKEN#decision", {"token": "stale", "level": "III"})
    assert rise_checker()(live.meta(incident)) is False
    # The step that kept the token checks for a rise too, right after keeping it (the
    # workflow service's check), and may be the one interrupting: whichever check claimed the
    # wait, it ends "expired", never left "interrupted" for the answer path to wait on.
    live.wait(lambda: (live.store.get(incident, "TOKEN#decision") or {}).get("status") == "expired")


def test_a_rise_during_the_response_alerts_the_new_level_and_its_deadlines_at_once(
    live: Live,
) -> None:
    """GIVEN an incident active at III, its groups busy with their tasks and its next public
    deadline (公开回应) 36 s away WHEN the story rises to I THEN the level-I groups are alerted
    and the board counts down I's 发布权威信息 deadline at once, not when the tasks are done or
    III's deadline has passed; the timer is kept again, for I."""
    doc = _unhurried_triage(quick_plan())
    for level in doc["levels"]:  # 36 s at III; at I, 18 s and 54 s: no race with the checks
        if level["id"] == "III":
            level["deadlines_minutes"]["public_response"] = 600
        if level["id"] == "I":
            level["deadlines_minutes"].update(authoritative_info=300, press_conference=900)
    live.save_plan(doc)
    incident = live.open("spreads", level="III")
    live.wait(lambda: live.waiting(incident, "decision"))
    live.actions.decide(incident, HQ, {"action": "activate", "level": "III"})
    live.wait(lambda: live.waiting(incident, "timer#public"))
    assert live.meta(incident)["public_deadline"]["kind"] == "public_response"

    draft = IncidentDraft("spreads", "I", "滨江一院医疗纠纷", "家属维权", ["测试"])
    assert incident_opener().escalate(draft, "III")

    live.wait(lambda: live.meta(incident)["public_deadline"]["kind"] == "authoritative_info")
    events = live.outbox_events(incident)
    assert ("escalated#I", "logistics") in events  # a group alerted at level I only
    assert "rise#I" in live.timeline_keys(incident)
    # ... and the timer is waiting again, now for I
    live.wait(lambda: live.waiting(incident, "timer#public"))
    timer = live.store.get(incident, "TOKEN#timer#public")
    assert timer is not None
    assert timer["level"] == "I"
    # ... while the incident view lists only waits on people
    queries = IncidentQueries(live.store, StateMachine.of(live.settings, live.clients))
    assert "timer#public" not in {w["kind"] for w in queries.get(incident)["waiting_for"]}
    (row,) = [
        r
        for r in queries.list(status="active", level=None, drill=None)
        if r["incident_id"] == incident
    ]
    assert row["next_deadline"]["kind"] == "public#authoritative_info"
    live.sfn.stop_execution(executionArn=live.execution(incident)["executionArn"])


# -- no contact in the logs ------------------------------------------------------------------


class Collected(logging.Handler):
    """Every log record of the process, as the Powertools formatter writes it (JSON with the
    extra keys and any traceback) and as its raw attributes (arguments, exception)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logger.registered_formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(repr(record.__dict__))


def _contacts(doc: dict[str, Any]) -> set[str]:
    """Every phone number (also without +86) and e-mail address in a plan document."""
    text = json.dumps(doc, ensure_ascii=False)
    phones = set(re.findall(r"\+\d{8,15}", text))
    emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.-]+", text))
    return phones | {p.removeprefix("+86") for p in phones} | emails


def test_an_incident_walk_with_alert_retries_logs_no_contact_of_the_plan(
    live: Live, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN every log line collected at production's level (INFO), and SNS refusing the first
    # three publishes, so that alerts fail, are retried and logged
    collected = Collected()
    logging.getLogger().addHandler(collected)
    monkeypatch.setattr(logging.getLogger(), "level", logging.INFO)
    previous = logging.getLogger(logger.name).level
    logger.setLevel(logging.INFO)
    session = boto3.session.Session(region_name=REGION)
    refused: list[str] = []

    def refuse(**_: Any) -> None:
        if len(refused) < 3:
            refused.append("Publish")
            raise EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com")

    session.events.register("before-call.sns.Publish", refuse)
    aws.set_clients(AwsClients(live.settings, session=session))
    doc = _unhurried_triage(quick_plan())
    contacts = _contacts(doc)
    assert len(contacts) > 20  # the plan's phones, national numbers and e-mail addresses
    try:
        # WHEN the plan is saved (subscriptions made), a reporter reports through the API, the
        # HQ decides, every group acknowledges and completes its task, a statement is drafted,
        # approved and released, the failed alerts are retried, and the HQ closes the incident
        live.save_plan(doc)
        token = TokenStore(live.clients.table(live.settings.tables.tokens)).issue(
            "上报员", Role.REPORTER
        )
        with Client(app_module.app, stage_name="local", project_dir=str(PROJECT_DIR)) as client:
            answer = client.http.post(
                "/reports",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                body=json.dumps(REPORT, ensure_ascii=False),
            )
        assert answer.status_code == 201, answer.body
        incident = str(answer.json_body["incident_id"])
        live.wait(lambda: live.waiting(incident, "decision"))
        live.actions.decide(incident, HQ, {"action": "activate", "level": "II", "note": "启动"})
        live.wait(lambda: live.planned_tasks(incident))
        draft = live.actions.draft_statement(incident, HQ, {"text": "关于网传情况的说明"})
        live.actions.approve_statement(incident, draft["statement_id"], HQ)
        live.actions.release_statement(incident, draft["statement_id"], HQ, {"channel": "官方微博"})
        live.all_tasks_done(incident)
        later = datetime.now(UTC) + timedelta(minutes=5)
        retried = alert_service(clock=lambda: later).dispatch_due()
        live.wait(lambda: live.waiting(incident, "close"), seconds=40)
        live.actions.close(incident, HQ, {"note": "处置完毕"})
        assert live.finished(incident)["status"] == "SUCCEEDED"
    finally:
        logging.getLogger().removeHandler(collected)
        logger.setLevel(previous)

    # THEN the walk was logged — subscriptions, the failed publishes and their retry — …
    assert refused == ["Publish"] * 3
    assert retried.published >= 1
    printed = capsys.readouterr()
    lines = [*collected.lines, *printed.out.splitlines(), *printed.err.splitlines()]
    text = "\n".join(lines)
    assert "alert publish failed; will retry" in text
    assert "subscribed" in text
    # … and no line holds a phone number or an e-mail address of the plan (masked forms may)
    leaks = sorted({c for c in contacts if c in text})
    assert leaks == [], [line for line in lines if any(c in line for c in leaks)][:5]
    assert "*******8000" in text  # the HQ commander's phone, masked, as the subscription log
