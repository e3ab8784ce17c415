"""The single Powertools Logger, Metrics and Tracer of the application.

One instance each, shared by every handler, so log keys, metric dimensions and traces stay
consistent. Phone numbers and e-mail addresses must never reach the logs unmasked: log
through :func:`mask_contact` when a contact is involved.
"""

from __future__ import annotations

import re

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "yuqing"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Yuqing", service=SERVICE)
tracer = Tracer(service=SERVICE)

_PHONE = re.compile(r"\+?\d[\d -]{6,}\d")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")


def mask_contact(text: str) -> str:
    """Mask phone numbers (keep the last 4 digits) and e-mail local parts in ``text``."""

    def _phone(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return "*" * max(len(digits) - 4, 0) + digits[-4:]

    return _PHONE.sub(_phone, _EMAIL.sub(r"\1***@\2", text))
