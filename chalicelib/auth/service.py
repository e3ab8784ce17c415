"""Authenticating a request (认证): the bearer token from its header, looked up in the store,
and the caller's role checked against what the route needs (401 without a valid token, 403
below the role)."""

from __future__ import annotations

from typing import Any

from chalicelib.auth.models import Principal, Role
from chalicelib.auth.store import TokenStore
from chalicelib.core.errors import AuthenticationError, ForbiddenError


def bearer_token(headers: Any) -> str:
    """The token from an ``Authorization: Bearer <token>`` header, or an empty string."""
    value = str(headers.get("authorization") or "")
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def authenticate(store: TokenStore, headers: Any, minimum: Role) -> Principal:
    """The caller, who must hold at least ``minimum``: 401 without a valid token, 403 below it."""
    principal = store.lookup(bearer_token(headers))
    if principal is None:
        raise AuthenticationError("a valid bearer token is required")
    if not principal.role.at_least(minimum):
        raise ForbiddenError(f"role {principal.role.value} may not do this; needs {minimum.value}")
    return principal
