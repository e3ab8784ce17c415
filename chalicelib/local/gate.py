"""What local mode is doing right now, so a stop can let it finish and hold back the rest.

Every Lambda invocation (a workflow step, a schedule, an SQS batch — :mod:`.lambda_hook`) and
every API request passes through one :class:`WorkGate`. To stop, local mode :meth:`holds
<WorkGate.hold>` the gate: what is running finishes (bounded by a grace period), and what starts
now waits at the gate, having changed nothing. The tables then hold still while they are saved —
and the machine is quiet, so saving takes seconds even with a hundred incidents whose workflows
were running: a workflow held at a Task is saved as running and starts again at the next start,
where its steps find what they already wrote. Once everything is saved the gate :meth:`refuses
<WorkGate.refuse>`: what waited gets :class:`LocalModeStopping` and unwinds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum


class LocalModeStopping(Exception):
    """Local mode is stopping: this work was not started (nothing it would write was written)."""


class _State(Enum):
    OPEN = "open"
    HOLDING = "holding"
    REFUSING = "refusing"


class WorkGate:
    """Counts work in flight; holds new work back during a stop; then refuses it."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._state = _State.OPEN
        self._busy = 0

    @contextmanager
    def work(self) -> Iterator[None]:
        """One unit of work; waits while the gate holds, raises once it refuses."""
        with self._changed:
            while self._state is _State.HOLDING:
                self._changed.wait()
            if self._state is _State.REFUSING:
                raise LocalModeStopping("local mode is stopping")
            self._busy += 1
        try:
            yield
        finally:
            with self._changed:
                self._busy -= 1
                self._changed.notify_all()

    @property
    def busy(self) -> int:
        with self._changed:
            return self._busy

    def hold(self) -> None:
        """From now on new work waits; work in flight goes on."""
        with self._changed:
            if self._state is _State.OPEN:
                self._state = _State.HOLDING

    def wait_idle(self, timeout: float) -> int:
        """Wait until no work is in flight or ``timeout`` seconds passed; the work left."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return self._busy

    def refuse(self) -> None:
        """What waits, and what comes, gets :class:`LocalModeStopping`."""
        with self._changed:
            self._state = _State.REFUSING
            self._changed.notify_all()
