"""HTTP routes for incidents: the board, one incident, and what people decide and do.

Thin: authenticate, parse, one service call. Roles: viewers read; the HQ decides, closes and
approves statements; members of the owning group (or the HQ) act on their tasks; members of the
publicity group (宣传组, as the current plan names it) and the HQ draft, edit and release
statements; members and up preserve evidence; leads and up propose plan revisions once the
incident is evaluated. The whole table is docs/authorization.md.
The incident list and an incident's evidence answer ``?format=xlsx`` too: the same rows as an
Excel workbook (:mod:`chalicelib.exports`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalice import Blueprint, Response

from chalicelib.auth.models import Role
from chalicelib.auth.views import require
from chalicelib.core.errors import Problem, ValidationError
from chalicelib.core.http import api, json_body, json_response, query_params
from chalicelib.exports import sheets
from chalicelib.exports.models import Names, Sheet
from chalicelib.exports.views import requested_format, respond
from chalicelib.incidents.models import ITEM_ID, STATUSES
from chalicelib.incidents.wiring import (
    evidence_service,
    incident_actions,
    incident_queries,
    revision_proposals,
)
from chalicelib.plan.models import LEVELS
from chalicelib.workflow.statemachine import execution_name

bp = Blueprint(__name__)


def _item_id(value: str, name: str) -> str:
    """A task or statement id from the path: 400 for one that could never exist."""
    if not ITEM_ID.match(value):
        raise ValidationError("invalid id", [Problem(f"/{name}", "must match [A-Za-z0-9_-]{1,64}")])
    return value


@bp.route("/incidents", methods=["GET"])
@api
def list_incidents() -> Response:
    request = bp.current_request
    require(request, Role.VIEWER)
    fmt = requested_format(request)
    params = query_params(request)
    problems = []
    status = params.get("status")
    if status is not None and status not in STATUSES:
        problems.append(Problem("/status", f"one of {', '.join(STATUSES)}"))
    level = params.get("level")
    if level is not None and level not in LEVELS:
        problems.append(Problem("/level", "one of I, II, III, IV"))
    drill_text = params.get("drill")
    if drill_text is not None and drill_text not in {"true", "false"}:
        problems.append(Problem("/drill", "true or false"))
    if problems:
        raise ValidationError("invalid query", problems)
    drill = None if drill_text is None else drill_text == "true"
    answer = {"incidents": incident_queries().list(status=status, level=level, drill=drill)}
    return respond(answer, fmt, sheets.incidents, "GET /incidents", request)


@bp.route("/incidents/{incident_id}", methods=["GET"])
@api
def get_incident(incident_id: str) -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    execution_name(incident_id)  # validates the id: 400, not a scan for garbage
    return incident_queries().get(incident_id)


@bp.route("/incidents/{incident_id}/decision", methods=["POST"])
@api
def decide(incident_id: str) -> dict[str, Any]:
    who = require(bp.current_request, Role.HQ)
    execution_name(incident_id)
    return incident_actions().decide(incident_id, who, json_body(bp.current_request))


@bp.route("/incidents/{incident_id}/tasks/{task_id}", methods=["POST"])
@api
def act_on_task(incident_id: str, task_id: str) -> dict[str, Any]:
    who = require(bp.current_request, Role.MEMBER)
    execution_name(incident_id)
    return incident_actions().task(
        incident_id, _item_id(task_id, "task_id"), who, json_body(bp.current_request)
    )


@bp.route("/incidents/{incident_id}/close", methods=["POST"])
@api
def close(incident_id: str) -> dict[str, Any]:
    who = require(bp.current_request, Role.HQ)
    execution_name(incident_id)
    return incident_actions().close(incident_id, who, json_body(bp.current_request))


@bp.route("/incidents/{incident_id}/statements", methods=["POST"])
@api
def draft_statement(incident_id: str) -> Any:
    who = require(bp.current_request, Role.MEMBER)
    execution_name(incident_id)
    return incident_actions().draft_statement(incident_id, who, json_body(bp.current_request))


@bp.route("/incidents/{incident_id}/statements/{sid}/approve", methods=["POST"])
@api
def approve_statement(incident_id: str, sid: str) -> dict[str, Any]:
    who = require(bp.current_request, Role.HQ)
    execution_name(incident_id)
    return incident_actions().approve_statement(incident_id, _item_id(sid, "sid"), who)


@bp.route("/incidents/{incident_id}/statements/{sid}/release", methods=["POST"])
@api
def release_statement(incident_id: str, sid: str) -> dict[str, Any]:
    who = require(bp.current_request, Role.MEMBER)
    execution_name(incident_id)
    return incident_actions().release_statement(
        incident_id, _item_id(sid, "sid"), who, json_body(bp.current_request)
    )


@bp.route("/incidents/{incident_id}/revisions", methods=["POST"])
@api
def propose_revision(incident_id: str) -> Response:
    who = require(bp.current_request, Role.LEAD)
    execution_name(incident_id)
    proposal, created = revision_proposals().propose(
        incident_id, who, json_body(bp.current_request)
    )
    return json_response(proposal, status=201 if created else 200)


@bp.route("/incidents/{incident_id}/evidence", methods=["POST"])
@api
def preserve_evidence(incident_id: str) -> Response:
    who = require(bp.current_request, Role.MEMBER)
    execution_name(incident_id)
    kept = evidence_service().preserve(incident_id, who, json_body(bp.current_request))
    return json_response(kept, status=201 if kept["created"] else 200)


@bp.route("/incidents/{incident_id}/evidence", methods=["GET"])
@api
def list_evidence(incident_id: str) -> Response:
    request = bp.current_request
    require(request, Role.VIEWER)
    execution_name(incident_id)
    fmt = requested_format(request)
    answer = {"evidence": evidence_service().list(incident_id)}

    def to_sheet(data: Mapping[str, Any], names: Names) -> Sheet:
        return sheets.evidence(data, names, incident_id)

    return respond(answer, fmt, to_sheet, "GET /incidents/{incident_id}/evidence", request)
