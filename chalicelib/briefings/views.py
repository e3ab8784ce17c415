"""Briefing and report routes (the schedule is in :mod:`chalicelib.briefings.handlers`).

- ``GET /briefings`` (viewer+): stored briefing dates and the plan's briefing time.
- ``GET /briefings/{date}?format=json|html|docx`` (viewer+): one day's 舆情日报, built on demand;
  ``date`` ``latest``: the last 24 hours up to now (provisional, never stored).
- ``GET /briefings/week/{week}`` and ``GET /briefings/month/{month}?format=json|html|docx``
  (viewer+): the 舆情周报 of an ISO week (``2026-W49``), the 舆情月报 of a month (``2026-12``).
- ``POST /briefings`` (lead+): ``{"date"?: "YYYY-MM-DD"}`` — build now (default: today).
- ``GET /incidents/{incident_id}/report?format=json|html|docx`` (viewer+): 舆情评估.

An HTML answer is a page of our own text with post titles in it: its CSP allows nothing but its
inline style and its ``data:`` chart images (no script, no fetch, no frame), and ``nosniff``
keeps a browser from reading any answer as something else.

A .docx answer is binary: its type is in ``app.api.binary_types`` (see ``app.py``), and Chalice
(like API Gateway) only sends it to a request whose ``Accept`` admits it (browsers send ``*/*``).
The renderers (Jinja2, python-docx, Pillow) are imported on the first HTML or Word answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chalice import Blueprint, Response

from chalicelib.auth.models import Role
from chalicelib.auth.views import require
from chalicelib.briefings import daily, evaluation, periodic
from chalicelib.briefings.models import DOCX_TYPE, FORMATS, HTML_TYPE, Document, check_date
from chalicelib.briefings.periods import check_month, check_week
from chalicelib.briefings.wiring import briefing_service, evaluation_reports, periodic_briefings
from chalicelib.core.errors import Problem, ValidationError
from chalicelib.core.http import (
    NOSNIFF,
    api,
    file_response,
    json_body,
    json_response,
)
from chalicelib.core.http import requested_format as format_of
from chalicelib.workflow.statemachine import execution_name

bp = Blueprint(__name__)
# ``GET /briefings/latest``: the last 24 hours up to now, for an HQ that needs a briefing at once.
LATEST = "latest"
# The HTML documents: self-contained (inline <style>, charts as data: PNGs), nothing else runs.
DOCUMENT_CSP = "; ".join(
    (
        "default-src 'none'",
        "img-src data:",
        "style-src 'unsafe-inline'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


def requested_format(request: Any) -> str:
    return format_of(request, FORMATS)


def respond(
    data: Mapping[str, Any],
    fmt: str,
    to_document: Callable[[Mapping[str, Any]], Document],
    status: int = 200,
) -> Response:
    """``data`` as JSON, or rendered as HTML or Word through its document."""
    if fmt == "json":
        return json_response(data, status=status)
    doc = to_document(data)
    if fmt == "html":
        from chalicelib.briefings import render_html

        return Response(
            body=render_html.render(doc),
            status_code=status,
            headers={
                "Content-Type": HTML_TYPE,
                "Content-Security-Policy": DOCUMENT_CSP,
                "Referrer-Policy": "no-referrer",
                **NOSNIFF,
            },
        )
    from chalicelib.briefings import render_docx

    return file_response(render_docx.render(doc), DOCX_TYPE, f"{doc.filename}.docx", status)


@bp.route("/briefings", methods=["GET"])
@api
def list_briefings() -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    return briefing_service().list()


@bp.route("/briefings/{date}", methods=["GET"])
@api
def get_briefing(date: str) -> Response:
    require(bp.current_request, Role.VIEWER)
    fmt = requested_format(bp.current_request)
    service = briefing_service()
    data = service.latest() if date == LATEST else service.get(check_date(date))
    return respond(data, fmt, daily.document)


@bp.route("/briefings/week/{week}", methods=["GET"])
@api
def get_weekly_briefing(week: str) -> Response:
    require(bp.current_request, Role.VIEWER)
    fmt = requested_format(bp.current_request)
    return respond(periodic_briefings().get(check_week(week)), fmt, periodic.document)


@bp.route("/briefings/month/{month}", methods=["GET"])
@api
def get_monthly_briefing(month: str) -> Response:
    require(bp.current_request, Role.VIEWER)
    fmt = requested_format(bp.current_request)
    return respond(periodic_briefings().get(check_month(month)), fmt, periodic.document)


@bp.route("/briefings", methods=["POST"])
@api
def build_briefing() -> Response:
    require(bp.current_request, Role.LEAD)
    request = bp.current_request
    body = json_body(request) if request is not None and (request.raw_body or b"").strip() else {}
    unknown = [Problem(f"/{k}", "unknown field; expected date") for k in body if k != "date"]
    if unknown:
        raise ValidationError("invalid briefing request", unknown)
    raw = body.get("date")
    if "date" in body and not isinstance(raw, str):
        raise ValidationError("invalid date", [Problem("/date", "a string YYYY-MM-DD")])
    day = check_date(raw) if isinstance(raw, str) else None
    return respond(briefing_service().rebuild(day), "json", daily.document, status=201)


@bp.route("/incidents/{incident_id}/report", methods=["GET"])
@api
def incident_report(incident_id: str) -> Response:
    require(bp.current_request, Role.VIEWER)
    execution_name(incident_id)  # validates the id
    fmt = requested_format(bp.current_request)
    return respond(evaluation_reports().incident(incident_id), fmt, evaluation.document)
