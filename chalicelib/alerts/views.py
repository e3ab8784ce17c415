"""Alert routes (the schedule is in :mod:`chalicelib.alerts.handlers`).

- ``GET /outbox?incident=…&status=…&limit=…&live=1`` (hq): messages newest first, each with the
  contacts whose subscription filter matched it (from the plan version it was sent under);
  ``live=1`` adds the matching subscriptions SNS holds now. Contacts are masked.
  ``format=xlsx``: the same messages as an Excel workbook (:mod:`chalicelib.exports`).
- ``POST /alerts`` (hq): send an alert by hand (a 指挥部 notice, a drill, a test incident):
  ``{"incident", "event", "level", "template_id", "variables", "groups"?, "drill"?,
  "email_subject"?, "email_body"?, "links"?, "requires_ack"?}`` → the outbox message ids.
- ``POST /alerts/{message_id}/ack`` and ``POST /alerts/incident/{incident_key}/ack`` (member and
  above): stop repeats and escalation. A member or lead (who always has a group) acknowledges
  only that group's alerts — another group's alert is a 403, the incident-wide ack leaves other
  groups' alerts alone; the hq acknowledges any.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.alerts.models import INCIDENT_KEY, AlertRequest, Status
from chalicelib.alerts.wiring import alert_service
from chalicelib.auth.models import Role
from chalicelib.auth.views import require
from chalicelib.core.errors import Problem, ValidationError
from chalicelib.core.http import api, json_body, query_params
from chalicelib.exports import sheets
from chalicelib.exports.views import requested_format, respond

bp = Blueprint(__name__)

MAX_LIMIT = 500


@bp.route("/outbox", methods=["GET"])
@api
def list_outbox() -> Response:
    request = bp.current_request
    require(request, Role.HQ)
    assert request is not None
    fmt = requested_format(request)
    params = query_params(request)
    problems = []
    incident = params.get("incident") or None
    if incident is not None and not INCIDENT_KEY.match(incident):
        problems.append(Problem("/incident", "must match [A-Za-z0-9_-]{1,64}"))
    status = None
    if params.get("status"):
        try:
            status = Status(params["status"])
        except ValueError:
            problems.append(
                Problem("/status", f"must be one of {', '.join(s.value for s in Status)}")
            )
    limit = 100
    if params.get("limit"):
        text = params["limit"]
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
            problems.append(Problem("/limit", f"must be a whole number from 1 to {MAX_LIMIT}"))
        else:
            limit = int(text)
    live = params.get("live", "0")
    if live not in ("0", "1", "true", "false"):
        problems.append(Problem("/live", "must be 1 or 0"))
    if problems:
        raise ValidationError("bad query", problems)
    messages = alert_service().list_messages(
        incident=incident, status=status, limit=limit, live=live in ("1", "true")
    )
    answer = {"messages": messages, "count": len(messages)}
    return respond(answer, fmt, sheets.outbox, "GET /outbox", request)


def parse_alert(body: dict[str, Any]) -> AlertRequest:
    """An :class:`AlertRequest` from a JSON body; every wrongly typed field is a problem."""
    problems = []
    strings = {"incident": True, "event": True, "level": True, "template_id": True}
    for key, required in {**strings, "email_subject": False, "email_body": False}.items():
        value = body.get(key)
        if (value is None and required) or (value is not None and not isinstance(value, str)):
            problems.append(Problem(f"/{key}", "must be a string"))
    variables = body.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in variables.values()
    ):
        problems.append(Problem("/variables", "must be an object of strings or numbers"))
    for key in ("groups", "links"):
        value = body.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(Problem(f"/{key}", "must be an array of strings"))
    for key in ("drill", "requires_ack"):
        if key in body and not isinstance(body[key], bool):
            problems.append(Problem(f"/{key}", "must be true or false"))
    unknown = set(body) - {
        *strings,
        "email_subject",
        "email_body",
        "variables",
        "groups",
        "links",
        "drill",
        "requires_ack",
    }
    problems += [Problem(f"/{key}", "unknown field") for key in sorted(unknown)]
    if problems:
        raise ValidationError("invalid alert", problems)
    request = AlertRequest(
        incident_key=body["incident"],
        event=body["event"],
        level=body["level"],
        template_id=body["template_id"],
        variables=dict(variables),
        groups=tuple(body.get("groups", [])),
        email_subject=body.get("email_subject"),
        email_body=body.get("email_body") or "",
        links=tuple(body.get("links", [])),
        drill=bool(body.get("drill", False)),
        requires_ack=bool(body.get("requires_ack", True)),
    )
    request.check()
    return request


@bp.route("/alerts", methods=["POST"])
@api
def send_alert() -> dict[str, Any]:
    request = bp.current_request
    require(request, Role.HQ)
    ids = alert_service().send(parse_alert(json_body(request)))
    return {"message_ids": ids}


@bp.route("/alerts/{message_id}/ack", methods=["POST"])
@api
def ack_message(message_id: str) -> dict[str, Any]:
    principal = require(bp.current_request, Role.MEMBER)
    if not message_id.startswith("m") or len(message_id) > 64:
        raise ValidationError("bad message id", [Problem("/message_id", "not an outbox id")])
    acked = alert_service().acknowledge(message_id, principal.name, group=principal.scope)
    return {"acknowledged": acked}


@bp.route("/alerts/incident/{incident_key}/ack", methods=["POST"])
@api
def ack_incident(incident_key: str) -> dict[str, Any]:
    principal = require(bp.current_request, Role.MEMBER)
    if not INCIDENT_KEY.match(incident_key):
        raise ValidationError("bad incident", [Problem("/incident_key", "bad incident key")])
    acked = alert_service().acknowledge_incident(
        incident_key, principal.name, group=principal.scope
    )
    return {"acknowledged": acked}
