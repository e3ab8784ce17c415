"""Rules every state of the response workflow's ASL must follow.

Tasks retry transient failures, catch the rest and cannot hang; waits are data (``SecondsPath``
/ ``TimestampPath``) so local mode and tests scale them instead of patching the interpreter.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.deploy.template import INFRA_DIR

ASL_FILES = sorted((INFRA_DIR / "statemachine").glob("*.asl.json"))


def load(path: Any) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def states_of(kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path.name, name, state)
        for path in ASL_FILES
        for name, state in load(path)["States"].items()
        if state["Type"] == kind
    ]


def ids(cases: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    return [f"{file}:{name}" for file, name, _ in cases]


TASKS = states_of("Task")
WAITS = states_of("Wait")


def test_there_is_something_to_check() -> None:
    assert ASL_FILES
    assert TASKS
    assert WAITS


@pytest.mark.parametrize(("file", "name", "state"), TASKS, ids=ids(TASKS))
def test_every_task_retries_catches_and_times_out(
    file: str, name: str, state: dict[str, Any]
) -> None:
    # GIVEN a Task state THEN it has retries, a catch-all and a timeout
    assert state.get("Retry"), "no Retry"
    assert all(r["ErrorEquals"] and r["MaxAttempts"] > 0 for r in state["Retry"])
    assert state.get("Catch"), "no Catch"
    assert any("States.ALL" in c["ErrorEquals"] for c in state["Catch"]), "no catch-all"
    assert isinstance(state.get("TimeoutSeconds"), int)
    assert state["TimeoutSeconds"] > 0


@pytest.mark.parametrize(("file", "name", "state"), WAITS, ids=ids(WAITS))
def test_every_wait_reads_its_duration_from_data(
    file: str, name: str, state: dict[str, Any]
) -> None:
    # GIVEN a Wait state THEN its duration comes from the state, never a literal
    assert "Seconds" not in state
    assert "Timestamp" not in state
    paths = [key for key in ("SecondsPath", "TimestampPath") if key in state]
    assert len(paths) == 1
    assert state[paths[0]].startswith("$.")


@pytest.mark.parametrize("path", ASL_FILES, ids=[p.name for p in ASL_FILES])
def test_every_transition_targets_a_state(path: Any) -> None:
    # GIVEN the states of a definition THEN every Next, Default and Catch target exists
    definition = load(path)
    states = definition["States"]
    targets = {definition["StartAt"]}
    for state in states.values():
        targets.update(t for t in [state.get("Next"), state.get("Default")] if t)
        targets.update(c["Next"] for c in state.get("Catch", []))
        targets.update(c["Next"] for c in state.get("Choices", []))
    assert targets <= set(states)
    # ... and every state is reachable from somewhere.
    assert set(states) <= targets
