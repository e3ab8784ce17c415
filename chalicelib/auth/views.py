"""Routes about the caller, and the one way views authenticate."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.auth.models import Principal, Role
from chalicelib.auth.service import authenticate
from chalicelib.auth.wiring import token_store
from chalicelib.core.http import api
from chalicelib.core.settings import get_settings

bp = Blueprint(__name__)


def require(request: Any, minimum: Role) -> Principal:
    """Authenticate the current request; views call this first."""
    return authenticate(token_store(), request.headers, minimum)


@bp.route("/whoami", methods=["GET"])
@api
def whoami() -> dict[str, Any]:
    """Who the bearer token belongs to; the dashboard uses it to sign in. ``time_scale`` (real
    minutes per plan minute: 1 in production, 0.01 in local mode) lets the dashboard judge a
    countdown in the plan's minutes."""
    principal = require(bp.current_request, Role.VIEWER)
    return {**principal.as_dict(), "time_scale": get_settings().time_scale}
