"""Runs one workflow step: load the incident, decide (pure), carry out the effects.

:mod:`chalicelib.workflow.logic` decides; this module does the I/O around it. The plan comes
through a :class:`PlanSource`, alerts go through a :class:`Notifier`, the cluster's current level
through :class:`ClusterLevels` — three seams so the workflow neither knows nor imports how the
plan is stored, how alerts are sent or how clusters are kept.

Effects are applied in order, each idempotent: timeline entries and tasks are written once by
key, tokens overwrite the previous token of the same kind (a retried step hands out a new one),
and alerts are deduplicated by (incident, key) in the outbox.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from chalicelib.core.aws import AwsClients
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import ConflictError, NotFoundError, YuqingError
from chalicelib.core.observability import logger
from chalicelib.core.settings import Settings
from chalicelib.incidents.models import META
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.defaults import LEVEL_RANK
from chalicelib.workflow import logic
from chalicelib.workflow.steps import parse_step_event

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class PlanSource(Protocol):
    def plan(self, version: int | None) -> tuple[Mapping[str, Any], int]:
        """The plan document of ``version`` (None: the current one) and its version number."""
        ...


class Notifier(Protocol):
    def notify(self, incident_id: str, notice: logic.Notify, *, drill: bool) -> None: ...


class ClusterLevels(Protocol):
    def level_of(self, cluster_id: str, since: datetime) -> str | None:
        """The cluster's level if it grew since ``since``; None when it has gone quiet."""
        ...


class WorkflowService:
    """Runs one workflow step for the state machine."""

    def __init__(
        self,
        settings: Settings,
        clients: AwsClients,
        plans: PlanSource,
        notifier: Notifier,
        clusters: ClusterLevels | None = None,
        clock: Clock = utcnow,
        after_wait: Callable[[Mapping[str, Any]], Any] | None = None,
    ) -> None:
        self._after_wait = after_wait
        self._settings = settings
        self._clients = clients
        self._plans = plans
        self._notifier = notifier
        self._clusters = clusters
        self._clock = clock
        self.store = IncidentStore(clients.table(settings.tables.incidents))

    def run_step(self, event: Any) -> dict[str, Any]:
        step = parse_step_event(event)
        items = self.store.items(step.incident_id)
        by_sk = {str(i["sk"]): i for i in items}
        incident = by_sk.get(META)
        if incident is None:
            raise NotFoundError(f"no incident {step.incident_id}")
        version = step.state.get("plan_version") or incident.get("plan_version")
        plan, plan_version = self._plans.plan(int(version) if version else None)
        now = self._clock()
        cluster_level = None
        cluster_id = incident.get("cluster_id")
        if step.step in ("monitor", "decided") and self._clusters and cluster_id:
            # monitor: the level while the story grows; decided: the level it has reached.
            window = timedelta(seconds=int(step.state.get("timers", {}).get("monitor_seconds", 60)))
            since = now - window if step.step == "monitor" else EPOCH
            cluster_level = self._clusters.level_of(str(cluster_id), since)
        ctx = logic.StepContext(
            step=step.step,
            state=step.state,
            execution=step.execution,
            now=now,
            time_scale=self._settings.time_scale,
            plan=plan,
            plan_version=plan_version,
            incident=incident,
            tasks=[i for sk, i in by_sk.items() if sk.startswith("TASK#")],
            statements=[i for sk, i in by_sk.items() if sk.startswith("STMT#")],
            cluster_level=cluster_level,
            token=step.token,
        )
        outcome = logic.run(ctx)
        for effect in outcome.effects:
            self._apply(step.incident_id, step.drill, step.execution, effect)
        if step.step in ("await_decision", "await_deadline") and self._after_wait is not None:
            # A rise between reading the incident above and keeping the token found no wait to
            # interrupt: look again now that the token is kept (the seam looks after raising).
            # Best effort: failing here would fail the wait; the minute sweep looks again.
            try:
                self._after_wait(self.store.require(step.incident_id))
            except YuqingError as err:
                logger.warning(
                    "rise check after the wait failed; the sweep will retry",
                    extra={"incident": step.incident_id, "error": err.code},
                )
        return outcome.state

    def _apply(self, incident_id: str, drill: bool, execution: str, effect: logic.Effect) -> None:
        now = iso(self._clock())
        match effect:
            case logic.Record():
                self.store.put_once(
                    incident_id,
                    f"TL#{effect.key}",
                    {
                        "step": effect.step,
                        "title": effect.title,
                        "note": effect.note,
                        "data": dict(effect.data),
                        "at": now,
                        "execution": execution,
                        "drill": drill,
                    },
                )
            case logic.Notify():
                self._notifier.notify(incident_id, effect, drill=drill)
            case logic.KeepToken():
                self.store.update(
                    incident_id,
                    f"TOKEN#{effect.kind}",
                    {
                        "token": effect.token,
                        "status": "waiting",
                        "since": now,
                        "deadline_at": effect.deadline_at,
                        "group": effect.group,
                        "level": effect.level,
                        "interruptible": effect.interruptible,
                    },
                    must_exist=False,
                )
            case logic.ExpireToken():
                with contextlib.suppress(ConflictError):
                    self.store.update(
                        incident_id,
                        f"TOKEN#{effect.kind}",
                        {"status": "expired", "expired_at": now},
                        expect={"status": "waiting"},
                    )
            case logic.UpdateIncident():
                changes = dict(effect.changes)
                if changes.get("level") in LEVEL_RANK:
                    # The clusters side raises an incident only above this rank.
                    changes["level_rank"] = LEVEL_RANK[changes["level"]]
                self.store.update(incident_id, META, changes)
            case logic.PutTask():
                self.store.put_once(
                    incident_id,
                    f"TASK#{effect.task_id}",
                    {**effect.attributes, "task_id": effect.task_id},
                )
            case logic.UpdateTask():
                self.store.update(incident_id, f"TASK#{effect.task_id}", effect.changes)
