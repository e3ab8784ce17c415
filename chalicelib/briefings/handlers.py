"""The briefings' schedule (舆情日报).

``briefing_tick`` every 15 minutes: today's briefing once its time has passed, and the e-mail
(yesterday's too until it is mailed); the e-mail links to the dashboard's ``#/briefing/<date>``.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate

from chalicelib.briefings.wiring import briefing_service

bp = Blueprint(__name__)


@bp.schedule(Rate(15, unit=Rate.MINUTES), name="briefing_tick")
def briefing_tick(event: Any) -> dict[str, Any]:
    """Every 15 minutes: yesterday's briefing until mailed, today's once its time has passed."""
    return briefing_service(with_mail=True).tick()
