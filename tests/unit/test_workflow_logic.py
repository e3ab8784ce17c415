"""The response workflow's decisions, step by step, without AWS (pure logic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.core.clock import iso
from chalicelib.core.errors import ValidationError
from chalicelib.plan.models import publicity_group
from chalicelib.workflow import logic
from chalicelib.workflow.logic import (
    KeepToken,
    Notify,
    PutTask,
    Record,
    StepContext,
    UpdateIncident,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PLAN: dict[str, Any] = {
    "levels": [
        {
            "id": "I",
            "min_risk": 0.85,
            "deadlines_minutes": {
                "report_hq": 10,
                "triage": 30,
                "authoritative_info": 300,
                "press_conference": 1440,
                "public_response": None,
            },
            "alert_groups": ["office", "publicity", "coordination"],
        },
        {
            "id": "II",
            "min_risk": 0.7,
            "deadlines_minutes": {"report_hq": 10, "triage": 30, "authoritative_info": 300},
            "alert_groups": ["office", "publicity"],
        },
        {
            "id": "III",
            "min_risk": 0.5,
            "deadlines_minutes": {"report_hq": 60, "triage": 120, "public_response": 2880},
            "alert_groups": ["office"],
        },
        {"id": "IV", "min_risk": 0.3, "deadlines_minutes": {"triage": 120}, "alert_groups": []},
    ],
    "measures": [
        {
            "id": "release",
            "owner": "publicity",
            "deadline_minutes": {"I": 300, "II": 300, "III": 2880},
        },
        {"id": "guidance", "owner": "publicity", "deadline_minutes": {"I": 360, "II": 720}},
        {"id": "handling", "owner": "coordination", "deadline_minutes": {"I": 120}},
        {"id": "liaison", "owner": "office", "deadline_minutes": {"II": 240, "III": 1440}},
    ],
    "escalation": {
        "repeat_interval_minutes": 10,
        "max_repeats": 2,
        "steps": [
            {"after_minutes": 15, "notify": ["office"]},
            {"after_minutes": 30, "notify": ["hq"]},
        ],
    },
}
INCIDENT = {
    "pk": "inc1",
    "sk": "META",
    "title": "滨江一院医疗纠纷",
    "summary": "患者家属维权",
    "level": "II",
    "opened_at": iso(NOW - timedelta(minutes=2)),
}


def ctx(step: str, state: dict[str, Any], **kwargs: Any) -> StepContext:
    values: dict[str, Any] = {
        "step": step,
        "state": {"incident_id": "inc1", "drill": False, **state},
        "execution": "incident-inc1",
        "now": NOW,
        "time_scale": 1.0,
        "plan": PLAN,
        "plan_version": 3,
        "incident": INCIDENT,
        **kwargs,
    }
    return StepContext(**values)


def reported(scale: float = 1.0) -> dict[str, Any]:
    return logic.report(ctx("report", {}, time_scale=scale)).state


def of(kind: type, effects: list[Any]) -> list[Any]:
    return [e for e in effects if isinstance(e, kind)]


def test_report_sets_timers_from_the_plan_scaled_and_alerts_the_hq() -> None:
    outcome = logic.report(ctx("report", {}, time_scale=0.01))
    timers = outcome.state["timers"]
    assert timers["decision_seconds"] == 18  # 30 min × 60 × 0.01
    assert timers["reminder_seconds"] == 6
    assert outcome.state["level"] == "II"
    assert outcome.state["plan_version"] == 3
    (notice,) = of(Notify, outcome.effects)
    assert notice.groups == ("hq",)
    assert notice.template == "incident_alert"
    on_time = logic.report(ctx("report", {}))  # opened 2 min ago; the deadline is 10 min
    (update,) = of(UpdateIncident, on_time.effects)
    assert update.changes["deadlines"]["report_hq"]["met"] is True


def test_report_after_the_report_deadline_is_recorded_as_missed() -> None:
    late = {**INCIDENT, "opened_at": iso(NOW - timedelta(minutes=11))}
    outcome = logic.report(ctx("report", {}, incident=late))
    (update,) = of(UpdateIncident, outcome.effects)
    assert update.changes["deadlines"]["report_hq"]["met"] is False
    assert of(Record, outcome.effects)[0].note == "超过报告时限"


def test_decision_overdue_records_the_breach_then_auto_activates_levels_i_ii() -> None:
    state = reported()
    first = logic.decision_overdue(ctx("decision_overdue", state))
    assert first.state["next"] == "wait"
    (notice,) = of(Notify, first.effects)
    assert notice.groups == ("hq",)
    assert notice.template == "deadline_missed"
    assert not notice.requires_ack  # the report alert itself is what escalates
    # triage is due at 30 min; the policy's last step is at 30 min; one repeat interval more
    assert first.state["timers"]["decision_seconds"] == 10 * 60
    assert any(r.key == "breach#triage" for r in of(Record, first.effects))

    second = logic.decision_overdue(ctx("decision_overdue", first.state))
    assert second.state["next"] == "decided"
    assert second.state["decision"]["auto"] is True
    assert second.state["decision"]["level"] == "II"
    assert not of(Record, second.effects)


def test_decision_overdue_for_level_iii_reminds_then_expires() -> None:
    state = {**reported(), "suggested_level": "III"}
    low = {**INCIDENT, "level": "III"}
    first = logic.decision_overdue(ctx("decision_overdue", state, incident=low))
    second = logic.decision_overdue(ctx("decision_overdue", first.state, incident=low))
    assert second.state["next"] == "wait"
    assert second.state["timers"]["decision_seconds"] == 2 * 10 * 60  # max_repeats intervals
    assert of(Notify, second.effects)[0].groups == ("hq",)
    last = logic.decision_overdue(ctx("decision_overdue", second.state, incident=low))
    assert last.state["next"] == "expire"
    assert of(logic.ExpireToken, last.effects) == [logic.ExpireToken("decision")]


def test_a_story_that_grew_while_the_hq_was_silent_is_activated_at_its_new_level() -> None:
    # GIVEN an incident suggested at III whose story has since reached II (the record says so)
    state = {**reported(), "suggested_level": "III", "round": 1}
    grown = {**INCIDENT, "level": "II"}
    outcome = logic.decision_overdue(ctx("decision_overdue", state, incident=grown))
    assert outcome.state["next"] == "decided"
    assert outcome.state["decision"]["level"] == "II"


def test_activation_alerts_the_groups_of_the_chosen_level() -> None:
    state = {**reported(), "decision": {"action": "activate", "level": "I", "by": "hq"}}
    outcome = logic.decided(ctx("decided", state))
    assert outcome.state["next"] == "activate"
    assert outcome.state["level"] == "I"
    (notice,) = of(Notify, outcome.effects)
    assert notice.groups == ("hq", "office", "publicity", "coordination")
    assert notice.key == "activated#I"


def test_dismissal_and_bad_decisions() -> None:
    dismissed = logic.decided(ctx("decided", {**reported(), "decision": {"action": "dismiss"}}))
    assert dismissed.state["next"] == "dismiss"
    assert not of(Notify, dismissed.effects)
    with pytest.raises(ValidationError):
        logic.decided(ctx("decided", {**reported(), "decision": {"action": "maybe"}}))
    with pytest.raises(ValidationError):
        logic.decided(
            ctx("decided", {**reported(), "decision": {"action": "activate", "level": "V"}})
        )


def test_measures_make_one_task_per_owning_group_and_a_rise_replans_at_the_new_level() -> None:
    state = {**reported(), "level": "II"}
    first = logic.measures(ctx("measures", state))
    groups = {t["group"] for t in first.state["new_tasks"]}
    assert groups == {"publicity", "office"}
    publicity = next(t for t in first.state["new_tasks"] if t["group"] == "publicity")
    assert publicity["done_seconds"] == 300 * 60  # the earliest of its measures
    assert len(of(PutTask, first.effects)) == 2
    # the timeline entry carries the ids for a reader to name (the dashboard shows plan names)
    (entry,) = of(Record, first.effects)
    assert sorted(entry.data["groups"]) == ["office", "publicity"]
    assert set(entry.data["measures"]) == {
        m["id"] for t in of(PutTask, first.effects) for m in t.attributes["measures"]
    }
    assert entry.data["level"] == "II"

    again = logic.measures(ctx("measures", first.state))
    assert again.state["new_tasks"] == []  # nothing new at the same level

    risen = logic.measures(ctx("measures", {**first.state, "level": "I"}))
    assert {t["task_id"] for t in risen.state["new_tasks"]} == {"publicity-2", "coordination-2"}
    publicity = next(t for t in risen.state["new_tasks"] if t["group"] == "publicity")
    assert publicity["level"] == "I"


def test_a_task_handed_out_keeps_its_token_and_alerts_its_group_once() -> None:
    task = {
        "task_id": "publicity-1",
        "group": "publicity",
        "level": "II",
        "ack_seconds": 900,
        "done_seconds": 18000,
        "reminder_seconds": 600,
        "round": 0,
    }
    outcome = logic.await_ack(ctx("await_ack", {"task": task}, token="tok-1"))
    (keep,) = of(KeepToken, outcome.effects)
    assert keep.kind == "ack#publicity-1"
    assert keep.token == "tok-1"
    assert of(Notify, outcome.effects)[0].groups == ("publicity",)
    again = logic.await_ack(ctx("await_ack", {"task": {**task, "round": 1}}, token="tok-2"))
    assert not of(Notify, again.effects)
    with pytest.raises(ValidationError):
        logic.await_ack(ctx("await_ack", {"task": task}))


def test_a_lapsed_task_is_a_breach_once_then_reminds_then_is_given_up() -> None:
    task = {
        "task_id": "office-1",
        "group": "office",
        "level": "II",
        "ack_seconds": 900,
        "done_seconds": 18000,
        "reminder_seconds": 600,
        "round": 0,
    }
    first = logic.done_overdue(ctx("done_overdue", {"task": task}))
    assert first.state["next"] == "wait"
    assert first.state["task"]["done_seconds"] == 600
    (breach,) = of(Record, first.effects)
    assert breach.key == "breach#done#office-1"
    assert breach.data == {"task": "office-1", "group": "office"}
    assert of(Notify, first.effects)[0].groups == ("office", "hq")
    second = logic.done_overdue(ctx("done_overdue", first.state))
    assert not of(Record, second.effects)  # one breach, however long it lasts
    assert len(of(Notify, second.effects)) == 1  # an acknowledged task is reminded again
    unacked = logic.ack_overdue(ctx("ack_overdue", {"task": {**task, "round": 1}}))
    assert not of(Notify, unacked.effects)  # the alert service repeats the task alert itself
    rounds = second.state
    for _ in range(2):
        rounds = logic.done_overdue(ctx("done_overdue", rounds)).state
    assert rounds["next"] == "wait"
    assert logic.done_overdue(ctx("done_overdue", rounds)).state["next"] == "give_up"


def test_monitor_rise_calm_and_watch() -> None:
    state = {**reported(), "level": "II"}
    rise = logic.monitor(ctx("monitor", state, cluster_level="I"))
    assert rise.state["next"] == "rise"
    assert rise.state["level"] == "I"
    assert of(Notify, rise.effects)[0].key == "escalated#I"

    same = logic.monitor(ctx("monitor", state, cluster_level="II"))
    assert same.state["next"] == "watch"
    assert same.state["calm_since"] is None

    growing = logic.monitor(ctx("monitor", state, cluster_level="IV"))
    assert growing.state["next"] == "watch"  # still growing, if at a lower level
    assert growing.state["calm_since"] is None

    calm_start = logic.monitor(ctx("monitor", state, cluster_level=None))
    assert calm_start.state["next"] == "watch"
    cooldown = state["timers"]["cooldown_seconds"]
    later = NOW + timedelta(seconds=cooldown)
    calm = logic.monitor(ctx("monitor", calm_start.state, cluster_level=None, now=later))
    assert calm.state["next"] == "calm"


def test_the_hq_choosing_a_lower_level_than_the_story_is_not_overruled() -> None:
    state = {**reported(), "decision": {"action": "activate", "level": "III", "by": "hq"}}
    decided = logic.decided(ctx("decided", state, cluster_level="II"))
    activated = decided.state
    assert activated["cluster_baseline"] == "II"
    stored = {**INCIDENT, **of(UpdateIncident, decided.effects)[0].changes}
    assert stored["level"] == "III"
    same_story = logic.monitor(ctx("monitor", activated, incident=stored, cluster_level="II"))
    assert same_story.state["next"] == "watch"
    grown = logic.monitor(ctx("monitor", activated, incident=stored, cluster_level="I"))
    assert grown.state["next"] == "rise"


def test_monitor_sees_an_incident_raised_while_it_was_busy_with_tasks() -> None:
    """GIVEN an incident activated at III and since raised to I (a report, or the story through
    the incidents seam) WHEN the measures branch monitors, the story now quiet THEN it is a
    rise to I, under the keys next_deadline already used (one alert, one timeline entry)."""
    state = {**reported(), "level": "III", "cluster_baseline": "III", "activated_at": iso(NOW)}
    raised = {**INCIDENT, "level": "I"}
    monitored = logic.monitor(ctx("monitor", state, incident=raised))
    assert (monitored.state["next"], monitored.state["level"]) == ("rise", "I")
    early = logic.next_deadline(ctx("next_deadline", {**state, "interrupt": {}}, incident=raised))
    assert "interrupt" not in early.state
    assert [r.key for r in of(Record, early.effects)] == ["rise#I"]
    assert [r.key for r in of(Record, monitored.effects)] == ["rise#I"]
    (alert,) = of(Notify, early.effects)
    assert alert.key == "escalated#I"
    assert alert.groups == of(Notify, monitored.effects)[0].groups


def test_a_report_does_not_undo_the_hqs_lower_level() -> None:
    """GIVEN the story at II and the HQ activating at III WHEN a report of the same story raises
    the incident back to II THEN neither branch calls it a rise, and the deadline timer is kept
    for II, so that the report cannot interrupt it either (a rise to I still does)."""
    state = {**reported(), "level": "III", "cluster_baseline": "II", "activated_at": iso(NOW)}
    back = {**INCIDENT, "level": "II"}
    watched = logic.monitor(ctx("monitor", state, incident=back, cluster_level="II"))
    assert watched.state["next"] == "watch"
    counted = logic.next_deadline(ctx("next_deadline", state, incident=back))
    assert counted.state["level"] == "III"
    assert not of(Notify, counted.effects)
    kept = logic.await_deadline(ctx("await_deadline", counted.state, token="t"))
    (timer,) = of(KeepToken, kept.effects)
    assert timer.level == "II"
    token = {"status": "waiting", "level": "II", "interruptible": True}
    assert not logic.wait_outdated(back, token)
    assert logic.wait_outdated({**INCIDENT, "level": "I"}, token)


def test_a_rise_during_the_response_cuts_the_public_deadline_timer_short() -> None:
    """GIVEN an incident active at III, its next public deadline (回应 within 48 h) on a timer
    WHEN it rises to I THEN the timer's token is outdated; next_deadline alerts the level-I
    groups and counts I's 发布权威信息 (5 h from activation), on a timer of what is left."""
    state = {**reported(), "level": "III", "activated_at": iso(NOW)}
    first = logic.next_deadline(ctx("next_deadline", state, incident={**INCIDENT, "level": "III"}))
    assert first.state["deadline_kind"] == "public_response"
    assert first.state["deadline_seconds"] == 48 * 3600
    assert not of(Notify, first.effects)
    later = NOW + timedelta(hours=1)
    kept = logic.await_deadline(ctx("await_deadline", first.state, token="t", now=later))
    (timer,) = of(KeepToken, kept.effects)
    assert (timer.kind, timer.level, timer.interruptible) == ("timer#public", "III", True)
    assert timer.deadline_at == iso(NOW + timedelta(hours=48))  # the deadline, not now + 48 h
    raised = {**INCIDENT, "level": "I"}
    assert logic.wait_outdated(raised, {"status": "waiting", "level": "III", "interruptible": True})
    caught = {**first.state, "interrupt": {"Error": logic.LEVEL_ROSE}}
    again = logic.next_deadline(ctx("next_deadline", caught, incident=raised, now=later))
    assert again.state["deadline_kind"] == "authoritative_info"
    assert again.state["deadline_seconds"] == 4 * 3600
    (alert,) = of(Notify, again.effects)
    assert alert.key == "escalated#I"
    assert "coordination" in alert.groups  # a level-I group, not alerted at III


