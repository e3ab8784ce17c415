"""Local mode's work gate: a stop lets running work finish and holds new work back unstarted."""

from __future__ import annotations

import threading

import pytest

from chalicelib.local.gate import LocalModeStopping, WorkGate


def test_a_held_gate_lets_running_work_finish_and_holds_new_work_until_it_refuses() -> None:
    gate = WorkGate()
    running, finish = threading.Event(), threading.Event()
    outcomes: list[str] = []

    def in_flight() -> None:
        with gate.work():
            running.set()
            finish.wait(10)
            outcomes.append("finished")

    def arriving() -> None:
        try:
            with gate.work():
                outcomes.append("started late")
        except LocalModeStopping:
            outcomes.append("refused")

    # GIVEN one unit of work running
    first = threading.Thread(target=in_flight)
    first.start()
    assert running.wait(5)
    # WHEN the gate holds THEN the running work counts, and new work waits without starting
    gate.hold()
    late = threading.Thread(target=arriving)
    late.start()
    late.join(0.2)
    assert late.is_alive()
    assert gate.wait_idle(0.05) == 1
    # ... the running work finishes and the gate is idle
    finish.set()
    first.join(5)
    assert gate.wait_idle(5) == 0
    # WHEN it refuses THEN what waited unwinds unstarted, and so does anything after
    gate.refuse()
    late.join(5)
    assert outcomes == ["finished", "refused"]
    with pytest.raises(LocalModeStopping), gate.work():
        pass


def test_an_open_gate_only_counts() -> None:
    gate = WorkGate()
    with gate.work():
        assert gate.busy == 1
    assert gate.busy == 0
    assert gate.wait_idle(0) == 0
