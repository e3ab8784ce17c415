"""The incidents' schedule: ``incident_sweep`` restarts what a failed start or a rise left."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate

from chalicelib.core.aws import get_clients
from chalicelib.core.settings import get_settings
from chalicelib.incidents.sweep import IncidentSweep
from chalicelib.incidents.wiring import (
    incident_store,
)
from chalicelib.workflow.statemachine import StateMachine
from chalicelib.workflow.wiring import rise_checker

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="incident_sweep")
def incident_sweep(event: Any) -> dict[str, Any]:
    """Start the workflow of any incident whose start failed (still ``open`` after a minute),
    and restart any wait whose incident has risen past it (decisions 57–58)."""
    settings, clients = get_settings(), get_clients()
    sweep = IncidentSweep(
        incident_store(),
        StateMachine.of(settings, clients).start,
        recheck_wait=rise_checker(settings, clients),
    )
    started = sweep.run()
    return {"started": started, "waits_restarted": sweep.recheck_waits()}
