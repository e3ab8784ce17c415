"""Validating the payload the state machine sends to ``workflow_step``, and execution names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core.errors import ValidationError
from chalicelib.workflow.statemachine import execution_name
from chalicelib.workflow.steps import StepInput, parse_step_event

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
        step="report",
        incident_id="INC-20260301-0001",
        drill=False,
        execution="incident-INC-20260301-0001",
        state={"incident_id": "INC-20260301-0001", "drill": False},
        token=None,
    )


def test_a_wait_on_people_carries_its_token() -> None:
    parsed = parse_step_event(event("await_decision", token="AAAA-token"))
    assert parsed.token == "AAAA-token"
    with pytest.raises(ValidationError) as caught:
        parse_step_event(event("await_decision", token=""))
    assert problem_paths(caught.value) == {"/token"}


def test_drill_and_execution_are_optional() -> None:
    parsed = parse_step_event({"step": "assess", "state": {"incident_id": "a_b-1"}})
    assert parsed.drill is False
    assert parsed.execution == ""


def test_every_problem_is_listed_with_its_path() -> None:
    # GIVEN a payload wrong in every field
    bad = {
        "step": "celebrate",
        "state": {"incident_id": "has spaces!", "drill": "yes"},
        "execution": 42,
        "token": 7,
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
        "/token",
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