def test_a_public_deadline_that_comes_closes_its_timer() -> None:
    state = {**reported(), "level": "I", "activated_at": iso(NOW)}
    first = logic.next_deadline(ctx("next_deadline", state))
    due = logic.deadline_due(ctx("deadline_due", first.state))
    assert logic.ExpireToken("timer#public") in due.effects


def test_an_acknowledged_task_waits_for_the_deadline_the_group_was_given() -> None:
    task = {
        "task_id": "office-1",
        "group": "office",
        "level": "II",
        "ack_seconds": 900,
        "done_seconds": 18000,
        "reminder_seconds": 600,
        "round": 4,
    }
    item = {"sk": "TASK#office-1", "task_id": "office-1", "done_by": iso(NOW + timedelta(hours=1))}
    outcome = logic.acked(ctx("acked", {"task": task}, tasks=[item]))
    assert outcome.state["task"]["round"] == 0
    assert outcome.state["task"]["done_seconds"] == 3600


def test_a_dismissed_incident_stays_dismissed_when_it_ends() -> None:
    dismissed = {**INCIDENT, "status": "dismissed"}
    outcome = logic.close(ctx("close", reported(), incident=dismissed))
    (update,) = of(UpdateIncident, outcome.effects)
    assert update.changes["status"] == "dismissed"
    assert "closed_at" in update.changes


