"""The workflow's pure step logic: validating the state machine's payload and advancing state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core.errors import ValidationError
from chalicelib.workflow.steps import (
    DEFAULT_COOLDOWN_SECONDS,
    TITLES,
    Step,
    StepInput,
    advance,
    execution_name,
    parse_step_event,
)

NOW = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def event(step: str = "report", **overrides: Any) -> dict[str, Any]:
    """What a Task sends: ``{"step", "state.$": "$", "execution.$": "$$.Execution.Name"}``."""
    payload: dict[str, Any] = {
        "step": step,
        "state": {"incident_id": "INC-20260301-0001", "drill": False},
        "execution": "incident-INC-20260301-0001",
    }
    payload.update(overrides)
    return payload


def problem_paths(err: ValidationError) -> set[str]:
    return {p.path for p in err.problems}


def test_parse_a_valid_event() -> None:
    # GIVEN the payload the Report task sends
    # WHEN parsed
    parsed = parse_step_event(event("report"))

    # THEN every field is typed
    assert parsed == StepInput(
        step=Step.REPORT,
        incident_id="INC-20260301-0001",
        drill=False,
        execution="incident-INC-20260301-0001",
        state={"incident_id": "INC-20260301-0001", "drill": False},
        error=None,
    )


def test_parse_the_failure_event() -> None:
    # GIVEN the ReportFailure payload, carrying the caught error
    caught = {"Error": "UnavailableError", "Cause": "AWS unreachable"}
    parsed = parse_step_event(event("failed", error=caught))

    # THEN the error is kept for the timeline
    assert parsed.step is Step.FAILED
    assert parsed.error == caught


def test_drill_and_execution_are_optional() -> None:
    parsed = parse_step_event({"step": "triage", "state": {"incident_id": "a_b-1"}})
    assert parsed.drill is False
    assert parsed.execution == ""


def test_every_problem_is_listed_with_its_path() -> None:
    # GIVEN a payload wrong in every field
    bad = {
        "step": "celebrate",
        "state": {"incident_id": "has spaces!", "drill": "yes"},
        "execution": 42,
        "error": "boom",
    }

    # WHEN parsed
    with pytest.raises(ValidationError) as raised:
        parse_step_event(bad)

    # THEN one error lists each problem at its path
    assert problem_paths(raised.value) == {
        "/step",
        "/state/incident_id",
        "/state/drill",
        "/execution",
        "/error",
    }
    assert raised.value.status == 400
    assert len(raised.value.as_dict()["problems"]) == 5


def test_a_missing_state_reports_the_state_and_the_incident() -> None:
    with pytest.raises(ValidationError) as raised:
        parse_step_event({"step": "report", "state": ["not", "an", "object"]})
    assert problem_paths(raised.value) == {"/state", "/state/incident_id"}


@pytest.mark.parametrize("incident_id", ["", "x" * 65, "inc/1", "事件1", "INC-1\n", None, 7])
def test_incident_ids_are_restricted(incident_id: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_step_event(event(state={"incident_id": incident_id}))
    assert problem_paths(raised.value) == {"/state/incident_id"}


@pytest.mark.parametrize("payload", [None, "report", ["report"], 3])
def test_a_non_object_event_is_rejected(payload: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_step_event(payload)
    assert problem_paths(raised.value) == {""}


@pytest.mark.parametrize(
    ("time_scale", "expected"),
    [
        (1.0, DEFAULT_COOLDOWN_SECONDS),
        (0.01, round(DEFAULT_COOLDOWN_SECONDS * 0.01)),
        (1e-9, 1),
    ],
)
def test_report_computes_the_cooldown_from_the_time_scale(time_scale: float, expected: int) -> None:
    # GIVEN the report step
    step = parse_step_event(event("report"))

    # WHEN advanced at a time scale
    state, _ = advance(step, NOW, time_scale)

    # THEN the Wait state's SecondsPath finds the scaled duration, never less than one second
    assert state["timers"] == {"cooldown_seconds": expected}
    assert isinstance(state["timers"]["cooldown_seconds"], int)


def test_later_steps_keep_the_state_and_record_themselves() -> None:
    # GIVEN the state after the report step
    after_report, _ = advance(parse_step_event(event("report")), NOW, 0.5)

    # WHEN the triage step runs on it
    state, entry = advance(parse_step_event(event("triage", state=after_report)), NOW, 0.5)

    # THEN the timers survive, the last step moves on and the entry names the step
    assert state["timers"] == after_report["timers"]
    assert state["last_step"] == "triage"
    assert entry.step is Step.TRIAGE
    assert entry.title == TITLES[Step.TRIAGE] == "初步研判"
    assert entry.at == NOW
    assert entry.incident_id == "INC-20260301-0001"
    assert entry.execution == "incident-INC-20260301-0001"
    assert entry.note == ""


def test_advance_does_not_change_its_input() -> None:
    step = parse_step_event(event("report"))
    advance(step, NOW, 1.0)
    assert "timers" not in step.state
    assert "last_step" not in step.state


def test_failed_records_the_error_as_a_note() -> None:
    # GIVEN the failure step with a long cause
    caught = {"Error": "States.Timeout", "Cause": "x" * 2000}
    step = parse_step_event(event("failed", error=caught))

    # WHEN advanced
    state, entry = advance(step, NOW, 1.0)

    # THEN the note names the error and a bounded part of the cause
    assert entry.note == "States.Timeout: " + "x" * 500
    assert entry.title == "流程异常"
    assert state["last_step"] == "failed"


def test_failed_without_error_details() -> None:
    step = parse_step_event(event("failed", error={}))
    _, entry = advance(step, NOW, 1.0)
    assert entry.note == ""


def test_every_step_has_a_title() -> None:
    assert set(TITLES) == set(Step)


def test_execution_name_is_derived_from_the_incident() -> None:
    # GIVEN an incident id THEN its execution name is stable, so a duplicate start is refused
    assert execution_name("INC-1") == "incident-INC-1"
    assert execution_name("INC-1") == execution_name("INC-1")
    # Step Functions limits execution names to 80 characters.
    assert len(execution_name("x" * 64)) <= 80


@pytest.mark.parametrize("incident_id", ["", "a b", "x" * 65, "inc:1", "INC-1\n"])
def test_execution_name_rejects_bad_incident_ids(incident_id: str) -> None:
    with pytest.raises(ValidationError) as raised:
        execution_name(incident_id)
    assert problem_paths(raised.value) == {"/incident_id"}
