"""What changed between two plan versions (预案修订记录): the ``summary`` stored with each version.

An audit trail that says only "version 7 saved" forces people to diff JSON by eye; this computes,
per section, the ids added, removed and changed, and one line of text for lists. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_KEYED_SECTIONS = ("groups", "levels", "measures", "subjects", "sms_templates")
_SINGLE_SECTIONS = ("organisation", "escalation", "alerting")


def _by_id(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {str(i["id"]): i for i in items if isinstance(i, Mapping) and "id" in i}


def _members(doc: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for group in doc.get("groups", []) or []:
        for member in group.get("members", []) or []:
            found[f"{group['id']}/{member['id']}"] = member
    return found


def _compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[str]]:
    result = {
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
        "changed": sorted(k for k in set(old) & set(new) if old[k] != new[k]),
    }
    return {k: v for k, v in result.items() if v}


def summarize(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """``{"sections": {name: {"added"|"removed"|"changed": [ids]}}, "text": "…"}``."""
    if old is None:
        return {"sections": {}, "text": "first version"}
    sections: dict[str, Any] = {}
    for name in _KEYED_SECTIONS:
        if name == "groups":
            # Member edits are reported as members; a group counts as changed for its own fields.
            strip = {"members"}
            olds = {
                k: {f: v for f, v in g.items() if f not in strip}
                for k, g in _by_id(old.get(name)).items()
            }
            news = {
                k: {f: v for f, v in g.items() if f not in strip}
                for k, g in _by_id(new.get(name)).items()
            }
            delta = _compare(olds, news)
        else:
            delta = _compare(_by_id(old.get(name)), _by_id(new.get(name)))
        if delta:
            sections[name] = delta
    members = _compare(_members(old), _members(new))
    if members:
        sections["members"] = members
    for name in _SINGLE_SECTIONS:
        if old.get(name) != new.get(name):
            sections[name] = {"changed": [name]}
    parts = []
    for name, delta in sections.items():
        for kind in ("added", "removed", "changed"):
            if delta.get(kind) and name not in _SINGLE_SECTIONS:
                parts.append(f"{name} {kind}: {', '.join(delta[kind])}")
            elif delta.get(kind):
                parts.append(f"{name} changed")
    return {"sections": sections, "text": "; ".join(parts) or "no change"}