def test_the_publicity_group_comes_from_the_plan() -> None:
    assert publicity_group(PLAN) == "publicity"  # the owner of the release measure
    variant = {"groups": [{"id": "response"}], "measures": [], "workflow": {}}
    assert publicity_group(variant) is None
    assert publicity_group({**variant, "workflow": {"publicity_group": "response"}}) == "response"


def test_public_deadlines_come_in_order_and_a_missing_statement_alerts_hq_and_publicity() -> None:
    state = {**reported(), "level": "I", "activated_at": iso(NOW)}
    first = logic.next_deadline(ctx("next_deadline", state))
    assert first.state["deadline_kind"] == "authoritative_info"
    assert first.state["deadline_at"] == "2026-11-25T13:00:00Z"
    # the board counts it down: the wait is recorded on the incident, for the publicity group
    (recorded,) = of(UpdateIncident, first.effects)
    assert recorded.changes["public_deadline"] == {
        "kind": "authoritative_info",
        "due_at": "2026-11-25T13:00:00+00:00",
        "since": iso(NOW),
        "group": "publicity",
    }

    missed = logic.deadline_due(ctx("deadline_due", first.state))
    (notice,) = of(Notify, missed.effects)
    assert notice.groups == ("hq", "publicity")
    second = logic.next_deadline(ctx("next_deadline", missed.state))
    assert second.state["deadline_kind"] == "press_conference"
    (advanced,) = of(UpdateIncident, second.effects)
    assert advanced.changes["public_deadline"]["kind"] == "press_conference"

    statement = {"sk": "STMT#s1", "released_at": iso(NOW + timedelta(hours=2))}
    met = logic.deadline_due(ctx("deadline_due", second.state, statements=[statement]))
    assert not of(Notify, met.effects)
    last = logic.next_deadline(ctx("next_deadline", met.state))
    assert last.state["next"] == "done"
    assert of(UpdateIncident, last.effects)[0].changes == {"public_deadline": None}


