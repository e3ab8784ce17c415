"""A rise before the HQ's 研判 pages the HQ at once (decision 56).

GIVEN an incident the HQ has not decided on, WHEN its story rises a level, THEN one alert to the
HQ at the new level is in the outbox, waiting for an acknowledgement, and a repeat of the same
rise sends nothing; once the HQ has decided, a rise is the workflow's business (Monitor), not a
page from here.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.alerts.wiring import alert_service
from chalicelib.core.aws import AwsClients
from chalicelib.core.dynamo import from_item
from chalicelib.core.settings import Settings
from chalicelib.incidents.models import IncidentDraft
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.service import PlanService
from chalicelib.plan.store import PlanStore
from chalicelib.workflow.wiring import incident_opener
from tests.plan_helpers import quick_plan


@pytest.fixture
def world(moto: dict[str, str], settings: Settings, clients: AwsClients) -> dict[str, Any]:
    alerts = alert_service(settings, clients)
    PlanService(
        PlanStore(clients.table(settings.tables.plan)), after_save=alerts.reconcile_plan
    ).save(quick_plan(), "test")
    return {
        "opener": incident_opener(settings, clients),
        "store": IncidentStore(clients.table(settings.tables.incidents)),
        "outbox": clients.table(settings.tables.outbox),
    }


def draft(level: str) -> IncidentDraft:
    return IncidentDraft("kstory", level, "滨江一院：急诊科家属维权", "家属聚集", ["测试"])


def hq_pages(world: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [from_item(row) for row in world["outbox"].scan()["Items"]]
    return [r for r in rows if r["group"] == "hq" and str(r["event"]).startswith("reported#")]


def test_a_rise_before_the_decision_pages_the_hq_once(world: dict[str, Any]) -> None:
    opener = world["opener"]
    opener.open(draft("IV"))
    assert hq_pages(world) == []

    # WHEN the story rises to II while the HQ has not decided (twice: a redelivered batch)
    assert opener.escalate(draft("II"), "IV") is True
    assert opener.escalate(draft("II"), "IV") is False

    # THEN one alert to the HQ at II, to be acknowledged, saying what rose
    [page] = hq_pages(world)
    assert (page["incident_id"], page["event"], page["level"]) == ("c-kstory", "reported#II", "II")
    assert page["requires_ack"] is True
    assert "由 IV 上升至 II" in page["email_body"]
    assert page["sms"].startswith("【")


def test_after_the_decision_a_rise_is_left_to_the_workflow(world: dict[str, Any]) -> None:
    opener = world["opener"]
    opener.open(draft("IV"))
    world["store"].update("c-kstory", "META", {"status": "active"})

    assert opener.escalate(draft("I"), "IV") is True

    assert hq_pages(world) == []
    assert world["store"].get("c-kstory", "META")["level"] == "I"
