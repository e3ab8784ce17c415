"""HTTP adapters shared by every blueprint: JSON bodies, JSON errors, role checks.

Views stay thin: parse with :func:`json_body`, call one service, return a dict. The
:func:`api` decorator turns any :class:`YuqingError` into its status with a JSON body, and
anything unexpected into a logged 500 that never leaks internals.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, ParamSpec

from chalice import Response
from chalice.app import ChaliceViewError, Request

from chalicelib.core.errors import Problem, ValidationError, YuqingError
from chalicelib.core.observability import logger

P = ParamSpec("P")

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
MAX_BODY_BYTES = 256 * 1024


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False, default=str),
        status_code=status,
        headers={**JSON_HEADERS, **(headers or {})},
    )


def error_response(err: YuqingError) -> Response:
    headers = {"Retry-After": str(err.retry_after)} if err.retry_after is not None else None
    return json_response(err.as_dict(), status=err.status, headers=headers)


def api(view: Callable[P, Any]) -> Callable[P, Response]:
    """Wrap a view: results become JSON 200 (a ``Response`` passes through), errors JSON 4xx/5xx."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            result = view(*args, **kwargs)
        except ChaliceViewError:
            raise  # Chalice answers these itself with their 4xx
        except YuqingError as err:
            if err.status >= 500:
                logger.exception("request failed", extra={"error": err.code})
            return error_response(err)
        except Exception:
            logger.exception("unexpected error")
            return json_response(
                {"error": "internal_error", "message": "internal error; see the logs"}, 500
            )
        if isinstance(result, Response):
            return result
        return json_response(result)

    return wrapper


def query_params(request: Request | None) -> dict[str, str]:
    """The request's query string as a plain dict (Chalice gives None when there is none)."""
    return dict(request.query_params or {}) if request is not None else {}


def json_body(request: Request | None) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    if request is None:  # Chalice types current_request as optional; views always have one
        raise YuqingError("no current request")
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationError(
            "request body too large", [Problem("", f"at most {MAX_BODY_BYTES} bytes")]
        )
    if not raw.strip():
        raise ValidationError("request body is empty", [Problem("", "expected a JSON object")])
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValidationError("request body is not valid JSON", [Problem("", str(err))]) from None
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object", [Problem("", "not an object")])
    return body
