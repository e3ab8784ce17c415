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
