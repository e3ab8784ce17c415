"""Drill scenarios (演练脚本): timed events in plan minutes, strictly validated. Pure.

A scenario is ``{"name", "description", "events": [{"at_minutes": n, "kind": ..., ...}]}``:

- ``kind: "report"`` — a manual report (人工上报) with the fields ``POST /reports`` takes
  (``title``, ``content``, optional ``platform``, ``subject``, ``level``). It goes through the
  real report service with ``drill=True``.
- ``kind: "post"`` — a post as a crawler would deliver it (``text``, optional ``title``,
  ``platform`` (default weibo), ``author``, ``engagement``, ``rank``, ``credibility``) and
  ``copies``: how many reposts of it arrive at that minute (``转发//@author:text``, each a post of
  its own), which is how a repost storm is written. Posts go through the real scoring sink.

``url`` is refused in both kinds on purpose: a post's id is derived from its URL, so a drill post
carrying the URL of a real post would be taken for that post and could join a real incident.
Drill posts get ids from the drill and the event instead, and cluster apart from real ones.

``at_minutes`` are plan minutes from the start of the drill, scaled by the deployment's time scale
like every other duration, so a bundled scenario runs in real time in AWS and in seconds in local
mode and tests. Limits keep a drill a drill: at most :data:`MAX_EVENTS` events, :data:`MAX_POSTS`
posts in all, and :data:`MAX_MINUTES` (a week) of scenario.

Bundled scenarios live in ``chalicelib/drills/scenarios/`` (so that they are deployed with the
code; ``examples/drills/`` holds the same files for people to read and adapt, and a test keeps
the two equal).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from chalicelib.core.errors import Problem, ValidationError
from chalicelib.posts.models import ENGAGEMENT_KEYS, Platform, parse_platform
from chalicelib.reports.service import parse_report

BUNDLED_DIR = Path(__file__).resolve().parent / "scenarios"
NAME = re.compile(r"\A[a-z0-9][a-z0-9-]{0,62}\Z")
KINDS = ("report", "post")
MAX_EVENTS = 100
MAX_POSTS = 1000
MAX_COPIES = 200
MAX_MINUTES = 7 * 24 * 60
MAX_NAME = 100
MAX_DESCRIPTION = 2000
MAX_TEXT = 2000
MAX_TITLE = 200
MAX_AUTHOR = 50
_POST_FIELDS = frozenset(
    {"text", "title", "platform", "author", "engagement", "rank", "copies", "credibility"}
)
_REPOST_COMMENTS = ("转发微博", "真的假的？", "求真相", "太可怕了", "扩散", "关注后续", "[怒]")


@dataclass(frozen=True)
class Event:
    """One timed event; ``index`` is its position in the scenario as written (for paths)."""

    index: int
    at_minutes: float
    kind: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def post_count(self) -> int:
        return int(self.fields.get("copies", 1)) if self.kind == "post" else 1

    def due_at(self, started: datetime, time_scale: float) -> datetime:
        return started + timedelta(seconds=self.at_minutes * 60 * time_scale)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    events: tuple[Event, ...]
    bundled: str | None = None  # the bundled scenario's id, None for an inline one

    @property
    def post_count(self) -> int:
        return sum(e.post_count for e in self.events)


# -- bundled -------------------------------------------------------------------------------------
def bundled_names() -> list[str]:
    return sorted(p.stem for p in BUNDLED_DIR.glob("*.json"))


def load_bundled(name: str, subjects: set[str]) -> Scenario:
    """A bundled scenario by id (``rumour-accident``…); 400 if there is no such scenario."""
    names = bundled_names()
    if name not in names:
        raise ValidationError(
            "unknown bundled scenario", [Problem("/scenario", f"one of {', '.join(names)}")]
        )
    doc = json.loads((BUNDLED_DIR / f"{name}.json").read_text(encoding="utf-8"))
    scenario = parse_scenario(doc, subjects, path="/scenario")
    return Scenario(scenario.name, scenario.description, scenario.events, bundled=name)


# -- validation ----------------------------------------------------------------------------------
def parse_request(body: Mapping[str, Any], subjects: set[str]) -> tuple[Scenario, str]:
    """``POST /drills``: ``{"scenario": "<bundled id>" | {...}, "note"?}`` → (scenario, note)."""
    problems: list[Problem] = []
    unknown = sorted(set(body) - {"scenario", "note"})
    problems += [Problem(f"/{k}", "unknown field") for k in unknown]
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_DESCRIPTION:
        problems.append(Problem("/note", f"must be text of at most {MAX_DESCRIPTION} characters"))
        note = ""
    spec = body.get("scenario")
    scenario: Scenario | None = None
    try:
        if isinstance(spec, str):
            scenario = load_bundled(spec, subjects)
        elif isinstance(spec, Mapping):
            scenario = parse_scenario(spec, subjects, path="/scenario")
        else:
            problems.append(
                Problem("/scenario", "the id of a bundled scenario or an inline scenario object")
            )
    except ValidationError as err:
        problems += err.problems
    if problems or scenario is None:
        raise ValidationError("invalid drill", problems)
    return scenario, note


def parse_scenario(doc: Any, subjects: set[str], *, path: str = "") -> Scenario:
    """Validate a scenario; every problem is listed with its path (``/scenario/events/2/text``)."""
    if not isinstance(doc, Mapping):
        raise ValidationError("invalid scenario", [Problem(path, "must be an object")])
    problems: list[Problem] = []
    unknown = sorted(set(doc) - {"name", "description", "events"})
    problems += [Problem(f"{path}/{k}", "unknown field") for k in unknown]
    name = _text(doc, "name", MAX_NAME, path, problems, required=True)
    description = _text(doc, "description", MAX_DESCRIPTION, path, problems) or ""
    raw_events = doc.get("events")
    events: list[Event] = []
    if not isinstance(raw_events, list) or not 0 < len(raw_events) <= MAX_EVENTS:
        problems.append(Problem(f"{path}/events", f"must be a list of 1 to {MAX_EVENTS} events"))
    else:
        for index, raw in enumerate(raw_events):
            event = _event(raw, index, subjects, f"{path}/events/{index}", problems)
            if event is not None:
                events.append(event)
    posts = sum(e.post_count for e in events)
    if posts > MAX_POSTS:
        problems.append(Problem(f"{path}/events", f"{posts} posts in all; at most {MAX_POSTS}"))
    if problems:
        raise ValidationError("invalid scenario", problems)
    ordered = tuple(sorted(events, key=lambda e: (e.at_minutes, e.index)))
    return Scenario(name or "", description, ordered)


def _event(
    raw: Any, index: int, subjects: set[str], path: str, problems: list[Problem]
) -> Event | None:
    if not isinstance(raw, Mapping):
        problems.append(Problem(path, "must be an object"))
        return None
    before = len(problems)
    at = raw.get("at_minutes")
    if isinstance(at, bool) or not isinstance(at, int | float) or not 0 <= at <= MAX_MINUTES:
        problems.append(Problem(f"{path}/at_minutes", f"a number of minutes, 0 to {MAX_MINUTES}"))
    kind = raw.get("kind")
    fields = {k: v for k, v in raw.items() if k not in {"at_minutes", "kind"}}
    for forbidden in ("url", "drill"):
        if forbidden in fields:
            why = "drill posts never carry a URL" if forbidden == "url" else "always true"
            problems.append(Problem(f"{path}/{forbidden}", f"not allowed: {why}"))
            fields.pop(forbidden)
    if kind == "report":
        try:
            parse_report({**fields, "drill": True}, subjects)
        except ValidationError as err:
            problems += [Problem(f"{path}{p.path}", p.message) for p in err.problems]
    elif kind == "post":
        _post(fields, path, problems)
    else:
        problems.append(Problem(f"{path}/kind", f"one of {', '.join(KINDS)}"))
    if len(problems) > before:
        return None
    return Event(index, float(at or 0), str(kind), fields)


def _post(fields: Mapping[str, Any], path: str, problems: list[Problem]) -> None:
    unknown = sorted(set(fields) - _POST_FIELDS)
    problems += [Problem(f"{path}/{k}", "unknown field") for k in unknown]
    _text(fields, "text", MAX_TEXT, path, problems, required=True)
    _text(fields, "title", MAX_TITLE, path, problems)
    _text(fields, "author", MAX_AUTHOR, path, problems)
    # An id or what people write (微博, 抖音), as in POST /reports; a post is never a report.
    platform = parse_platform(fields.get("platform", Platform.WEIBO.value))
    if platform is None or platform is Platform.REPORT:
        allowed = [f"{p.value} ({p.label})" for p in Platform if p is not Platform.REPORT]
        problems.append(Problem(f"{path}/platform", f"one of {', '.join(allowed)}"))
    engagement = fields.get("engagement", {})
    if not isinstance(engagement, Mapping):
        problems.append(Problem(f"{path}/engagement", "must be an object"))
    else:
        for key, value in engagement.items():
            if key not in ENGAGEMENT_KEYS:
                problems.append(Problem(f"{path}/engagement/{key}", "unknown counter"))
            elif not _int_between(value, 0, 10**9):
                problems.append(Problem(f"{path}/engagement/{key}", "a whole number ≥ 0"))
    if "rank" in fields and not _int_between(fields["rank"], 1, 100):
        problems.append(Problem(f"{path}/rank", "a whole number from 1 to 100"))
    if "copies" in fields and not _int_between(fields["copies"], 1, MAX_COPIES):
        problems.append(Problem(f"{path}/copies", f"a whole number from 1 to {MAX_COPIES}"))
    credibility = fields.get("credibility", 0.5)
    number = isinstance(credibility, int | float) and not isinstance(credibility, bool)
    if not number or not 0 <= credibility <= 1:
        problems.append(Problem(f"{path}/credibility", "a number from 0 to 1"))


def _int_between(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _text(
    doc: Mapping[str, Any],
    name: str,
    limit: int,
    path: str,
    problems: list[Problem],
    *,
    required: bool = False,
) -> str | None:
    value = doc.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        problems.append(Problem(f"{path}/{name}", f"must be non-empty text of at most {limit}"))
        return None
    return value.strip()


# -- what a post event becomes -------------------------------------------------------------------
def post_texts(fields: Mapping[str, Any]) -> list[str]:
    """The text of each copy: the original, then reposts ``comment//@author:original``."""
    text = str(fields["text"]).strip()
    author = str(fields.get("author") or "网友")
    copies = int(fields.get("copies", 1))
    texts = [text]
    for k in range(1, copies):
        comment = _REPOST_COMMENTS[k % len(_REPOST_COMMENTS)]
        texts.append(f"{comment}//@{author}:{text}")
    return texts


def describe(scenario: Scenario) -> dict[str, Any]:
    """A scenario as served (its events in the order they run)."""
    return {
        "name": scenario.name,
        "description": scenario.description,
        "bundled": scenario.bundled,
        "events": [
            {"index": e.index, "at_minutes": e.at_minutes, "kind": e.kind, "posts": e.post_count}
            for e in scenario.events
        ],
    }
