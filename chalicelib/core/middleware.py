"""Chalice middleware that gives every invocation the same logging and metrics behaviour."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Chalice

from chalicelib.core.observability import logger, metrics


def _lambda_context(event: Any) -> Any:
    # HTTP events carry the Lambda context as ``lambda_context``; other events as ``context``.
    return getattr(event, "lambda_context", None) or getattr(event, "context", None)


def observe(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Tag logs with the function and request id; flush metrics once per invocation."""
    context = _lambda_context(event)
    keys = {
        "function_name": getattr(context, "function_name", None),
        "request_id": getattr(context, "aws_request_id", None),
    }
    # Thread-local keys: local mode runs many invocations at once in one process.
    logger.thread_safe_append_keys(**{k: v for k, v in keys.items() if v})
    try:
        return get_response(event)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
            # A disabled flush (local mode) keeps the values, and at 100 of one metric Powertools
            # prints them anyway: forget them, each invocation reports its own.
            metrics.clear_metrics()
        logger.thread_safe_remove_keys(list(keys))


def register(app: Chalice) -> None:
    app.register_middleware(observe, "all")
