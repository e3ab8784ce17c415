"""The example plan as test data, and small edits of it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plan.json"


def example_plan() -> dict[str, Any]:
    """A fresh deep copy of ``examples/plan.json`` for each test to edit."""
    doc: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return copy.deepcopy(doc)


def group(doc: dict[str, Any], group_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(g for g in doc["groups"] if g["id"] == group_id)
    return found


def paths(problems: Any) -> set[str]:
    """The paths of problems given as ``Problem`` objects or dicts."""
    return {p["path"] if isinstance(p, dict) else p.path for p in problems}


def quick_plan(**workflow: Any) -> dict[str, Any]:
    """The example plan with public deadlines of minutes, not hours."""
    doc = example_plan()
    for level in doc["levels"]:
        deadlines = level["deadlines_minutes"]
        for key in ("authoritative_info", "press_conference", "public_response"):
            if deadlines.get(key) is not None:
                deadlines[key] = 90 if key == "press_conference" else 60
    doc["workflow"] = {
        "monitor_interval_minutes": 1,
        "cooldown_minutes": 1,
        "close_after_minutes": 600,
        "ack_minutes": {"I": 600, "II": 600, "III": 600, "IV": 600},
        **workflow,
    }
    return doc


def contacts(doc: dict[str, Any], group_id: str | None = None) -> set[str]:
    """Every phone number and e-mail address in the plan (or in one group of it)."""
    return {
        str(member[key])
        for g in doc["groups"]
        if group_id is None or g["id"] == group_id
        for member in g["members"]
        for key in ("phone", "email")
        if member.get(key)
    }
