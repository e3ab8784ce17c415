"""Drill routes (the schedule is in :mod:`chalicelib.drills.handlers`).

- ``POST /drills`` (hq): ``{"scenario": "rumour-accident" | {...inline...}, "note"?}`` starts a
  drill and injects what is due at once; 201 with the drill and its events. ``Idempotency-Key``
  makes a retried start the same drill.
- ``GET /drills`` (viewer+): recent drills, newest first.
- ``GET /drills/scenarios`` (viewer+): the bundled scenarios.
- ``GET /drills/{drill_id}?format=json|html|docx`` (viewer+): the drill report (演练评估).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from typing import Any

from chalice import Blueprint, Response

from chalicelib.auth.models import Principal, Role
from chalicelib.auth.views import require
from chalicelib.briefings.evaluation import drill_document
from chalicelib.briefings.views import requested_format, respond
from chalicelib.core.aws import get_clients
from chalicelib.core.http import api, json_body, json_response
from chalicelib.core.idempotency import IdempotencyStore, check_key
from chalicelib.core.observability import logger
from chalicelib.core.settings import get_settings
from chalicelib.drills.scenario import MAX_MINUTES, bundled_names, load_bundled, parse_request
from chalicelib.drills.service import check_drill_id
from chalicelib.drills.wiring import drill_service, plan_subjects

bp = Blueprint(__name__)

# Local mode paces each new drill in a thread of its own (see the service's docstring); tests
# turn this off and drive time through ``DrillService.advance``.
PACE_IN_PROCESS = True


def _drill_id(who: Principal, key: str | None) -> str:
    if key:
        return "dr-" + hashlib.sha256(f"{who.name}\x1f{key}".encode()).hexdigest()[:16]
    return "dr-" + uuid.uuid4().hex[:16]


def _pace(drill_id: str, scale: float) -> None:
    def run() -> None:
        try:
            drill_service().pace(drill_id, MAX_MINUTES * 60 * scale + 60)
        except Exception:
            logger.exception("drill pacing failed; the drill_tick schedule takes over")

    threading.Thread(target=run, name=f"drill-{drill_id}", daemon=True).start()


@bp.route("/drills", methods=["POST"])
@api
def start_drill() -> Response:
    request = bp.current_request
    who = require(request, Role.HQ)
    body = json_body(request)
    key = (request.headers if request else {}).get("idempotency-key")
    scenario, note = parse_request(body, plan_subjects())

    def work() -> dict[str, Any]:
        return drill_service().start(who, scenario, note, _drill_id(who, key))

    if key is None:
        answer = work()
    else:
        store = IdempotencyStore(get_clients().table(get_settings().tables.idempotency))
        answer = store.run(f"drill#{who.name}", check_key(key), body, work)
    settings = get_settings()
    if settings.local_mode and PACE_IN_PROCESS and answer.get("state") == "running":
        _pace(str(answer["drill_id"]), settings.time_scale)
    return json_response(answer, status=201)


@bp.route("/drills", methods=["GET"])
@api
def list_drills() -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    return {"drills": drill_service().list()}


@bp.route("/drills/scenarios", methods=["GET"])
@api
def list_scenarios() -> dict[str, Any]:
    require(bp.current_request, Role.VIEWER)
    subjects = plan_subjects()
    found = []
    for name in bundled_names():
        scenario = load_bundled(name, subjects)
        found.append(
            {
                "id": name,
                "name": scenario.name,
                "description": scenario.description,
                "events": len(scenario.events),
                "posts": scenario.post_count,
                "minutes": max(e.at_minutes for e in scenario.events),
            }
        )
    return {"scenarios": found}


@bp.route("/drills/{drill_id}", methods=["GET"])
@api
def drill_report(drill_id: str) -> Response:
    require(bp.current_request, Role.VIEWER)
    fmt = requested_format(bp.current_request)
    report = drill_service().report(check_drill_id(drill_id))
    return respond(report, fmt, drill_document)
