"""SMS templates (短信模板): placeholders, worst-case length and rendering. Pure functions.

Mainland China only delivers SMS whose text matches a template registered with the carrier, so
SMS text is never free-form: it is a template id plus variables. Each template declares the
maximum length of every variable; the plan is refused when the text with every variable at its
maximum, plus the drill prefix 【演练】, is longer than the template's ``limit`` (the plan's
``sms_templates`` section is checked here, by :func:`check_templates`). At send time each value
is cut to its declared maximum, so a rendered SMS can never exceed the limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chalicelib.core.errors import Problem, ValidationError
from chalicelib.plan.checker import Checker
from chalicelib.plan.models import DRILL_PREFIX

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
ELLIPSIS = "…"
# Templates the system itself sends (the workflow and source health); a plan must define them,
# or those alerts would fail when they are needed.
REQUIRED_TEMPLATES = {
    "incident_alert": "incident reported, activated or escalated",
    "task_assigned": "a group's task",
    "deadline_missed": "a missed deadline or a lapsed task",
    "notice": "evaluation and workflow failure notices",
    "source_unhealthy": "a broken monitoring source, to the ops group",
}
MAX_TEMPLATE_LIMIT = 500  # a long SMS is billed per 67-character segment; 500 is already 8
MAX_TEMPLATE_VARIABLE = 200  # characters one placeholder may take


def placeholders(text: str) -> list[str]:
    """Variable names in ``text`` in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def worst_case_length(text: str, max_lengths: Mapping[str, int]) -> int:
    """Length of the drill SMS with every declared variable at its maximum length."""
    body = PLACEHOLDER.sub(lambda m: "x" * int(max_lengths.get(m.group(1), 0)), text)
    return len(DRILL_PREFIX) + len(body)


def _fit(value: str, limit: int) -> str:
    value = " ".join(value.split())  # no line breaks or runs of spaces in an SMS
    if len(value) <= limit:
        return value
    return value[: max(limit - 1, 0)] + ELLIPSIS if limit > 0 else ""


def render_sms(
    template: Mapping[str, object], values: Mapping[str, object], *, drill: bool = False
) -> str:
    """The SMS text for a template and its variables; every missing variable is a problem."""
    text = str(template["text"])
    max_lengths = template.get("variables") or {}
    assert isinstance(max_lengths, Mapping)
    missing = [name for name in placeholders(text) if values.get(name) in (None, "")]
    if missing:
        raise ValidationError(
            f"SMS template {template['id']} needs variables: {', '.join(missing)}",
            [Problem(f"/variables/{name}", "required by the SMS template") for name in missing],
        )
    rendered = PLACEHOLDER.sub(
        lambda m: _fit(str(values[m.group(1)]), int(max_lengths.get(m.group(1), 0))), text
    )
    return f"{DRILL_PREFIX}{rendered}" if drill else rendered


def check_templates(checker: Checker, value: Any) -> None:
    """Record every problem of a plan's ``sms_templates`` section in ``checker``."""
    ids: list[tuple[str, str]] = []
    for path, template in checker.entries(value, "/sms_templates"):
        ids.append((checker.slug(template, path), f"{path}/id"))
        text = checker.text(template, "text", path)
        limit = checker.integer(
            template,
            "limit",
            f"{path}/limit",
            low=1,
            high=MAX_TEMPLATE_LIMIT,
            unit=" characters",
        )
        declared = checker.obj(template.get("variables", {}), f"{path}/variables") or {}
        lengths: dict[str, int] = {}
        for name in declared:
            checked = checker.integer(
                declared,
                name,
                f"{path}/variables/{name}",
                low=1,
                high=MAX_TEMPLATE_VARIABLE,
                unit=" characters",
            )
            if checked is not None:
                lengths[name] = checked
        for name in placeholders(text):
            if name not in declared:
                checker.add(f"{path}/text", f"variable {{{name}}} is not declared in variables")
        if text and limit is not None and (worst := worst_case_length(text, lengths)) > limit:
            checker.add(
                f"{path}/text",
                f"longer than its limit: {worst} > {limit} characters with every variable "
                "at its maximum and the drill prefix 【演练】",
            )
    checker.unique(ids, "template")
    present = {tid for tid, _ in ids}
    for needed, used_for in REQUIRED_TEMPLATES.items():
        if needed not in present:
            checker.add("/sms_templates", f"missing template {needed!r} ({used_for})")
