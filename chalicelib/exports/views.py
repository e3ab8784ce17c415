"""The answer every list route gives: JSON, or with ``?format=xlsx`` the same rows as Excel.

No routes of its own: the list routes (``GET /posts``, ``/clusters``, ``/incidents``,
``/incidents/{id}/evidence``, ``/outbox``) authenticate and read their list as before, then
answer through :func:`respond` — as the report routes answer through
``briefings.views.respond`` — so the workbook is made from the very answer the JSON would be,
for the same caller. ``.xlsx`` is binary: its type is in ``app.api.binary_types`` (``app.py``),
and the request's ``Accept`` must admit it (browsers send ``*/*``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.core.http import file_response, json_response, query_params
from chalicelib.core.http import requested_format as format_of
from chalicelib.exports.models import FORMATS, XLSX_TYPE, ToSheet
from chalicelib.exports.wiring import workbooks


def requested_format(request: Request | None) -> str:
    """``?format=json`` (the default) or ``xlsx``; anything else is a 400."""
    return format_of(request, FORMATS)


def respond(
    answer: Mapping[str, Any],
    fmt: str,
    to_sheet: ToSheet,
    source: str,
    request: Request | None,
) -> Response:
    """``answer`` as JSON, or as the workbook of ``to_sheet`` (``source`` names the route)."""
    if fmt == "json":
        return json_response(answer)
    book = workbooks().build(to_sheet, answer, source, query_params(request))
    return file_response(book.body, XLSX_TYPE, book.filename)
