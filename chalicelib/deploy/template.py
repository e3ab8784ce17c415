"""Render ``infra/resources.yaml`` for one stage: the single definition of our AWS resources.

Both ``make package`` (merged into Chalice's SAM template for CloudFormation) and local mode
(provisioning moto) start from :func:`render`, so the two cannot drift. Rendering sets the
``Stage`` parameter's default and inlines each state machine's ASL file (named in the resource's
``Metadata``) as ``Properties.Definition``; ``DefinitionSubstitutions`` stay as written.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
INFRA_DIR = PROJECT_DIR / "infra"
TEMPLATE = INFRA_DIR / "resources.yaml"
DEFINITION_KEY = "yuqing:definition"
STAGES = ("local", "dev", "prod")


def load_source(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def render(stage: str, path: Path = TEMPLATE) -> dict[str, Any]:
    """The template for ``stage`` with state machine definitions inlined."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
    template = copy.deepcopy(load_source(path))
    template["Parameters"]["Stage"]["Default"] = stage
    for resource in template["Resources"].values():
        definition_file = resource.get("Metadata", {}).get(DEFINITION_KEY)
        if definition_file:
            with (path.parent / definition_file).open(encoding="utf-8") as handle:
                resource["Properties"]["Definition"] = json.load(handle)
    return template