def test_evaluation_lists_missed_deadlines_and_breaches() -> None:
    incident = {
        **INCIDENT,
        "deadlines": {"authoritative_info": {"met": False}, "triage": {"met": True}},
    }
    tasks = [
        {"sk": "TASK#office-1", "group": "office", "breaches": [{"kind": "ack"}], "measures": []}
    ]
    outcome = logic.evaluate(ctx("evaluate", reported(), incident=incident, tasks=tasks))
    (update,) = of(UpdateIncident, outcome.effects)
    evaluation = update.changes["evaluation"]
    assert evaluation["missed"] == ["authoritative_info"]
    assert evaluation["breaches"][0]["group"] == "office"
    assert len(evaluation["questions"]) == 2


def test_failure_is_recorded_and_the_hq_alerted() -> None:
    state = {**reported(), "error": {"Error": "UnavailableError", "Cause": "x" * 900}}
    outcome = logic.failed(ctx("failed", state))
    (record,) = of(Record, outcome.effects)
    assert record.note.startswith("UnavailableError: ")
    assert len(record.note) <= 520
    assert of(Notify, outcome.effects)[0].groups == ("hq",)


def test_monitoring_ends_after_the_plans_longest_watch_even_while_the_story_trickles() -> None:
    state = {**reported(), "level": "II", "activated_at": iso(NOW)}
    week_later = NOW + timedelta(days=7)
    outcome = logic.monitor(ctx("monitor", state, cluster_level="II", now=week_later))
    assert outcome.state["next"] == "calm"
    assert of(Record, outcome.effects)[0].title == "监测期满"


