"""Lambda entry points the state machine calls."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.workflow.wiring import workflow_service

bp = Blueprint(__name__)


@bp.lambda_function(name="workflow_step")
def workflow_step(event: Any, context: Any) -> dict[str, Any]:
    """One step of the response workflow: ``{"step", "state", "execution"}`` in, new state out."""
    return workflow_service().run_step(event)
