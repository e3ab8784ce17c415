"""The drills' schedule (演练).

``drill_tick`` every minute: inject due events of running drills (see
:mod:`chalicelib.drills.service` for the timing), those falling due before the next tick too.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate

from chalicelib.drills.wiring import drill_service

bp = Blueprint(__name__)


TICK_WINDOW_SECONDS = 55.0


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="drill_tick")
def drill_tick(event: Any) -> dict[str, Any]:
    """Every minute: inject due drill events, and those falling due before the next tick."""
    context = getattr(event, "context", None)
    window = TICK_WINDOW_SECONDS
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        window = min(window, remaining() / 1000 - 5)
    return {"injected": drill_service().tick(window)}
