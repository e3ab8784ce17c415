"""Exporting a list (导出): its sheet in the plan's words, stamped with the time, as bytes.

The list itself is read by its own domain's service, for the caller, exactly as for JSON; this
only adds what a forwarded spreadsheet needs beyond that answer — the names of groups and
subjects in the current plan (the example plan's while none is stored, as scoring does) and the
time of export — and renders it. openpyxl is imported on the first export only (it costs about
0.3 s), so JSON answers and cold starts never pay for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.core.clock import Clock, utcnow
from chalicelib.exports.models import Names, ToSheet, Workbook, finish
from chalicelib.plan.service import current_or_example
from chalicelib.plan.store import PlanStore


class Workbooks:
    """Builds the workbook of a list answer; takes the plan store (and a clock)."""

    def __init__(self, plans: PlanStore, clock: Clock = utcnow) -> None:
        self._plans = plans
        self._clock = clock

    def build(
        self, to_sheet: ToSheet, answer: Mapping[str, Any], source: str, query: Mapping[str, str]
    ) -> Workbook:
        from chalicelib.exports import render_xlsx

        names = Names.of(current_or_example(self._plans))
        sheet = finish(to_sheet(answer, names), self._clock(), source, query)
        return Workbook(sheet.filename, render_xlsx.render(sheet))