def test_a_retried_overdue_step_records_its_breach_once() -> None:
    already = {**INCIDENT, "breaches": [{"kind": "triage", "at": iso(NOW)}]}
    again = logic.decision_overdue(ctx("decision_overdue", reported(), incident=already))
    (update,) = of(UpdateIncident, again.effects)
    assert update.changes["breaches"] == already["breaches"]


def test_a_failed_workflow_clears_the_public_deadline_it_no_longer_watches() -> None:
    """GIVEN an active incident whose deadlines branch recorded an upcoming public deadline
    WHEN a step fails for good and ``failed`` runs
    THEN the incident's ``public_deadline`` is cleared with the error recorded, so the board
    shows no countdown that nothing will check.
    """
    counting = {
        **INCIDENT,
        "status": "active",
        "public_deadline": {"kind": "authoritative_info", "due_at": iso(NOW)},
    }
    state = {**reported(), "error": {"Error": "States.TaskFailed", "Cause": "boom"}}
    outcome = logic.failed(ctx("failed", state, incident=counting))
    (update,) = of(UpdateIncident, outcome.effects)
    assert update.changes["public_deadline"] is None
    assert update.changes["workflow_error"] == "States.TaskFailed: boom"
    assert "status" not in update.changes  # still the HQ's to end by hand


