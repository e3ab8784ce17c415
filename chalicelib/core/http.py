"""HTTP adapters shared by every blueprint: JSON bodies, JSON errors, role checks, files.

Views stay thin: parse with :func:`json_body`, call one service, return a dict. The
:func:`api` decorator turns any :class:`YuqingError` into its status with a JSON body, and
anything unexpected into a logged 500 that never leaks internals.

A route that answers in more than one format reads ``?format=`` with :func:`requested_format`
and answers a document (Word, Excel) with :func:`file_response`: an attachment under its
(Chinese) file name, never sniffed as anything else. Its type must be in the app's
``binary_types`` (``app.py``) so that API Gateway and Chalice carry it as base64.

Everything a request carries is held to :mod:`chalicelib.core.inputs` before a view sees it:
the body by :func:`json_body`, the query string by :func:`query_params`, path parameters by
:func:`api` — so a NUL, a lone surrogate or a 5,000-digit number is a 400 at the door, never a
500 after some of the request's writes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any, ParamSpec
from urllib.parse import quote

from chalice import Response
from chalice.app import ChaliceViewError, Request

from chalicelib.core.errors import Problem, ValidationError, YuqingError
from chalicelib.core.inputs import check_text, parse_json
from chalicelib.core.observability import logger

P = ParamSpec("P")

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
MAX_BODY_BYTES = 256 * 1024
# Every id in a path is far shorter (≤ 64 characters); a query value is an id, a level, a date.
MAX_PATH_PARAMETER = 200
MAX_QUERY_VALUE = 500
# A character a UTF-8 answer cannot carry (see json_response).
_SURROGATE = re.compile("[\ud800-\udfff]")
# Every answer that is not JSON: a browser must never read it as anything but its type.
NOSNIFF = {"X-Content-Type-Options": "nosniff"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(body, ensure_ascii=False, default=str)
    if _SURROGATE.search(text):
        # Only data stored before inputs were checked can hold a lone surrogate; as a \u escape
        # it is still valid JSON, where a raw one would make the whole answer a 500.
        text = json.dumps(body, default=str)
    return Response(
        body=text,
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
            for name, value in kwargs.items():  # Chalice passes path parameters by name
                if isinstance(value, str):
                    check_text(value, f"/{name}", max_chars=MAX_PATH_PARAMETER)
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
    """The request's query string as a plain dict (Chalice gives None when there is none); a
    name or value that is not acceptable text, or longer than any we use, is a 400."""
    params = dict(request.query_params or {}) if request is not None else {}
    for name, value in params.items():
        check_text(name, "/query", max_chars=MAX_QUERY_VALUE)
        check_text(value, f"/{name}", max_chars=MAX_QUERY_VALUE)
    return params


def json_body(request: Request | None) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what is wrong with it.

    Held to :func:`chalicelib.core.inputs.parse_json`: UTF-8, no NaN or Infinity, numbers that
    fit a DynamoDB Number, at most 32 levels deep, text without NUL, other control characters
    or lone surrogates, no key twice.
    """
    if request is None:  # Chalice types current_request as optional; views always have one
        raise YuqingError("no current request")
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationError(
            "request body too large", [Problem("", f"at most {MAX_BODY_BYTES} bytes")]
        )
    if not raw.strip():
        raise ValidationError("request body is empty", [Problem("", "expected a JSON object")])
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object", [Problem("", "not an object")])
    return body


def requested_format(request: Request | None, formats: tuple[str, ...]) -> str:
    """``?format=``: absent means ``formats[0]`` (JSON); anything else, an empty value
    included, must be one of ``formats``."""
    value = query_params(request).get("format")
    fmt = formats[0] if value is None else value
    if fmt not in formats:
        raise ValidationError(
            "unknown format", [Problem("/format", f"one of {', '.join(formats)}")]
        )
    return fmt


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the real one in RFC 5987 encoding."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("_-")
    if not fallback or fallback.startswith("."):  # 实时舆情.xlsx: never a hidden ".xlsx"
        fallback = f"report{fallback}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(body: bytes, content_type: str, filename: str, status: int = 200) -> Response:
    """A document to download (Word, Excel) as an attachment named ``filename``."""
    return Response(
        body=body,
        status_code=status,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": content_disposition(filename),
            **NOSNIFF,
        },
    )
