"""The plan's defaults (预案缺省): the example and built-in plans, and the order of the levels.

Every package that needs "which level is graver" or "the plan while none is stored" asks here,
so the order of I–IV is written once: :data:`LEVEL_RANK` for what is stored beside an item
(``level_rank``, a number a query can sort on), :func:`more_severe` and :func:`worst` for
comparisons. A value that is not a level (None, a stray string) ranks below every level.

Without a stored plan, :func:`default_plan` reads ``examples/plan.json`` when the project has one
(local mode stores it as version 1; a new deployment scores and validates against it), else uses
:data:`BUILTIN_PLAN` (the default levels and two example subjects).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib.plan.models import LEVEL_COLOURS, LEVEL_NAMES, LEVELS

# Higher is more severe; no level is 0.
LEVEL_RANK: dict[str, int] = {level: len(LEVELS) - i for i, level in enumerate(LEVELS)}

EXAMPLE_PLAN = Path(__file__).resolve().parents[2] / "examples" / "plan.json"

BUILTIN_PLAN: dict[str, Any] = {
    "levels": [
        {"id": lv, "name": LEVEL_NAMES[lv], "colour": LEVEL_COLOURS[lv], "min_risk": risk}
        for lv, risk in zip(LEVELS, (0.85, 0.7, 0.5, 0.3), strict=True)
    ],
    "subjects": [
        {
            "id": "hospital",
            "name": "市第一人民医院",
            "rule": '(市第一人民医院 OR 市一院 OR "第一人民医院") NOT 招聘',
            "terms": ["市第一人民医院", "市一院"],
        },
        {
            "id": "food-safety",
            "name": "食品安全",
            "rule": "(食堂 OR 外卖 OR 餐厅 OR 学校) NEAR/20 (中毒 OR 变质 OR 异物 OR 腹泻)",
            "terms": [],
        },
    ],
}


def rank(level: object) -> int:
    """4 for I … 1 for IV; 0 for anything that is not a level."""
    return LEVEL_RANK.get(level, 0) if isinstance(level, str) else 0


def more_severe(a: object, b: object) -> bool:
    """True if level ``a`` is graver than ``b`` (a non-level is below every level)."""
    return rank(a) > rank(b)


def worst(*levels: object) -> str | None:
    """The gravest of ``levels``; None when none of them is a level."""
    found = [str(level) for level in levels if rank(level)]
    return max(found, key=rank) if found else None


def default_plan() -> dict[str, Any]:
    """``examples/plan.json`` if the project has one, else the built-in plan."""
    if EXAMPLE_PLAN.is_file():
        loaded = json.loads(EXAMPLE_PLAN.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            return loaded
    return BUILTIN_PLAN