def test_a_level_raised_before_the_hq_is_asked_moves_the_triage_deadline_and_alerts_again() -> None:
    """GIVEN an incident reported at IV (研判 within 120 min) and raised to II just after
    WHEN ``assess`` runs five minutes after the report
    THEN it uses II: II's measures are suggested, the wait's timer (which Step Functions reads
    from ``assess``'s output, not from the token step's) is the report time plus II's 30 minutes
    (25 left), the deadline is stored on the incident, and the HQ is alerted at II, needing an
    acknowledgement, with the rise on the timeline; the wait then keeps its token until then.
    """
    low = {**INCIDENT, "level": "IV", "opened_at": iso(NOW)}
    state = logic.report(ctx("report", {}, incident=low)).state
    assert state["timers"]["decision_seconds"] == 120 * 60
    raised = {**low, "level": "II"}
    later = NOW + timedelta(minutes=5)

    assessed = logic.assess(ctx("assess", state, incident=raised, now=later))

    assert assessed.state["suggested_level"] == "II"
    assert assessed.state["suggested_measures"] == ["release", "guidance", "liaison"]
    assert assessed.state["timers"]["decision_seconds"] == 25 * 60
    assert assessed.state["level"] == assessed.state["triage_level"] == "II"
    moved = [
        u.changes["deadlines"]
        for u in of(UpdateIncident, assessed.effects)
        if "deadlines" in u.changes
    ]
    assert moved == [{"triage": {"due_at": iso(NOW + timedelta(minutes=30))}}]
    (notice,) = of(Notify, assessed.effects)
    assert (notice.key, notice.level, notice.groups) == ("reported#II", "II", ("hq",))
    assert notice.requires_ack
    assert notice.variables["deadline"] == "25分钟"
    assert "triage_rise#II" in [r.key for r in of(Record, assessed.effects)]
    waiting = logic.await_decision(
        ctx("await_decision", assessed.state, incident=raised, now=later, token="t")
    )
    (token,) = of(KeepToken, waiting.effects)
    assert token.deadline_at == iso(NOW + timedelta(minutes=30))
    assert not of(Notify, waiting.effects)


def test_without_a_rise_the_wait_gets_what_is_left_of_the_stored_triage_deadline() -> None:
    """GIVEN an incident reported at II (30 minutes) WHEN ``assess`` runs 4 minutes later with the
    level unchanged THEN the timer is the 26 minutes left, nobody is alerted, and after an
    overdue round (which sets its own reminder timer) the wait keeps that timer."""
    report = logic.report(ctx("report", {}))
    stored = {**INCIDENT, "deadlines": of(UpdateIncident, report.effects)[0].changes["deadlines"]}
    assessed = logic.assess(
        ctx("assess", report.state, incident=stored, now=NOW + timedelta(minutes=4))
    )
    assert assessed.state["timers"]["decision_seconds"] == 26 * 60
    assert not of(Notify, assessed.effects)
    overdue = logic.decision_overdue(ctx("decision_overdue", assessed.state))
    grown = {**stored, "level": "I"}
    again = logic.await_decision(ctx("await_decision", overdue.state, incident=grown, token="t"))
    assert again.state["timers"] == overdue.state["timers"]
    assert [type(e) for e in again.effects] == [KeepToken, UpdateIncident]


