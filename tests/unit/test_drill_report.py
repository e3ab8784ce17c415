"""The drill report from stored incident items: statuses, plan minutes, drill marking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.drills.report import build

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


DRILL = {"drill_id": "dr-abcdef", "name": "演练", "time_scale": 0.01, "incidents": {"c-k1"}}


def incident(**meta: Any) -> list[dict[str, Any]]:
    return [
        {
            "sk": "META",
            "status": "active",
            "level": "II",
            "drill": True,
            "opened_at": at(0),
            "activated_at": at(10),
            "decided_at": at(10),
            "decision": {"action": "activate", "level": "II"},
            "deadlines": {
                "report_hq": {"due_at": at(6), "done_at": at(1), "met": True},
                "triage": {"due_at": at(19)},
                "authoritative_info": {"due_at": at(190), "done_at": None, "met": False},
            },
            **meta,
        },
        {
            "sk": "TASK#office-1",
            "task_id": "office-1",
            "group": "office",
            "assigned_at": at(11),
            "ack_by": at(17),
            "acked_at": at(20),
            "done_minutes": 30,
            "done_by": at(29),  # 30 plan minutes × 0.01 after assignment
            "completed_by": "办公室成员",
            "done_at": at(20),
            "measures": [{"name": "核实情况"}],
            "breaches": [{"kind": "ack", "at": at(17)}],
        },
    ]


def test_each_step_is_met_late_missed_or_pending_in_plan_minutes() -> None:
    alerts = [
        {
            "event": "reported",
            "drill": True,
            "sms": "【演练】x",
            "email_subject": "【演练】[滨江] y",
        },
        {"event": "activated#II", "drill": True, "sms": "【演练】x", "email_subject": "z"},
    ]
    report = build(DRILL, [], {"c-k1": incident()}, {"c-k1": alerts}, T0 + timedelta(seconds=200))
    (row,) = report["incidents"]
    steps = {s["key"]: s for s in row["steps"]}
    assert steps["report_hq"]["status"] == "met"
    assert steps["report_hq"]["taken_minutes"] == 1.7  # 1 s at 1/100 is 100 s
    assert steps["report_hq"]["allowed_minutes"] == 10.0
    assert steps["triage"]["status"] == "met"
    assert steps["task:office-1:ack"]["status"] == "late"
    assert steps["task:office-1:ack"]["note"] == "已记录违约"
    assert steps["task:office-1:done"]["status"] == "met"
    assert steps["task:office-1:done"]["allowed_minutes"] == 30.0
    assert steps["authoritative_info"]["status"] == "missed"
    assert row["alerts"] == {
        "messages": 2,
        "marked_drill": 1,
        "events": ["activated#II", "reported"],
    }
    assert report["totals"]["steps"] == 5
    assert (report["totals"]["late"], report["totals"]["missed"]) == (1, 1)
    assert report["excluded_from_statistics"] is True
    assert report["complete"] is False


def test_an_automatic_activation_is_a_missed_triage_and_an_early_incident_is_pending() -> None:
    auto = incident(decision={"action": "activate", "auto": True})
    early = [{"sk": "META", "status": "open", "drill": True, "opened_at": at(0)}]
    report = build(
        {**DRILL, "incidents": {"c-k1", "c-k2"}},
        [],
        {"c-k1": auto, "c-k2": early},
        {},
        T0 + timedelta(seconds=30),
    )
    first, second = report["incidents"]
    assert first["steps"][1]["status"] == "missed"
    assert "自动启动" in first["steps"][1]["note"]
    assert [s["status"] for s in second["steps"]] == ["pending", "pending"]
