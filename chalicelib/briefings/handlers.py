"""The briefings' schedule (舆情日报, 周报, 月报).

``briefing_tick`` every 15 minutes: today's briefing once its time has passed, and the e-mail
(yesterday's too until it is mailed); the e-mail links to the dashboard's ``#/briefing/<date>``.
From 09:00 China time on Monday last week's 周报, on the 1st last month's 月报, mailed once.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate

from chalicelib.briefings.wiring import briefing_service, periodic_briefings

bp = Blueprint(__name__)


@bp.schedule(Rate(15, unit=Rate.MINUTES), name="briefing_tick")
def briefing_tick(event: Any) -> dict[str, Any]:
    """Every 15 minutes: yesterday's briefing until mailed, today's once its time has passed;
    last week's and last month's on their first day after 09:00 China time."""
    answer = briefing_service(with_mail=True).tick()
    return {**answer, **periodic_briefings(with_mail=True).tick()}
