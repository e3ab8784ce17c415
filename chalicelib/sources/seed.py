"""Seeding the example sources (``examples/sources.json``) into an empty sources table.

Local mode calls this at every start; it writes only when the table holds no source at all, so
nothing a user stored, edited or deleted is ever overwritten or brought back. ``{demo}`` in a URL
becomes the local demo site's address. Every example goes through the same validation as the API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.sources.models import parse_definition
from chalicelib.sources.store import SourceStore


def example_sources(path: Path, demo_url: str) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    sources: list[dict[str, Any]] = data["sources"]
    for source in sources:
        for key in ("url", "base"):
            if isinstance(source.get(key), str):
                source[key] = source[key].replace("{demo}", demo_url)
    return sources


def seed_sources(store: SourceStore, path: Path, demo_url: str, clock: Clock = utcnow) -> list[str]:
    """Create the examples if the table is empty; the ids created (none otherwise)."""
    if next(store.all(), None) is not None:
        return []
    definitions = [parse_definition(body) for body in example_sources(path, demo_url)]
    now = iso(clock())
    for definition in definitions:
        store.create(definition, now)
    return [d.id for d in definitions]
