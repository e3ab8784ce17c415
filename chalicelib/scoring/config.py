"""What scoring needs from the plan (预案): the level thresholds and the subjects with their rules.

Scoring reads only ``levels[*].id/min_risk`` and ``subjects[*].id/name/rule/terms`` from the
plan document; the rest of the plan is the plan feature's business. A config is compiled
once per distinct content of those two sections (:func:`config_for_plan` caches by a hash),
so a worker that scores thousands of posts under one plan version parses its rules once.

The plan used while none is stored, and the order of the levels, are the plan's
(:mod:`chalicelib.plan.defaults`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.core.errors import Problem, ValidationError
from chalicelib.plan.defaults import rank
from chalicelib.plan.models import LEVELS
from chalicelib.scoring.rules import Rule, RuleSyntaxError, parse


@dataclass(frozen=True)
class Level:
    id: str
    min_risk: float


@dataclass(frozen=True)
class Subject:
    id: str
    name: str
    rule: Rule
    terms: tuple[str, ...]


@dataclass(frozen=True)
class ScoringConfig:
    levels: tuple[Level, ...]  # most severe first
    subjects: tuple[Subject, ...]
    version: str  # hash of the sections read

    def level_for(self, risk: float) -> str | None:
        """The level whose ``min_risk`` the risk reaches (the most severe such), else None."""
        for level in self.levels:
            if risk >= level.min_risk:
                return level.id
        return None

    @property
    def lowest_threshold(self) -> float:
        return min((level.min_risk for level in self.levels), default=1.0)

    def terms(self) -> list[str]:
        """Names segmentation must keep whole: every subject's terms and name."""
        out: dict[str, None] = {}
        for subject in self.subjects:
            for term in (subject.name, *subject.terms):
                if term.strip():
                    out[term.strip()] = None
        return list(out)


def _relevant(plan: Mapping[str, Any]) -> dict[str, Any]:
    levels = plan.get("levels")
    subjects = plan.get("subjects")
    return {
        "levels": [
            {"id": lv.get("id"), "min_risk": lv.get("min_risk")}
            for lv in (levels if isinstance(levels, list) else [])
            if isinstance(lv, Mapping)
        ],
        "subjects": [
            {k: s.get(k) for k in ("id", "name", "rule", "terms")}
            for s in (subjects if isinstance(subjects, list) else [])
            if isinstance(s, Mapping)
        ],
    }


def plan_hash(plan: Mapping[str, Any]) -> str:
    canonical = json.dumps(_relevant(plan), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def build_config(plan: Mapping[str, Any]) -> ScoringConfig:
    """Compile the plan's levels and subjects; every problem is reported at once."""
    if not isinstance(plan, Mapping):
        raise ValidationError("the plan must be a JSON object", [Problem("", "not an object")])
    relevant = _relevant(plan)
    problems: list[Problem] = []
    levels: list[Level] = []
    if not isinstance(plan.get("levels"), list) or not relevant["levels"]:
        problems.append(Problem("/levels", "a list of levels is required"))
    for i, lv in enumerate(relevant["levels"]):
        if lv["id"] not in LEVELS:
            problems.append(Problem(f"/levels/{i}/id", f"must be one of {', '.join(LEVELS)}"))
            continue
        risk = lv["min_risk"]
        if isinstance(risk, bool) or not isinstance(risk, int | float) or not 0 < risk <= 1:
            problems.append(Problem(f"/levels/{i}/min_risk", "must be a number in (0, 1]"))
            continue
        levels.append(Level(lv["id"], float(risk)))
    ordered = sorted(levels, key=lambda lv: -rank(lv.id))
    if len({lv.id for lv in levels}) != len(levels):
        problems.append(Problem("/levels", "each level may appear once"))
    elif any(a.min_risk <= b.min_risk for a, b in itertools.pairwise(ordered)):
        problems.append(Problem("/levels", "min_risk must fall from I to IV"))

    subjects: list[Subject] = []
    seen: set[str] = set()
    for i, s in enumerate(relevant["subjects"]):
        sid, name, rule_text, terms = s["id"], s["name"], s["rule"], s["terms"]
        if not isinstance(sid, str) or not sid or sid in seen:
            problems.append(Problem(f"/subjects/{i}/id", "a unique non-empty string is required"))
            continue
        seen.add(sid)
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(f"/subjects/{i}/name", "a non-empty string is required"))
            continue
        if terms is None:
            terms = []
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            problems.append(Problem(f"/subjects/{i}/terms", "must be a list of strings"))
            continue
        try:
            rule = parse(rule_text)
        except RuleSyntaxError as err:
            problems.append(Problem(f"/subjects/{i}/rule", str(err)))
            continue
        subjects.append(Subject(sid, name, rule, tuple(terms)))
    if problems:
        raise ValidationError("the plan cannot be used for scoring", problems)
    return ScoringConfig(tuple(ordered), tuple(subjects), plan_hash(plan))


_cache: dict[str, ScoringConfig] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 8


def config_for_plan(plan: Mapping[str, Any]) -> ScoringConfig:
    """:func:`build_config`, compiled once per distinct levels+subjects content."""
    key = plan_hash(plan)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    config = build_config(plan)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = config
    return config
