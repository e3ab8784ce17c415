"""The minute sweep (巡检) of incidents: start a workflow whose start failed, and restart a wait a
rise has outgrown when its interruption was lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import (
    YuqingError,
)
from chalicelib.core.observability import logger
from chalicelib.incidents.store import IncidentStore


class IncidentSweep:
    """Starts the workflow of incidents still ``open`` a while after they were opened, and
    rechecks the waits a rise may restart (:meth:`recheck_waits`).

    Opening an incident writes its record, then starts its execution; if the start failed (a
    Step Functions outage, a throttle), the record stays ``open`` — the workflow's first step
    moves it on. Starting is idempotent by execution name, so sweeping an incident whose
    execution exists changes nothing.
    """

    def __init__(
        self,
        store: IncidentStore,
        start: Any,
        clock: Clock = utcnow,
        recheck_wait: Callable[[Mapping[str, Any]], bool] | None = None,
    ) -> None:
        self._store = store
        self._start = start
        self._clock = clock
        self._recheck_wait = recheck_wait

    def recheck_waits(self) -> list[str]:
        """Give every incident awaiting the HQ's decision or in response to ``recheck_wait``
        (which restarts a wait its level has outgrown): the backstop for a rise whose
        interruption failed."""
        restarted: list[str] = []
        if self._recheck_wait is None:
            return restarted
        waiting = [
            item
            for item in self._store.by_statuses(("awaiting_decision", "active"), limit=100)
            if not item.get("workflow_error")  # its workflow failed: nothing waits any more
        ]
        for item in waiting:
            try:
                if self._recheck_wait(item):
                    restarted.append(str(item["pk"]))
            except YuqingError as err:
                logger.warning(
                    "sweep could not restart a wait",
                    extra={"incident": item["pk"], "error": err.code},
                )
        return restarted

    def run(self, grace_seconds: int = 60) -> list[str]:
        cutoff = iso(self._clock() - timedelta(seconds=grace_seconds))
        started = []
        for item in self._store.by_status("open", limit=100):
            if str(item.get("opened_at", "")) > cutoff or item.get("workflow_error"):
                continue
            try:
                self._start(str(item["pk"]), bool(item.get("drill", False)))
            except YuqingError as err:
                logger.warning(
                    "sweep could not start", extra={"incident": item["pk"], "error": err.code}
                )
                continue
            started.append(str(item["pk"]))
        return started
