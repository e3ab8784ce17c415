"""Rules every state of the response workflow's ASL must follow, at every nesting level.

Tasks retry transient failures (and a plain step a crash), cannot hang, and end in the failure
path when they fail for good (their own Catch, or the enclosing Parallel's: Catch cannot leave a
branch); waits are data (``SecondsPath`` / ``TimestampPath`` / ``TimeoutSecondsPath``) so local
mode and tests scale them instead of patching the interpreter. The committed file is what the
builder generates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.deploy.template import INFRA_DIR
from chalicelib.workflow.definition import render

ASL_FILES = sorted((INFRA_DIR / "statemachine").glob("*.asl.json"))
Scope = dict[str, Any]  # an object with StartAt and States


def load(path: Any) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def _catches_all(state: dict[str, Any]) -> bool:
    return any("States.ALL" in c["ErrorEquals"] for c in state.get("Catch", []))


def scopes(scope: Scope, caught: bool = False) -> Iterator[tuple[Scope, bool]]:
    """Every scope (top level, Parallel branch, Map processor) and whether an enclosing
    state catches everything that fails inside it."""
    yield scope, caught
    for state in scope["States"].values():
        inner_caught = caught or _catches_all(state)
        for branch in state.get("Branches", []):
            yield from scopes(branch, inner_caught)
        if "ItemProcessor" in state:
            yield from scopes(state["ItemProcessor"], inner_caught)


def all_states(kind: str) -> list[tuple[str, str, dict[str, Any], bool]]:
    return [
        (path.name, name, state, caught)
        for path in ASL_FILES
        for scope, caught in scopes(load(path))
        for name, state in scope["States"].items()
        if state["Type"] == kind
    ]


def ids(cases: list[tuple[str, str, dict[str, Any], bool]]) -> list[str]:
    return [f"{file}:{name}" for file, name, _, _ in cases]


TASKS = all_states("Task")
WAITS = all_states("Wait")


def test_there_is_something_to_check() -> None:
    assert ASL_FILES
    assert len(TASKS) > 10
    assert WAITS


def test_the_committed_definition_is_the_generated_one() -> None:
    # GIVEN the builder THEN the deployed file is exactly its output (regenerate with
    # `python -m chalicelib.workflow.definition > infra/statemachine/response.asl.json`)
    committed = (INFRA_DIR / "statemachine" / "response.asl.json").read_text(encoding="utf-8")
    assert committed == render()


@pytest.mark.parametrize(("file", "name", "state", "caught"), TASKS, ids=ids(TASKS))
def test_every_task_retries_ends_in_the_failure_path_and_cannot_hang(
    file: str, name: str, state: dict[str, Any], caught: bool
) -> None:
    # GIVEN a Task state THEN it has retries, a catch-all (its own or its Parallel's), a timeout
    assert state.get("Retry"), "no Retry"
    assert all(r["ErrorEquals"] and r["MaxAttempts"] > 0 for r in state["Retry"])
    assert _catches_all(state) or caught, "a failure here would escape the failure path"
    if state["Resource"].endswith(".waitForTaskToken"):
        assert state["TimeoutSecondsPath"].startswith("$.")
        assert any("States.Timeout" in c["ErrorEquals"] for c in state["Catch"])
        assert "$$.Task.Token" in json.dumps(state["Parameters"])
    else:
        assert isinstance(state.get("TimeoutSeconds"), int)
        assert state["TimeoutSeconds"] > 0


@pytest.mark.parametrize(("file", "name", "state", "caught"), TASKS, ids=ids(TASKS))
def test_a_crashed_step_is_retried_but_an_interrupted_wait_is_caught(
    file: str, name: str, state: dict[str, Any], caught: bool
) -> None:
    # GIVEN a Task THEN a killed sandbox (Lambda.Unknown) is retried; a plain step also retries
    # any other failure (an exception we did not expect), after the transient ones and last;
    # a wait never does, or the error a rise fails it with (yuqing.LevelRose) would be retried
    names = [r["ErrorEquals"] for r in state["Retry"]]
    assert "Lambda.Unknown" in names[0]
    crash = [r for r in state["Retry"] if r["ErrorEquals"] == ["States.TaskFailed"]]
    if state["Resource"].endswith(".waitForTaskToken"):
        assert crash == []
    else:
        assert state["Retry"][-1] == crash[0]
        assert 1 <= crash[0]["MaxAttempts"] <= 3


@pytest.mark.parametrize(("file", "name", "state", "caught"), WAITS, ids=ids(WAITS))
def test_every_wait_reads_its_duration_from_data(
    file: str, name: str, state: dict[str, Any], caught: bool
) -> None:
    # GIVEN a Wait state THEN its duration comes from the state, never a literal
    assert "Seconds" not in state
    assert "Timestamp" not in state
    paths = [key for key in ("SecondsPath", "TimestampPath") if key in state]
    assert len(paths) == 1
    assert state[paths[0]].startswith("$.")


@pytest.mark.parametrize("path", ASL_FILES, ids=[p.name for p in ASL_FILES])
def test_every_transition_targets_a_state_in_its_scope(path: Any) -> None:
    # GIVEN each scope of a definition THEN every Next, Default and Catch target exists there
    for scope, _ in scopes(load(path)):
        states = scope["States"]
        targets = {scope["StartAt"]}
        for state in states.values():
            targets.update(t for t in [state.get("Next"), state.get("Default")] if t)
            targets.update(c["Next"] for c in state.get("Catch", []))
            targets.update(c["Next"] for c in state.get("Choices", []))
        assert targets <= set(states)
        # ... and every state is reachable from somewhere.
        assert set(states) <= targets
