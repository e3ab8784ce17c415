"""A plan saved before its numbers were bounded must not break what runs under it.

Until the validator bounded every number, a triage deadline of 10**13 minutes could be saved;
every workflow that then added it to the clock failed with OverflowError, and so did every
alert follow-up that added an escalation delay of that size. Such a version is now read with the
nearest bound (``plan.validation.bounded_plan``), so the workflow and the alerts run on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.alerts.models import Status
from chalicelib.alerts.wiring import alert_service
from chalicelib.core.aws import AwsClients
from chalicelib.core.clock import parse_instant
from chalicelib.core.settings import Settings
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.store import PlanStore, PlanVersion
from chalicelib.plan.validation import MAX_MINUTES
from chalicelib.workflow.wiring import workflow_service
from tests.functional.test_incident_api import REPORT, report, tokens  # noqa: F401
from tests.plan_helpers import example_plan

HUGE = 10**13


def _old_plan() -> dict[str, Any]:
    doc = example_plan()
    for level in doc["levels"]:
        level["deadlines_minutes"]["triage"] = HUGE
    for step in doc["escalation"]["steps"]:
        step["after_minutes"] = HUGE
    doc["escalation"]["repeat_interval_minutes"] = HUGE
    doc["alerting"]["sms_daily_cap"] = HUGE
    return doc


@pytest.fixture
def old_plan(clients: AwsClients, settings: Settings) -> None:
    """GIVEN a version stored as it was allowed before the bounds (straight into the table)."""
    PlanStore(clients.table(settings.tables.plan)).put(
        PlanVersion(1, _old_plan(), "2026-01-01T00:00:00+00:00", "before the bounds", {})
    )


def test_a_workflow_under_a_plan_with_a_huge_deadline_runs_with_the_longest_allowed(
    api_client: Client,
    tokens: dict[str, str],  # noqa: F811
    clients: AwsClients,
    settings: Settings,
    old_plan: None,
) -> None:
    # GIVEN an incident reported under that plan
    opened = report(api_client, tokens["reporter"], {**REPORT, "level": "II"})
    assert opened.status_code == 201, opened.body
    incident = opened.json_body["incident_id"]

    # WHEN the workflow's first step runs
    before = datetime.now().astimezone()
    out = workflow_service(settings, clients).run_step(
        {"step": "report", "state": {"incident_id": incident, "drill": False}, "execution": "x"}
    )

    # THEN it decides as usual, with the 研判 deadline at the bound (ten days), not an overflow
    assert out["timers"]["decision_seconds"] == round(MAX_MINUTES * 60 * settings.time_scale)
    stored = IncidentStore(clients.table(settings.tables.incidents)).require(incident)
    due = parse_instant(stored["deadlines"]["triage"]["due_at"])
    expected = timedelta(seconds=MAX_MINUTES * 60 * settings.time_scale)
    assert abs(due - before - expected) < timedelta(minutes=1)

    # AND the HQ's alert went out and waits for acknowledgement, its repeat due within a day
    alerts = alert_service(settings, clients)
    sent = alerts.list_messages(incident=incident, status=None, limit=50, live=False)
    waiting = [m for m in sent if m["status"] == Status.AWAITING_ACK]
    assert waiting, sent
    repeat_at = parse_instant(waiting[0]["next_attempt_at"])
    assert repeat_at - before <= timedelta(seconds=1440 * 60 * settings.time_scale + 60)
    # AND the minute's dispatch runs through it without an error
    assert alerts.dispatch_due().errors == []
