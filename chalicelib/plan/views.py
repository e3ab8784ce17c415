"""Plan routes: ``GET /plan``, ``PUT /plan`` (hq), ``GET /plan/versions[/{n}]``.

Reading is open to every role (viewer and above): each group needs to see the plan it works
under. Contacts are not: the HQ reads every phone number and e-mail address, a lead those of
their own group, everyone else sees them masked as ``/outbox`` shows them (``contacts_masked``
says so). Saving is for the 指挥部 only. ``PUT`` takes the whole document; ``If-Match:
<version>`` or ``?base_version=<n>`` makes the save conditional on the version the editor started
from. A revision that answers incidents' evaluations (预案修订) wraps the document:
``{"plan": {...}, "reason": "…", "answers": ["<incident id>", …]}``; the version keeps both.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.auth.models import Principal, Role
from chalicelib.auth.views import require
from chalicelib.core.errors import Problem, ValidationError
from chalicelib.core.http import api, json_body, query_params
from chalicelib.plan.models import masked_contacts, publicity_group
from chalicelib.plan.service import revision_request
from chalicelib.plan.store import PlanVersion
from chalicelib.plan.wiring import plan_service

bp = Blueprint(__name__)


def _version_number(text: str, where: str) -> int:
    cleaned = text.strip().strip('"').removeprefix("W/").strip('"')
    # isascii: str.isdigit() also holds for "²" and "١٢", which int() refuses or misreads.
    if not (cleaned.isascii() and cleaned.isdigit()) or len(cleaned) > 9:
        raise ValidationError("bad version number", [Problem(where, "must be a whole number")])
    return int(cleaned)


def _shown_to(found: PlanVersion, principal: Principal) -> dict[str, Any]:
    """A version as ``principal`` may read it: contacts masked where they may not, and the
    group that answers for statements (口径) as the plan resolves it."""
    doc, masked = masked_contacts(found.doc, principal.sees_contacts_of)
    return {
        **found.meta(),
        "plan": doc,
        "contacts_masked": masked,
        "publicity_group": publicity_group(found.doc),
    }


@bp.route("/plan", methods=["GET"])
@api
def get_plan() -> dict[str, Any]:
    principal = require(bp.current_request, Role.VIEWER)
    return _shown_to(plan_service().current(), principal)


@bp.route("/plan", methods=["PUT"])
@api
def put_plan() -> dict[str, Any]:
    request = bp.current_request
    principal = require(request, Role.HQ)
    doc = json_body(request)
    assert request is not None
    base: int | None = None
    if request.headers.get("if-match"):
        base = _version_number(request.headers["if-match"], "If-Match")
    else:
        params = query_params(request)
        if params.get("base_version"):
            base = _version_number(params["base_version"], "/base_version")
    doc, reason, answers = revision_request(doc)
    saved, reconciled = plan_service().save(
        doc, principal.name, base_version=base, reason=reason, answers=answers
    )
    return {**saved.meta(), "reconciliation": reconciled}


@bp.route("/plan/versions", methods=["GET"])
@api
def list_versions() -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    return {"versions": plan_service().versions()}


@bp.route("/plan/versions/{number}", methods=["GET"])
@api
def get_version(number: str) -> dict[str, Any]:
    principal = require(bp.current_request, Role.VIEWER)
    found = plan_service().version(_version_number(number, "/number"))
    return _shown_to(found, principal)