def test_a_rise_during_the_wait_is_seen_against_the_token_and_triage_rise_shortens_it() -> None:
    """GIVEN an incident assessed at IV whose wait keeps a token for IV, interruptible
    WHEN the incident rises to II THEN the token is outdated (and it is not for the level it
    is for, nor once answered, nor for an execution that predates TriageRise);
    ``triage_rise`` then counts II's 30 minutes from the report, stores the new deadline and
    pages the HQ at II; a second ``triage_rise`` without a further rise never lengthens what is
    left."""
    low = {**INCIDENT, "level": "IV", "opened_at": iso(NOW)}
    report = logic.report(ctx("report", {}, incident=low))
    stored = {**low, "deadlines": of(UpdateIncident, report.effects)[0].changes["deadlines"]}
    assessed = logic.assess(ctx("assess", report.state, incident=stored))
    raised = {**stored, "level": "II"}
    later = NOW + timedelta(minutes=10)

    waiting = logic.await_decision(
        ctx("await_decision", assessed.state, incident=stored, now=later, token="t1")
    )
    (kept,) = of(KeepToken, waiting.effects)
    assert (kept.level, kept.interruptible) == ("IV", True)
    token = {"status": "waiting", "level": kept.level, "interruptible": kept.interruptible}
    assert logic.wait_outdated(raised, token)
    assert not logic.wait_outdated(stored, token)
    assert not logic.wait_outdated(raised, {**token, "status": "answered"})
    assert not logic.wait_outdated(raised, {"status": "waiting", "level": "IV"})  # older run

    caught = {**assessed.state, "interrupt": {"Error": logic.LEVEL_ROSE, "Cause": "II"}}
    rose = logic.triage_rise(ctx("triage_rise", caught, incident=raised, now=later))
    assert "interrupt" not in rose.state
    assert rose.state["timers"]["decision_seconds"] == 20 * 60
    assert rose.state["triage_level"] == "II"
    (notice,) = of(Notify, rose.effects)
    assert notice.key == "reported#II"
    (update,) = of(UpdateIncident, rose.effects)
    due = update.changes["deadlines"]["triage"]["due_at"]
    assert due == iso(NOW + timedelta(minutes=30))
    shortened = {**raised, **update.changes}
    resumed = logic.await_decision(
        ctx("await_decision", rose.state, incident=shortened, now=later, token="t2")
    )
    assert of(KeepToken, resumed.effects)[0].deadline_at == due

    # AND a spurious interruption five minutes on resumes with the 15 minutes left, no more
    again = logic.triage_rise(
        ctx("triage_rise", rose.state, incident=shortened, now=later + timedelta(minutes=5))
    )
    assert again.state["timers"]["decision_seconds"] == 15 * 60
    assert not again.effects


def test_a_rise_after_the_first_deadline_resumes_the_reminder_round() -> None:
    """GIVEN an overdue round under way WHEN an interruption still arrives THEN the wait resumes
    for one reminder interval (decision_overdue reads the worse level on its next round)."""
    state = {**reported(), "round": 1}
    resumed = logic.triage_rise(ctx("triage_rise", state, incident={**INCIDENT, "level": "I"}))
    assert resumed.state["timers"]["decision_seconds"] == 10 * 60
    assert not resumed.effects


def test_only_the_first_wait_may_be_interrupted() -> None:
    """Reminder rounds after the 研判 deadline keep their timer: decision_overdue reads the
    worse level itself."""
    overdue = logic.decision_overdue(ctx("decision_overdue", reported()))
    again = logic.await_decision(ctx("await_decision", overdue.state, token="t"))
    (kept,) = of(KeepToken, again.effects)
    assert kept.interruptible is False


def test_a_rise_past_the_new_levels_deadline_says_the_deadline_has_passed() -> None:
    low = {**INCIDENT, "level": "IV", "opened_at": iso(NOW)}
    state = logic.report(ctx("report", {}, incident=low)).state
    late = NOW + timedelta(minutes=45)  # II's 30 minutes from the report are over
    rose = logic.triage_rise(ctx("triage_rise", state, incident={**low, "level": "II"}, now=late))
    assert rose.state["timers"]["decision_seconds"] == 1
    (notice,) = of(Notify, rose.effects)
    assert "已过，请立即完成研判" in notice.body
