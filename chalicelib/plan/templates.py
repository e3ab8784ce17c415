"""SMS templates (短信模板): placeholders, worst-case length and rendering. Pure functions.

Mainland China only delivers SMS whose text matches a template registered with the carrier, so
SMS text is never free-form: it is a template id plus variables. Each template declares the
maximum length of every variable; the plan is refused when the text with every variable at its
maximum, plus the drill prefix 【演练】, is longer than the template's ``limit``. At send time each
value is cut to its declared maximum, so a rendered SMS can never exceed the limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from chalicelib.core.errors import Problem, ValidationError
from chalicelib.plan.models import DRILL_PREFIX

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
ELLIPSIS = "…"


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
